"""A deployment that changes a service's container port drops no request: constant GET and PUT load
through the local gateway while foodstore's tasks are replaced by a new task definition revision
whose container port is 8081 instead of 8080 (issue 26).

ECS registers each task in Cloud Map with its own revision's container port, so during the
deployment Cloud Map answers old tasks on 8080 and new ones on 8081, and API Gateway sends requests
to both; the template's VPC link egress covers the whole container port range for that reason
(generator/template/api.py ``_add_vpc_link``, tested in tests/tooling). Here the deployment runs in
ECS's order with the gateway's discovery cache and the tasks' drain as in test_rolling.py (cache
1 s, drain 2 s), and the test checks that both ports were registered at once, that nothing failed,
and that afterwards every registered instance carries the new port.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from ecsapi_local.cloudmap import read_registry
from ecsapi_local.loadgen import Load

pytestmark = [pytest.mark.integration, pytest.mark.long]  # long: constant load through a rolling deploy

CACHE_SECONDS = 1
DRAIN_SECONDS = 2
PAUSE_SECONDS = 0.05  # each load client's pause after an answer, as in test_rolling.py
OLD_PORT, NEW_PORT = 8080, 8081
DISCOVERY = "FoodstoreDiscoveryService"
PATHS = ("/foodstore/foods/", "/petstore/pets/")
# The stage's throttling raised out of the way: the test counts drops, not the token bucket's 429s.
CONFIG = f"""
throttle_rate_limit = 10000
throttle_burst_limit = 5000

[[services]]
name = "foodstore"
path = "/foodstore/foods/{{foodId}}"
port = {OLD_PORT}

[[services]]
name = "petstore"
path = "/petstore/pets/{{petId}}"
"""


def _control(stack, method: str, path: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{stack.ports['control']}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _registered_ports(stack) -> dict[str, int | None]:
    """Cloud Map's answer for foodstore now: instance id -> SRV port."""
    instances = read_registry(stack.work / "cloudmap.json")[DISCOVERY]
    return {i.id: i.port for i in instances if i.deregistered_at is None}


def _watch_registrations(stack, stop: threading.Event, seen: list[frozenset]) -> None:
    """Record each distinct set of SRV ports Cloud Map answers for foodstore until ``stop``."""
    while not stop.is_set():
        ports = frozenset(_registered_ports(stack).values())
        if not seen or seen[-1] != ports:
            seen.append(ports)
        time.sleep(0.02)


def test_a_deploy_that_changes_the_container_port_drops_no_request(make_stack, tmp_path, email):
    config = tmp_path / "stack.toml"
    config.write_text(CONFIG)
    stack = make_stack(services=2, config=config)
    stack.argv += ["--tasks", "2", "--drain-seconds", str(DRAIN_SECONDS),
                   "--discovery-cache-seconds", str(CACHE_SECONDS)]
    stack.start()
    before = _registered_ports(stack)
    assert sorted(before.values()) == [OLD_PORT, OLD_PORT]

    # A port a container cannot take is refused up front, naming the value; nothing is replaced.
    status, answer = _control(stack, "POST", "/services/foodstore/deploy?port=99999")
    assert status == 400 and "99999" in answer["error"]
    assert _registered_ports(stack) == before

    load = Load(stack.ports["api"], stack.access_token(email), PATHS, clients=2, pause=PAUSE_SECONDS).start()
    time.sleep(1.0)  # load at rest first
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=_watch_registrations, args=(stack, stop, seen), daemon=True)
    watcher.start()
    load.phase = "deploying"
    status, answer = _control(stack, "POST", f"/services/foodstore/deploy?port={NEW_PORT}")
    assert (status, len(answer["replaced"])) == (200, 2), answer
    time.sleep(CACHE_SECONDS + DRAIN_SECONDS + 1)  # until the last old task has left every cache and exited
    stop.set()
    watcher.join(5)
    load.stop()

    # Old tasks on the old port and new ones on the new port were registered at once.
    assert frozenset({OLD_PORT, NEW_PORT}) in seen, seen
    assert load.sent_in["deploying"] > 100, f"too little load to prove anything: {load.sent_in}"
    assert load.failures == [], f"{len(load.failures)} of {load.sent} failed: {load.failures[:10]}"
    assert set(load.statuses) == {200}
    # Afterwards only new-revision tasks are registered, every one with the new port ...
    after = _registered_ports(stack)
    assert sorted(after.values()) == [NEW_PORT, NEW_PORT]
    assert not set(after) & set(before)
    status, tasks = _control(stack, "GET", "/tasks")
    assert [(t["containerPort"], t["revision"]) for t in tasks["foodstore"]] == [(NEW_PORT, 2)] * 2
    assert [(t["containerPort"], t["revision"]) for t in tasks["petstore"]] == [(8080, 1)] * 2
    # ... the old ones drained and exited, and what was written is read back from the new ones.
    assert stack.output.count("Draining: SIGTERM received") == 2
    assert "exited with status" not in stack.output
    for path, n in load.acknowledged.items():
        status, item = stack.request("GET", path)
        assert (status, item["n"]) == (200, n), path
