"""Draining under a real gunicorn: after SIGTERM the task keeps serving for DRAIN_SECONDS, says so in
/health and the access log, then stops gracefully. This is also what a task sees when Fargate Spot
reclaims it or ECS scales in: one SIGTERM, no deployment around it."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time

import pytest
from itemstore.contract import HEALTH_DRAINING, HEALTH_OK, HEALTH_PATH, STOP_MARGIN_SECONDS

from tests.support.containers import SERVICES
from tests.support.processes import http_request

pytestmark = pytest.mark.integration

SERVICE = SERVICES[0]
DRAIN = 2
GRACEFUL = 2


def _refused(port: int) -> bool:
    try:
        http_request(port, "GET", HEALTH_PATH, timeout=1)
        return False
    except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
        return True


def test_a_sigterm_with_no_deployment_drains_then_stops(start_gunicorn, dynalite):
    server = start_gunicorn(SERVICE, DYNAMODB_ENDPOINT_URL=dynalite.url, DRAIN_SECONDS=str(DRAIN),
                            GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL))
    status, headers, body = server.request("GET", HEALTH_PATH)
    assert (status, json.loads(body)["status"], headers["Connection"]) == (200, HEALTH_OK, "keep-alive")
    server.signal(signal.SIGTERM)  # what ECS sends on Spot reclaim, scale-in or deployment
    signalled = time.monotonic()
    time.sleep(0.3)  # the master handles queued signals within its loop's second

    # Draining: still accepting and serving, new connections too, every answer closing its connection.
    status, headers, body = server.request("PUT", SERVICE.url("drained-put"), {"n": 7})
    assert status == 200, body
    assert headers["Connection"] == "close"
    status, _, body = server.request("GET", SERVICE.url("drained-put"))
    assert (status, json.loads(body)["n"]) == (200, 7)
    status, _, body = server.request("GET", HEALTH_PATH)
    health = json.loads(body)
    assert status == 200, "a draining task is alive: ECS's health check must keep passing"
    assert health["status"] == HEALTH_DRAINING and 0 < health["drain_seconds_left"] <= DRAIN
    assert server.process.poll() is None

    # Then the listeners close and the master exits, well within drain + graceful + margin.
    assert server.process.wait(DRAIN + GRACEFUL + STOP_MARGIN_SECONDS) == 0
    stopped = time.monotonic() - signalled
    assert DRAIN - 0.2 <= stopped, f"stopped {stopped:.1f} s after SIGTERM, before the {DRAIN} s drain"
    assert _refused(server.port)
    log = server.log()
    assert "Draining: SIGTERM received" in log
    drained_lines = [line for line in log.splitlines() if '"PUT ' in line and "drained-put" in line]
    assert drained_lines and all(line.endswith(" draining") for line in drained_lines), drained_lines
    first_health = next(line for line in log.splitlines() if '"GET /health ' in line)
    assert not first_health.endswith(" draining")


def test_a_request_in_flight_when_the_drain_ends_still_finishes(start_gunicorn, slow_dynamodb):
    service = SERVICE
    slow = slow_dynamodb(delay=1.5)
    server = start_gunicorn(service, DYNAMODB_ENDPOINT_URL=slow.url, DRAIN_SECONDS="1",
                            GUNICORN_GRACEFUL_TIMEOUT="5")
    server.signal(signal.SIGTERM)
    time.sleep(0.5)
    result = {}

    def put() -> None:  # arrives during the drain, still in flight when the listeners close
        result["response"] = server.request("PUT", service.url("late"), {"n": 1}, timeout=15)

    client = threading.Thread(target=put)
    client.start()
    assert slow.arrived.wait(5), "the request never reached DynamoDB"
    client.join(15)
    assert result["response"][0] == 200, result["response"][2]
    assert server.process.wait(10) == 0


def test_a_second_sigterm_does_not_cut_the_drain_short(start_gunicorn, dynalite):
    server = start_gunicorn(SERVICE, DYNAMODB_ENDPOINT_URL=dynalite.url, DRAIN_SECONDS=str(DRAIN),
                            GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL))
    server.signal(signal.SIGTERM)
    time.sleep(0.3)
    server.signal(signal.SIGTERM)
    time.sleep(1.0)
    assert server.request("GET", HEALTH_PATH)[0] == 200
    assert "SIGTERM while draining: ignored" in server.log()
    assert server.process.wait(DRAIN + GRACEFUL + STOP_MARGIN_SECONDS) == 0


def test_with_drain_0_sigterm_closes_the_listeners_at_once(start_gunicorn, dynalite):
    server = start_gunicorn(SERVICE, DYNAMODB_ENDPOINT_URL=dynalite.url, DRAIN_SECONDS="0")
    server.signal(signal.SIGTERM)
    assert server.process.wait(5) == 0
    assert "Draining" not in server.log()
    assert _refused(server.port)


def test_sigint_stops_at_once_even_while_draining(start_gunicorn, dynalite):
    server = start_gunicorn(SERVICE, DYNAMODB_ENDPOINT_URL=dynalite.url, DRAIN_SECONDS="30")
    server.signal(signal.SIGTERM)
    time.sleep(0.3)
    started = time.monotonic()
    server.signal(signal.SIGINT)
    assert server.process.wait(5) == 0
    assert time.monotonic() - started < 5
