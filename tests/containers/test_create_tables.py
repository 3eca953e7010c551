"""scripts/create_tables.py against a real dynalite: tables keyed as the template keys them, reruns
that change nothing, and one-line errors for a missing endpoint, a down server or a wrong key."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from generator.model.config import DEFAULT_SERVICES
from generator.model.config_file import load_config
from generator.template.storage import key_schema
from tests.support.processes import AWS_TEST_ENV, REPO, Dynalite

pytestmark = pytest.mark.integration

SCRIPT = REPO / "scripts" / "create_tables.py"


@pytest.fixture
def empty_dynalite(tmp_path):
    server = Dynalite(tmp_path / "data", tmp_path / "dynalite.log").start()
    yield server
    server.stop()


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DYNAMODB_ENDPOINT_URL"} | AWS_TEST_ENV | (env or {})
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=environment, cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def _keys(server: Dynalite, name: str) -> dict:
    table = server.client().describe_table(TableName=name)["Table"]
    return {"AttributeDefinitions": table["AttributeDefinitions"], "KeySchema": table["KeySchema"]}


def test_creates_one_table_per_default_service_keyed_as_the_template(empty_dynalite):
    result = _run("--endpoint-url", empty_dynalite.url)
    assert result.returncode == 0, result.stderr
    for service in DEFAULT_SERVICES:
        assert _keys(empty_dynalite, service.name) == key_schema(service)
        assert f"created {service.name} (hash key {service.key_attribute}, S)" in result.stdout
    assert sorted(empty_dynalite.client().list_tables()["TableNames"]) == sorted(s.name for s in DEFAULT_SERVICES)


def test_a_rerun_finds_the_tables_and_changes_nothing(empty_dynalite):
    assert _run("--endpoint-url", empty_dynalite.url).returncode == 0
    again = _run("--endpoint-url", empty_dynalite.url)
    assert again.returncode == 0, again.stderr
    assert [line.split()[0] for line in again.stdout.splitlines()] == ["exists"] * len(DEFAULT_SERVICES)


def test_the_services_and_the_endpoint_come_from_config_and_environment(empty_dynalite):
    config = REPO / "stacks" / "three-services.toml"
    result = _run("--config", str(config), "--prefix", "dev-",
                  env={"DYNAMODB_ENDPOINT_URL": empty_dynalite.url, "AWS_REGION": "eu-west-1"})
    assert result.returncode == 0, result.stderr
    for service in load_config(config).services:
        assert _keys(empty_dynalite, f"dev-{service.name}") == key_schema(service)


def test_a_table_with_another_key_is_an_error_naming_it(empty_dynalite):
    food = DEFAULT_SERVICES[0]
    empty_dynalite.client().create_table(
        TableName=food.name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "other", "KeyType": "HASH"}])
    result = _run("--endpoint-url", empty_dynalite.url)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert f"table {food.name} exists with key" in line and food.key_attribute in line


def test_no_endpoint_is_refused_before_anything_is_sent():
    result = _run()
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "--endpoint-url" in line and "DYNAMODB_ENDPOINT_URL" in line


def test_a_bad_config_names_the_setting(tmp_path, empty_dynalite):
    config = tmp_path / "bad.toml"
    config.write_text('[[services]]\nname = "Food Store"\npath = "/food/{id}"\n')
    result = _run("--endpoint-url", empty_dynalite.url, "--config", str(config))
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "name" in result.stderr
    assert empty_dynalite.client().list_tables()["TableNames"] == []


def test_a_server_that_is_down_is_one_line_within_seconds(closed_port):
    started = time.monotonic()
    result = _run("--endpoint-url", f"http://127.0.0.1:{closed_port}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"create_tables.py: table {DEFAULT_SERVICES[0].name}: ")
    assert time.monotonic() - started < 30
