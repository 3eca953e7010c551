"""itemstore.contract: the facts the generator and the containers share, and what keeps them honest."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from itemstore import gunicorn_conf
from itemstore.contract import (
    DEFAULT_PORT,
    ERROR_CODES,
    ERROR_STATUS,
    GRACEFUL_TIMEOUT_SECONDS,
    MAX_HEADER_FIELD_BYTES,
    MAX_HEADER_FIELDS,
    MAX_ID_BYTES,
    MAX_REQUEST_LINE_BYTES,
)

from tests.support.processes import CONTAINERS


@pytest.mark.integration
def test_settings_and_contract_import_only_the_standard_library():
    # The generator imports both; neither may pull in Flask, werkzeug or botocore.
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import itemstore.settings, itemstore.contract; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'werkzeug', 'botocore', 'gunicorn'}))")
    result = subprocess.run([sys.executable, "-c", code, str(CONTAINERS)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_error_code_has_one_status_and_the_fallback_codes_agree_with_it():
    from itemstore.errors import STATUS_CODES, status_and_code

    assert len(ERROR_CODES) == len(set(ERROR_CODES)) == len(ERROR_STATUS)
    assert all(400 <= status < 600 for status in ERROR_STATUS.values())
    for status, code in STATUS_CODES.items():
        assert ERROR_STATUS[code] == status
    for status in (402, 409, 418, 502, 504):  # statuses with no code of their own
        answered, code = status_and_code(status)
        assert ERROR_STATUS[code] == answered


def test_gunicorn_defaults_come_from_the_contract(monkeypatch):
    for name in ("PORT", "GUNICORN_GRACEFUL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    conf = importlib.reload(gunicorn_conf)
    assert conf.bind == f"0.0.0.0:{DEFAULT_PORT}"
    assert conf.graceful_timeout == GRACEFUL_TIMEOUT_SECONDS
    limits = (conf.limit_request_line, conf.limit_request_fields, conf.limit_request_field_size)
    assert limits == (MAX_REQUEST_LINE_BYTES, MAX_HEADER_FIELDS, MAX_HEADER_FIELD_BYTES)


def test_the_longest_id_fits_the_request_line_and_the_line_fits_api_gateways_quota():
    # Percent-encoded, every byte of an id is 3 characters; API Gateway passes at most 10240 bytes of
    # request line and header values (HTTP API quotas), so a request over the container's limit reaches it.
    assert 3 * MAX_ID_BYTES < MAX_REQUEST_LINE_BYTES < 10240


def test_the_graceful_timeout_ends_before_ecs_default_stop_timeout():
    # ECS sends SIGKILL 30 s after SIGTERM when the task definition sets no stopTimeout.
    assert GRACEFUL_TIMEOUT_SECONDS < 30


def test_gunicorn_drains_for_the_contracts_default_and_the_default_stop_timeout_fits_fargate(monkeypatch):
    # The container's side of the drain contract; tests/template/test_services.py checks the
    # template's StopTimeout against what this module reads from the task definition's environment.
    from itemstore.contract import DEFAULT_DRAIN_SECONDS, STOP_MARGIN_SECONDS, stop_timeout_seconds

    from generator.model.constants import FARGATE_MAX_STOP_TIMEOUT_SECONDS

    for name in ("DRAIN_SECONDS", "GUNICORN_GRACEFUL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    conf = importlib.reload(gunicorn_conf)
    assert conf.drain_seconds == DEFAULT_DRAIN_SECONDS
    assert stop_timeout_seconds() == conf.drain_seconds + conf.graceful_timeout + STOP_MARGIN_SECONDS
    assert stop_timeout_seconds() <= FARGATE_MAX_STOP_TIMEOUT_SECONDS
    monkeypatch.setenv("DRAIN_SECONDS", "7")
    assert importlib.reload(gunicorn_conf).drain_seconds == 7
    monkeypatch.undo()
    importlib.reload(gunicorn_conf)
