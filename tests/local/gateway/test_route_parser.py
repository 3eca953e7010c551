"""One route parser (issue 23): the emulator's template reader, its gateway and its route table read
route keys with the model's parse_route_key, so each refuses what the model refuses, with the
model's words, and agrees with it on what a route is. No servers."""

from __future__ import annotations

import copy
import json

import pytest

from ecsapi_local.gateway import GatewayTemplateError, LocalResolution, create_app
from ecsapi_local.intrinsics import TemplateError
from ecsapi_local.routing import RouteTable
from ecsapi_local.template_reader import read_template
from generator import StackConfig
from generator.model.errors import ConfigError
from generator.model.routes import parse_route_key, route_shape
from tests.support.templates import template_of

DEFAULT = template_of(StackConfig())
RESOLUTION = LocalResolution(region="eu-west-1", physical_ids={"UserPool": "eu-west-1_P", "UserPoolClient": "c1"},
                             upstreams={"FoodstoreDiscoveryService": "http://127.0.0.1:9001",
                                        "PetstoreDiscoveryService": "http://127.0.0.1:9002"})


@pytest.mark.parametrize("key", ["GET foodstore", "FETCH /a", "GET /a/{x+}/b", "GET /a/", "GET /a/{x}/{x}",
                                 "GET /a b", "GET /a/x{y}"])
def test_the_reader_and_the_gateway_refuse_a_route_key_with_the_models_words(key, tmp_path):
    with pytest.raises(ConfigError) as model:
        parse_route_key(key, "RouteKey")
    template = copy.deepcopy(DEFAULT)
    template["Resources"]["FoodstoreGetRoute"]["Properties"]["RouteKey"] = key
    with pytest.raises(GatewayTemplateError) as gateway:
        create_app(template, RESOLUTION)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    with pytest.raises(TemplateError) as reader:
        read_template(path)
    for error in (gateway.value, reader.value):
        assert str(error) == f"FoodstoreGetRoute: {model.value}"


@pytest.mark.parametrize(("first", "second"), [("GET /a/{x}", "GET /a/{y}"), ("ANY /p/{a+}", "ANY /p/{b+}")])
def test_keys_of_one_shape_are_one_route_to_the_table_as_to_the_model(first, second):
    assert route_shape(first) == route_shape(second)
    table = RouteTable([(first, "first")])
    other = RouteTable([(second, "second")])
    for path in ("/a/1", "/p/1/2", "/a", "/p"):
        assert (table.select(first.split()[0], path) is None) == (other.select(second.split()[0], path) is None)
