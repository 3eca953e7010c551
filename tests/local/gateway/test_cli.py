"""``python -m ecsapi_local.gateway``: it says where it listens, stops cleanly on SIGTERM, and
refuses a taken port or an unservable template with one clear line."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

import pytest

from generator import StackConfig
from tests.support.gateway import GatewayProcess, resolution
from tests.support.processes import REPO
from tests.support.templates import template_of

pytestmark = pytest.mark.integration


def run_cli(tmp_path, template: dict, resolution_text: str, bind: str) -> subprocess.CompletedProcess:
    (tmp_path / "t.json").write_text(json.dumps(template))
    (tmp_path / "r.json").write_text(resolution_text)
    return subprocess.run([sys.executable, "-m", "ecsapi_local.gateway", "--template", str(tmp_path / "t.json"),
                           "--resolution", str(tmp_path / "r.json"), "--bind", bind],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def test_it_logs_where_it_listens_and_stops_cleanly_on_sigterm(tmp_path, request):
    gateway = GatewayProcess(tmp_path, template_of(StackConfig()), resolution()).start()
    request.addfinalizer(gateway.stop)
    # Logged at INFO: where the gateway listens is news, not a warning.
    assert f"gateway INFO local gateway listening on http://127.0.0.1:{gateway.port}" in gateway.log()
    assert "WARNING local gateway listening" not in gateway.log()
    assert gateway.request("GET", "/nope")[0] == 404
    gateway.signal(signal.SIGTERM)
    assert gateway.process.wait(15) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", gateway.port), timeout=1).close()
    assert "Traceback" not in gateway.log()


def test_a_port_in_use_is_refused_naming_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(tmp_path, template_of(StackConfig()), resolution().to_json(), f"127.0.0.1:{port}")
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unservable_template_is_one_line_naming_the_logical_id(tmp_path):
    text = resolution(upstreams={"FoodstoreDiscoveryService": "http://127.0.0.1:9001"}).to_json()
    result = run_cli(tmp_path, template_of(StackConfig()), text, "127.0.0.1:0")
    assert result.returncode == 2
    assert result.stderr.startswith("gateway: PetstoreIntegration: its Cloud Map service PetstoreDiscoveryService")
    assert "Traceback" not in result.stderr


def test_a_bad_bind_is_a_usage_error(tmp_path):
    result = run_cli(tmp_path, template_of(StackConfig()), resolution().to_json(), "localhost")
    assert result.returncode == 2
    assert "is not HOST:PORT" in result.stderr


def test_with_the_access_log_off_it_still_says_where_it_listens_at_info(tmp_path, request):
    gateway = GatewayProcess(tmp_path, template_of(StackConfig()), resolution(), "--no-access-log").start()
    request.addfinalizer(gateway.stop)
    assert gateway.request("GET", "/nope")[0] == 404
    log = gateway.log()
    assert f"gateway INFO local gateway listening on http://127.0.0.1:{gateway.port}" in log
    assert "GET /nope 404" not in log  # the access log is off
