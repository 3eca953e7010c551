"""Each service under a real gunicorn (the image's CMD and config module) over real HTTP, with
dynalite as DynamoDB: round trips, health, graceful shutdown, persistence, DynamoDB outages."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from itemstore import contract
from itemstore.contract import HEALTH_PATH, MAX_ITEM_BYTES

pytestmark = pytest.mark.integration


def _json(body: bytes):
    return json.loads(body, parse_float=Decimal, parse_int=Decimal)


def test_put_then_get_round_trips_over_http(gunicorn_servers, service):
    server = gunicorn_servers[service.name]
    item = {"name": "Ünïcode ✓ 🍕", "price": 12.50, "big": 12345678901234567890123456789012345678,
            "tiny": 1e-130, "tags": ["a", True, None, {"deep": [1, 2.5]}]}
    status, headers, body = server.request("PUT", service.url("http-1"), item)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    stored = _json(body)
    assert stored[service.table_key] == "http-1"
    status, _, body = server.request("GET", service.url("http-1"))
    assert status == 200
    assert _json(body) == stored == {**_json(json.dumps(item).encode()), service.table_key: "http-1"}


def test_each_image_serves_only_its_own_path(gunicorn_servers, services):
    food, pet = services
    status, _, body = gunicorn_servers[food.name].request("GET", pet.url("x"))
    assert status == 404
    assert _json(body)["error"]["code"] == contract.ERROR_NOT_FOUND


def test_chunked_body_over_400_kb_is_413(gunicorn_servers, service):
    # No Content-Length: the app must count what it reads.
    server = gunicorn_servers[service.name]
    body = json.dumps({"blob": "x" * MAX_ITEM_BYTES}).encode()
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("PUT", service.url("chunked"), body=chunks, encode_chunked=True,
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == contract.ERROR_ITEM_TOO_LARGE
    finally:
        connection.close()
    assert server.request("GET", service.url("chunked"))[0] == 404


def test_chunked_body_under_the_limit_is_stored(gunicorn_servers, service):
    server = gunicorn_servers[service.name]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("PUT", service.url("chunked-ok"), body=iter([b'{"a":', b' 1}']), encode_chunked=True,
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_health_answers_without_touching_dynamodb(start_gunicorn, service, blackhole):
    # DynamoDB "up" but never answering: liveness must still be 200, immediately.
    server = start_gunicorn(service, DYNAMODB_ENDPOINT_URL=f"http://127.0.0.1:{blackhole}")
    started = time.monotonic()
    status, _, body = server.request("GET", HEALTH_PATH)
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert time.monotonic() - started < 0.5


def test_healthcheck_module_exit_codes(gunicorn_servers, service, dockerfiles, closed_port):
    """The image's HEALTHCHECK command exits 0 against a live server and 1 against a closed port."""
    command = dockerfiles[service.name].healthcheck[1:]  # drop "CMD"
    assert command[0] == "python"
    argv = [sys.executable, *command[1:]]
    env = {"PYTHONPATH": str(gunicorn_servers[service.name].env["PYTHONPATH"])}
    live = subprocess.run(argv, env={**env, "PORT": str(gunicorn_servers[service.name].port)}, timeout=10)
    assert live.returncode == 0
    dead = subprocess.run(argv, env={**env, "PORT": str(closed_port)}, timeout=10)
    assert dead.returncode == 1


ACCESS_LINE = re.compile(
    r'^(?P<addr>\S+) - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] '
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.1" (?P<status>\d{3}) (?P<length>\d+|-) (?P<micros>\d+) (?P<trace>.+)$',
    re.MULTILINE)


def _access_lines(server, marker: str) -> list[dict]:
    deadline = time.monotonic() + 3
    while marker not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    return [m.groupdict() for m in ACCESS_LINE.finditer(server.log()) if marker in m["path"]]


def test_access_log_goes_to_stdout_one_line_per_request(gunicorn_servers, service):
    server = gunicorn_servers[service.name]
    trace = 'Root=1-65e6f0a6-0123456789abcdef01234567;Parent="q\\"'
    _, _, body = server.request("GET", service.url("logged-id"), headers={"X-Amzn-Trace-Id": trace})
    server.request("PUT", service.url("logged-put"), {"a": 1})
    (line,) = _access_lines(server, "logged-id")
    assert line["addr"] == "127.0.0.1"
    assert (line["method"], line["path"], line["status"]) == ("GET", service.url("logged-id"), "404")
    assert int(line["length"]) == len(body)
    assert 0 < int(line["micros"]) < 10_000_000
    assert line["trace"] == '"Root=1-65e6f0a6-0123456789abcdef01234567;Parent=\\"q\\\\\\""'
    (put,) = _access_lines(server, "logged-put")
    assert (put["method"], put["status"], put["trace"]) == ("PUT", "200", "-")
    assert f'"GET {service.url("logged-id")} HTTP/1.1" 404' in server.log()


def test_gunicorn_writes_nothing_outside_tmp(gunicorn_servers, service):
    # The task's root filesystem is read-only; HOME and the working directory must stay untouched.
    server = gunicorn_servers[service.name]
    server.request("GET", service.url("anything"))
    home = server.env["HOME"]
    assert list(__import__("pathlib").Path(home).iterdir()) == []
    assert sorted(p.name for p in server.log_path.parent.iterdir()) == ["gunicorn.log", "home"]


def test_sigterm_lets_an_in_flight_request_finish(start_gunicorn, slow_dynamodb, dynalite, service):
    slow = slow_dynamodb(delay=1.5)
    server = start_gunicorn(service, DYNAMODB_ENDPOINT_URL=slow.url)
    result = {}

    def put() -> None:
        result["response"] = server.request("PUT", service.url("in-flight"), {"n": 1}, timeout=15)

    client = threading.Thread(target=put)
    client.start()
    assert slow.arrived.wait(5), "the request never reached DynamoDB"
    server.signal(signal.SIGTERM)
    client.join(15)
    status, _, body = result["response"]
    assert status == 200, body
    assert server.process.wait(15) == 0
    assert "Handling signal: term" in server.log()
    stored = dynalite.client().get_item(TableName=service.table_name, Key={service.table_key: {"S": "in-flight"}})
    assert stored["Item"]["n"] == {"N": "1"}


@pytest.mark.parametrize("outage", ["closed port", "never answers"])
def test_unreachable_dynamodb_is_a_503_within_the_bound(start_gunicorn, service, blackhole, closed_port, outage):
    port = closed_port if outage == "closed port" else blackhole
    server = start_gunicorn(service, DYNAMODB_ENDPOINT_URL=f"http://127.0.0.1:{port}",
                            DYNAMODB_CONNECT_TIMEOUT="0.3", DYNAMODB_READ_TIMEOUT="0.4",
                            DYNAMODB_MAX_ATTEMPTS="2", RETRY_AFTER_SECONDS="3")
    # 2 attempts x (0.3 s + 0.4 s) + at most 1 s of jittered backoff.
    bound = 2 * (0.3 + 0.4) + 1
    for method, body in (("GET", None), ("PUT", {"a": 1})):
        started = time.monotonic()
        status, headers, data = server.request(method, service.url("down"), body, timeout=10)
        elapsed = time.monotonic() - started
        assert status == 503, data
        assert headers["Retry-After"] == "3"
        assert json.loads(data)["error"]["code"] == contract.ERROR_DYNAMODB_UNAVAILABLE
        assert elapsed < bound + 0.5, f"{method} took {elapsed:.2f} s"


def test_items_survive_a_dynalite_restart(own_dynalite, start_gunicorn, services):
    # Its own dynalite: restarting the session's would disturb the other tests.
    servers = {s.name: start_gunicorn(s, DYNAMODB_ENDPOINT_URL=own_dynalite.url) for s in services}
    for service in services:
        status, _, _ = servers[service.name].request("PUT", service.url("kept"), {"v": service.name})
        assert status == 200
    own_dynalite.restart()  # same --path and port
    for service in services:
        status, _, body = servers[service.name].request("GET", service.url("kept"))
        assert status == 200, body
        assert json.loads(body) == {service.table_key: "kept", "v": service.name}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _open_sockets(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


def test_connections_are_spread_over_the_workers(start_gunicorn, dynalite, service):
    # With one shared listening socket a burst of new connections can all land on one worker;
    # each worker's own SO_REUSEPORT socket lets the kernel spread them.
    server = start_gunicorn(service, DYNAMODB_ENDPOINT_URL=dynalite.url, GUNICORN_WORKERS="2")
    deadline = time.monotonic() + 10
    while len(workers := _children(server.process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    idle = {pid: _open_sockets(pid) for pid in workers}
    connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(32)]
    try:
        for connection in connections:
            connection.connect()
        for connection in connections:  # kept alive: each stays open on the worker that accepted it
            connection.request("GET", HEALTH_PATH)
            assert connection.getresponse().read() == b'{"status": "ok"}'
        held = {pid: _open_sockets(pid) - idle[pid] for pid in workers}
        assert 30 <= sum(held.values()) <= 34, held  # the readiness probe's socket may come and go
        assert min(held.values()) >= 4, held  # binomial(32, 1/2): below 4 has odds of about 1e-6
    finally:
        for connection in connections:
            connection.close()
