"""No request dropped while tasks come and go: constant GET and PUT load through the local gateway
while every task of every service is replaced in ECS's order and then one is scaled in.

The gateway emulates API Gateway's cache of Cloud Map's answer (it keeps sending requests to a
deregistered task for --discovery-cache-seconds), so the outcome depends on the tasks' drain: with
a drain longer than the cache nothing fails; with drain 0 (gunicorn's own SIGTERM) requests fail,
which is the bug of aws/containers-roadmap#1639 this stack works around. Short settings keep the
test to seconds: drain 2 s, cache 1 s.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from ecsapi_local.loadgen import Load

pytestmark = [pytest.mark.integration, pytest.mark.long]  # long: constant load through rolling replaces and a scale-in

CACHE_SECONDS = 1
DRAIN_SECONDS = 2
SERVICES = {"foodstore": "/foodstore/foods/", "petstore": "/petstore/pets/"}
CLIENTS_PER_SERVICE = 2
# Each client pauses this long after each answer: about 18 requests a second per client instead of
# as many as the machine can answer, so the test does not take both cores for its whole run, and
# its four clients still send a request every ~15 ms through every step of the replace, where a
# task that stops before it leaves the gateway's cache fails requests for a whole second. (At 0.02 s,
# ~45 a second per client, the file took 35-42 s of CPU here; at 0.05 s, 27-30 s.)
PAUSE_SECONDS = 0.05
# The stage's throttling raised out of the way: the test counts drops, not the token bucket's 429s.
CONFIG = """
throttle_rate_limit = 10000
throttle_burst_limit = 5000

[[services]]
name = "foodstore"
path = "/foodstore/foods/{foodId}"

[[services]]
name = "petstore"
path = "/petstore/pets/{petId}"
"""


def _control(stack, path: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{stack.ports['control']}{path}", method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _replace_everything_under_load(make_stack, tmp_path, email: str, drain_seconds: int) -> tuple[Load, object]:
    config = tmp_path / "stack.toml"
    config.write_text(CONFIG)
    stack = make_stack(services=2, config=config)
    stack.argv += ["--tasks", "2", "--drain-seconds", str(drain_seconds),
                   "--discovery-cache-seconds", str(CACHE_SECONDS)]
    stack.start()
    load = Load(stack.ports["api"], stack.access_token(email), tuple(SERVICES.values()), CLIENTS_PER_SERVICE,
                pause=PAUSE_SECONDS).start()
    time.sleep(1.0)  # load at rest first
    load.phase = "replacing"
    for service in SERVICES:
        assert len(_control(stack, f"/services/{service}/deploy")["replaced"]) == 2
    _control(stack, "/services/foodstore/scale-in")
    time.sleep(CACHE_SECONDS + DRAIN_SECONDS + 1)  # until the last deregistered task has left every cache
    load.stop()
    return load, stack


def test_a_rolling_replace_and_a_scale_in_under_load_drop_no_request(make_stack, tmp_path, email):
    load, stack = _replace_everything_under_load(make_stack, tmp_path, email, DRAIN_SECONDS)
    sent = load.sent
    assert load.sent_in["replacing"] > 100, f"too little load to prove anything: {load.sent_in}"
    assert load.failures == [], f"{len(load.failures)} of {sent} failed: {load.failures[:10]}"
    assert load.connection_errors == 0
    assert set(load.statuses) == {200}
    # Every acknowledged PUT is readable afterwards, from whichever task answers now.
    for path, n in load.acknowledged.items():
        status, item = stack.request("GET", path)
        assert (status, item["n"]) == (200, n), path
    # The stopped tasks drained (and said so), then exited; the stack saw no failure.
    assert stack.output.count("Draining: SIGTERM received") == 5  # 2 + 2 replaced, 1 scaled in
    assert "exited with status" not in stack.output


def test_the_same_replace_without_a_drain_drops_requests(make_stack, tmp_path, email):
    # The twin of the test above, with gunicorn's own SIGTERM: requests the gateway still sends to
    # a deregistered task from its cache fail (503 from the gateway: the task refused the connection).
    load, _ = _replace_everything_under_load(make_stack, tmp_path, email, 0)
    assert load.failures, f"no request failed without a drain: {load.statuses}"
    assert load.statuses[503] > 0
