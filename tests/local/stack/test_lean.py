"""`make local CONFIG=stacks/lean.toml` runs the lean configuration as it is: no NAT, ARM64 and Spot
are AWS placement facts the emulator has no use for, and must not stop it from serving the API."""

from __future__ import annotations

import pytest

from tests.support.processes import REPO

LEAN = REPO / "stacks" / "lean.toml"

pytestmark = pytest.mark.integration


def test_the_emulator_serves_the_lean_stack_unchanged(make_stack, email):
    stack = make_stack(config=LEAN, services=1).start()
    assert [service["name"] for service in stack.page_config["services"]] == ["foodstore"]
    item = {"foodId": "lean-1", "name": "soup"}
    assert stack.request("PUT", "/foodstore/foods/lean-1", item, token=stack.access_token(email)) == (200, item)
    assert stack.request("GET", "/foodstore/foods/lean-1") == (200, item)
    assert stack.stop() == 0
