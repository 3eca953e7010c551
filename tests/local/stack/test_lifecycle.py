"""Stopping the local stack leaves nothing behind, starting it again finds the items written
before, and a component that dies takes the whole stack down with a non-zero status."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from ecsapi_local.supervisor import port_free
from tests.support.processes import REPO, alive

pytestmark = pytest.mark.integration


def _assert_all_gone(stack, pids: set[int]) -> None:
    assert pids, "no processes were recorded"
    assert [pid for pid in pids if alive(pid)] == []
    for port in stack.listening_ports():
        assert port_free(port), port


def test_sigterm_stops_everything_and_a_restart_finds_the_items(make_stack, email):
    first = make_stack().start()
    token = first.access_token(email)
    item = {"foodId": "apple", "colour": "green", "price": 1.25}
    assert first.request("PUT", "/foodstore/foods/apple", item, token) == (200, item)
    pool_id = first.page_config["userPoolId"]

    pids = first.process_tree()
    # dynalite, moto, two gunicorn masters and their workers, the gateway, the page: all descend from it.
    assert len(pids) >= 7, pids
    assert first.stop() == 0
    assert first.lines[-1].endswith("| stopped")
    _assert_all_gone(first, pids)

    second = make_stack(data=first.data, ports=first.ports).start()
    assert "table ecsapi-local-FoodstoreTable kept (FoodstoreTable)" in second.output
    assert second.request("GET", "/foodstore/foods/apple") == (200, item)
    # moto keeps users in memory only (README): the pool is re-created with the same id, empty.
    assert second.page_config["userPoolId"] == pool_id
    idp = second.client("cognito-idp")
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool_id, Username=email)
    assert second.stop() == 0


def test_a_component_that_dies_stops_the_stack_with_status_1(make_stack):
    stack = make_stack().start()
    pids = stack.process_tree()
    victim = int(re.search(r"petstore-\d+ is up \(pid (\d+)\)", stack.output).group(1))
    os.killpg(victim, signal.SIGKILL)  # the whole container: gunicorn's master and its worker
    assert stack.wait_exit() == 1
    assert re.search(r"\| petstore-\d+ exited with status -9; stopping the stack$", stack.output, re.MULTILINE)
    _assert_all_gone(stack, pids)


def test_ctrl_c_during_start_stops_what_was_started(make_stack):
    stack = make_stack().start(wait=False)
    deadline = time.monotonic() + 120
    while "dynamodb is up" not in stack.output:
        assert stack.process.poll() is None and time.monotonic() < deadline, stack.output
        time.sleep(0.05)
    pids = stack.process_tree()
    stack.process.send_signal(signal.SIGINT)
    assert stack.wait_exit() == 0
    assert "SIGINT: stopping" in stack.output and "Ctrl-C stops everything." not in stack.output
    _assert_all_gone(stack, pids)


def test_make_local_reset_wipes_the_data_and_nothing_else(tmp_path):
    (tmp_path / "data" / "dynamodb").mkdir(parents=True)
    (tmp_path / "data" / "dynamodb" / "000001.log").write_text("items")
    (tmp_path / "config.json").write_text("{}")
    subprocess.run(["make", "--no-print-directory", "local-reset", f"LOCAL_DIR={tmp_path}"], cwd=REPO, check=True,
                   capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]
