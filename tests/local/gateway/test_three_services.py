"""A service added in the configuration (stacks/three-services.toml: orders on /shop/orders, GET
protected too, its own throttling) is served end to end with no change to the gateway's code."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shop(start_stack, three_services_config):
    return start_stack(three_services_config)


def test_every_configured_service_has_its_container_behind_the_gateway(shop, three_services_config):
    assert sorted(shop.containers) == sorted(spec.name for spec in three_services_config.services)
    assert "orders" in shop.containers


@pytest.mark.parametrize("name", ["foodstore", "petstore", "orders"])
def test_each_service_stores_an_item_through_the_gateway_with_a_token(shop, name):
    token = shop.cognito.tokens(f"{name}-{uuid.uuid4().hex[:8]}@example.com")["AccessToken"]
    service = shop.services[name]
    item_id = f"item-{uuid.uuid4().hex[:8]}"
    status, _, body = shop.gateway.request("PUT", service.url(item_id), {"qty": 2}, shop.bearer(token))
    assert status == 200, body
    status, _, body = shop.gateway.request("GET", service.url(item_id), headers=shop.bearer(token))
    assert (status, json.loads(body)) == (200, {"qty": 2, service.table_key: item_id})


def test_the_new_services_protected_get_needs_a_token(shop):
    status, _, body = shop.gateway.request("GET", shop.services["orders"].url("any"))
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    # The default services' GET stays public.
    assert shop.gateway.request("GET", shop.services["petstore"].url("any"))[0] == 404


def test_the_new_service_is_reached_on_its_own_container(shop):
    token = shop.cognito.tokens(f"direct-{uuid.uuid4().hex[:8]}@example.com")["AccessToken"]
    item_id = f"direct-{uuid.uuid4().hex[:8]}"
    assert shop.gateway.request("PUT", shop.services["orders"].url(item_id), {"n": 1}, shop.bearer(token))[0] == 200
    # The item is in the orders container's table, not the others'.
    assert shop.containers["orders"].request("GET", shop.services["orders"].url(item_id))[0] == 200
    assert shop.containers["foodstore"].request("GET", f"/foodstore/foods/{item_id}")[0] == 404
