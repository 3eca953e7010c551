"""gunicorn_conf under a real gunicorn: a bad setting stops the server with one line before any worker
boots, and the log says where the server listens."""

from __future__ import annotations

import re
import subprocess

import pytest
from itemstore.gunicorn_conf import CONFIG_ERROR_EXIT

from tests.support.containers import SERVICES, Gunicorn

pytestmark = pytest.mark.integration

FOOD = SERVICES[0]


def _run_with(dockerfiles, tmp_path, unset=(), **env) -> subprocess.CompletedProcess:
    """The image's CMD under gunicorn with the test's environment, run to its end."""
    (tmp_path / "home").mkdir()
    server = Gunicorn(FOOD, dockerfiles[FOOD.name], tmp_path / "gunicorn.log", env, tmp_path / "home")
    for name in unset:
        server.env.pop(name, None)
    return subprocess.run(server.argv, env=server.env, cwd=tmp_path, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(("unset", "env", "named", "allowed"), [
    (("TABLE_NAME",), {}, "TABLE_NAME", "required"),
    ((), {"ITEM_PATH_PREFIX": "/foodstore/foods/"}, "ITEM_PATH_PREFIX", "no trailing '/'"),
    ((), {"DYNAMODB_READ_TIMEOUT": "soon"}, "DYNAMODB_READ_TIMEOUT", "a number of seconds"),
    ((), {"DYNAMODB_MAX_ATTEMPTS": "10"}, "DYNAMODB_MAX_ATTEMPTS", "below API Gateway's 30 s"),
    ((), {"PORT": "http"}, "PORT", "an integer from 1024 to 65535"),
    ((), {"GUNICORN_WORKERS": "0"}, "GUNICORN_WORKERS", "an integer from 1 to 64"),
    ((), {"DRAIN_SECONDS": "121"}, "DRAIN_SECONDS", "an integer from 0 to 120"),
    (("AWS_REGION", "AWS_DEFAULT_REGION"), {}, "AWS_REGION", "required"),
    # The regional (https) endpoint through a proxy the client would ignore (settings.check_no_proxy).
    ((), {"HTTPS_PROXY": "http://proxy.internal:3128"}, "HTTPS_PROXY", "NO_PROXY"),
], ids=["TABLE_NAME unset", "bad prefix", "bad timeout", "worst case over the gateway", "bad PORT", "no workers",
        "drain over 120 s", "no region", "an https proxy"])
def test_a_bad_setting_stops_gunicorn_with_one_line_naming_it(dockerfiles, tmp_path, unset, env, named, allowed):
    result = _run_with(dockerfiles, tmp_path, unset, **env)
    output = result.stdout + result.stderr
    assert result.returncode == CONFIG_ERROR_EXIT, output
    assert "Traceback" not in output
    assert "Booting worker" not in output  # stopped in the master, before any worker
    lines = [line for line in result.stderr.splitlines() if named in line]
    assert len(lines) == 1, output
    assert lines[0].startswith("itemstore: configuration error: ") and allowed in lines[0], lines[0]


def test_the_log_says_where_gunicorn_listens(gunicorn_servers, service):
    server = gunicorn_servers[service.name]
    log = server.log()
    url = f"http://127.0.0.1:{server.port}"
    assert "Listening at:  " not in log  # gunicorn's own line, empty with per-worker sockets
    assert re.search(rf"\[INFO\] Listening at: {re.escape(url)} \(one SO_REUSEPORT socket per worker\) \(\d+\)", log), log
    workers = re.findall(rf"\[INFO\] Worker (\d+) listening at: {re.escape(url)}$", log, re.MULTILINE)
    assert len(workers) >= int(server.env["GUNICORN_WORKERS"]), log


def test_a_refused_proxy_keeps_its_password_out_of_the_log(dockerfiles, tmp_path):
    result = _run_with(dockerfiles, tmp_path, https_proxy="http://user:s3cret@proxy.internal:3128")
    assert result.returncode == CONFIG_ERROR_EXIT, result.stderr
    assert "https_proxy" in result.stderr and "s3cret" not in result.stdout + result.stderr
