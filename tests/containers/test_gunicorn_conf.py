"""gunicorn_conf under a real gunicorn: a bad setting stops the server with one line before any worker
boots, and the log says where the server listens."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from itemstore.gunicorn_conf import CONFIG_ERROR_EXIT, least_used_cpu

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


@pytest.mark.parametrize(("allowed", "taken", "chosen"), [
    ({0, 1}, [], 0),
    ({0, 1}, [0], 1),
    ({0, 1}, [1], 0),
    ({0, 1}, [0, 1], 0),
    ({0, 1}, [0, 1, 0], 1),
    ({2, 3, 5}, [2, 3], 5),
    ({2, 3}, [0, 1], 2),  # CPUs the container may no longer use are not counted
], ids=["first", "second", "freed first", "all taken once", "fewest", "any numbers", "stale"])
def test_a_worker_gets_the_cpu_fewest_live_workers_hold(allowed, taken, chosen):
    assert least_used_cpu(allowed, taken) == chosen


def _allowed_cpus(pid: int) -> str:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Cpus_allowed_list:"))


def _workers_by_pid(server) -> dict[int, str]:
    """The live workers' pids (from the log) and the CPUs each may run on."""
    pids = {int(pid) for pid in re.findall(r"\[INFO\] Worker (\d+) runs on CPU", server.log())}
    found = {}
    for pid in pids:
        try:
            found[pid] = _allowed_cpus(pid)
        except (OSError, StopIteration):
            continue  # exited
    return found


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to pin two workers apart")
def test_each_worker_runs_on_its_own_cpu_and_a_replacement_takes_the_freed_one(start_gunicorn, dynalite):
    server = start_gunicorn(FOOD, DYNAMODB_ENDPOINT_URL=dynalite.url, GUNICORN_WORKERS="2")
    deadline = time.monotonic() + 20
    while len(workers := _workers_by_pid(server)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) == 2, server.log()
    assert all(re.fullmatch(r"\d+", cpus) for cpus in workers.values()), workers  # one CPU each
    assert len(set(workers.values())) == 2, workers
    # A worker that dies is replaced by the master; the new one takes the CPU the dead one held.
    victim, freed = next(iter(workers.items()))
    os.kill(victim, signal.SIGKILL)
    while time.monotonic() < deadline + 20:
        now = _workers_by_pid(server)
        if victim not in now and len(now) == 2:
            break
        time.sleep(0.1)
    assert victim not in now and len(now) == 2, server.log()
    assert sorted(now.values()) == sorted(workers.values()), (workers, now)
    assert server.request("GET", "/health")[0] == 200
