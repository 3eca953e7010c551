"""A path that extends another's fixed part (/a/{x} beside /a/b/{y}) is two routes that never
compete: the local gateway, which routes as API Gateway does (one segment per path variable, the
full match wins), sends each request to the one route it fully matches. In-process: no servers."""

from __future__ import annotations

import json

import pytest

from ecsapi_local.gateway import LocalResolution, create_app
from generator import ServiceSpec, StackConfig, build_template
from generator.template.names import logical_id

UPSTREAMS = {"a": "http://127.0.0.1:9001", "b": "http://127.0.0.1:9002"}


@pytest.fixture(scope="module")
def gateway():
    config = StackConfig(services=(ServiceSpec(name="a", path="/a/{x}"), ServiceSpec(name="b", path="/a/b/{y}")))
    template = json.loads(build_template(config).to_json())
    resolution = LocalResolution(
        region="us-east-1", physical_ids={"UserPool": "us-east-1_pool", "UserPoolClient": "client"},
        upstreams={logical_id(name, "DiscoveryService"): url for name, url in UPSTREAMS.items()},
        jwks_url="http://127.0.0.1:9/jwks.json")
    return create_app(template, resolution)


@pytest.mark.parametrize(("path", "service"), [("/a/b", "a"), ("/a/c", "a"), ("/a/b/c", "b"), ("/a/b/b", "b")])
def test_each_request_goes_to_the_one_route_it_fully_matches(gateway, path, service):
    route = gateway.routes.select("GET", path)
    assert route.upstream == UPSTREAMS[service]


def test_a_path_deeper_than_both_routes_matches_neither(gateway):
    assert gateway.routes.select("GET", "/a/b/c/d") is None
