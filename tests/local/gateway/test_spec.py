"""Reading the template: what the gateway serves comes from the generated template, and what it
cannot serve is an error naming the logical id. No servers: the app is built in-process."""

from __future__ import annotations

import copy
import json

import pytest
from werkzeug.test import Client

from ecsapi_local.gateway import GatewayTemplateError, LocalResolution, create_app, upstream_services
from generator import ServiceSpec, StackConfig
from generator.template.names import logical_id
from tests.support.gateway import PAGE_ORIGIN, resolution
from tests.support.processes import REPO
from tests.support.templates import template_of

DEFAULT = template_of(StackConfig())


def routes_of(app) -> dict[str, object]:
    return {route.key: route for route in app.spec.routes}


def test_every_route_of_the_template_is_served_with_its_upstream_and_authorizer():
    app = create_app(DEFAULT, resolution())
    routes = routes_of(app)
    template_keys = {r["Properties"]["RouteKey"] for r in DEFAULT["Resources"].values()
                     if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert set(routes) == template_keys
    assert routes["GET /foodstore/foods/{foodId}"].upstream == "http://127.0.0.1:9001"
    assert routes["PUT /petstore/pets/{petId}"].upstream == "http://127.0.0.1:9002"
    assert routes["GET /foodstore/foods/{foodId}"].authorizer is None
    authorizer = routes["PUT /foodstore/foods/{foodId}"].authorizer
    # The template's issuer, its Region and UserPool resolved locally; the client id as audience.
    assert authorizer.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
    assert authorizer.audiences == ("client123",)
    assert authorizer.header == "authorization"


def test_the_issuer_can_be_overridden():
    app = create_app(DEFAULT, resolution(issuer="http://127.0.0.1:9000/eu-west-1_Pool"))
    assert routes_of(app)["PUT /foodstore/foods/{foodId}"].authorizer.issuer == "http://127.0.0.1:9000/eu-west-1_Pool"


def test_the_local_timeout_caps_the_integration_timeout():
    integration = DEFAULT["Resources"]["FoodstoreIntegration"]["Properties"]
    assert integration["TimeoutInMillis"] == 30000
    app = create_app(DEFAULT, resolution(), local_timeout=2.5)
    assert routes_of(app)["GET /foodstore/foods/{foodId}"].timeout_seconds == 2.5


def test_stage_throttling_is_the_default_and_route_settings_override_it():
    config = StackConfig(throttle_rate_limit=50, throttle_burst_limit=70, services=(
        ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", throttle_rate_limit=5, throttle_burst_limit=9),
        ServiceSpec(name="petstore", path="/petstore/pets/{petId}"),
    ))
    routes = routes_of(create_app(template_of(config), resolution()))
    assert (routes["PUT /foodstore/foods/{foodId}"].throttle.rate, routes["PUT /foodstore/foods/{foodId}"].throttle.burst) == (5, 9)
    assert (routes["GET /petstore/pets/{petId}"].throttle.rate, routes["GET /petstore/pets/{petId}"].throttle.burst) == (50, 70)


def test_cors_keeps_the_templates_settings_drops_the_cloudfront_origin_and_adds_the_page():
    cors = create_app(DEFAULT, resolution()).spec.cors
    config = DEFAULT["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors.allow_origins == (PAGE_ORIGIN,)
    assert list(cors.allow_methods) == config["AllowMethods"]
    assert list(cors.allow_headers) == config["AllowHeaders"]
    assert cors.max_age == config["MaxAge"]


def test_a_template_origin_resolvable_locally_is_kept():
    app = create_app(DEFAULT, resolution(physical_ids={"UserPool": "p", "UserPoolClient": "c",
                                                       "SiteDistribution.DomainName": "d111.cloudfront.net"}))
    assert app.spec.cors.allow_origins == ("https://d111.cloudfront.net", PAGE_ORIGIN)


def test_configured_cors_origins_are_kept():
    config = StackConfig(cors_origins=("https://app.example.com",))
    cors = create_app(template_of(config), resolution()).spec.cors
    assert cors.allow_origins[:1] == ("https://app.example.com",)


def test_a_service_added_in_the_configuration_is_routed_without_code_changes():
    from generator.model.config_file import load_config

    config = load_config(REPO / "stacks" / "three-services.toml")
    orders = logical_id("orders", "DiscoveryService")
    app = create_app(template_of(config), resolution(upstreams={
        **resolution().upstreams, orders: "http://127.0.0.1:9003"}))
    routes = routes_of(app)
    assert routes["GET /shop/orders/{orderId}"].upstream == "http://127.0.0.1:9003"
    assert routes["GET /shop/orders/{orderId}"].authorizer is not None  # orders protects GET too
    assert routes["GET /shop/orders/{orderId}"].throttle.rate == 20
    assert upstream_services(template_of(config)) == (
        "FoodstoreDiscoveryService", "OrdersDiscoveryService", "PetstoreDiscoveryService")


# --- errors that name the logical id --------------------------------------------------------------

def test_a_cloud_map_service_without_a_local_upstream_is_named():
    with pytest.raises(GatewayTemplateError, match=r"PetstoreIntegration: .*PetstoreDiscoveryService.*upstreams"):
        create_app(DEFAULT, resolution(upstreams={"FoodstoreDiscoveryService": "http://127.0.0.1:9001"}))


def test_an_unresolved_user_pool_is_named():
    with pytest.raises(GatewayTemplateError, match=r"JwtAuthorizer: JwtConfiguration.Issuer refers to UserPool"):
        create_app(DEFAULT, resolution(physical_ids={"UserPoolClient": "c"}))


def test_an_unresolved_client_is_named():
    with pytest.raises(GatewayTemplateError, match=r"JwtAuthorizer: JwtConfiguration.Audience refers to UserPoolClient"):
        create_app(DEFAULT, resolution(physical_ids={"UserPool": "p"}))


def changed(path: tuple[str, ...], value) -> dict:
    template = copy.deepcopy(DEFAULT)
    node = template
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return template


@pytest.mark.parametrize(("path", "value", "message"), [
    (("Resources", "FoodstoreIntegration", "Properties", "IntegrationType"), "AWS_PROXY",
     r"FoodstoreIntegration: only HTTP_PROXY integrations over a VPC_LINK"),
    (("Resources", "FoodstoreIntegration", "Properties", "PayloadFormatVersion"), "2.0",
     r"FoodstoreIntegration: PayloadFormatVersion '2.0'"),
    (("Resources", "FoodstoreIntegration", "Properties", "IntegrationUri"), "https://example.com",
     r"FoodstoreIntegration: IntegrationUri 'https://example.com' is not the Arn"),
    (("Resources", "FoodstoreGetRoute", "Properties", "AuthorizationType"), "AWS_IAM",
     r"FoodstoreGetRoute: AuthorizationType AWS_IAM is not served locally"),
    (("Resources", "FoodstoreGetRoute", "Properties", "Target"), "integrations/abc123",
     r"FoodstoreGetRoute: Target 'integrations/abc123'"),
    (("Resources", "FoodstoreGetRoute", "Properties", "RouteKey"), "GET foodstore",
     r"FoodstoreGetRoute: RouteKey: 'GET foodstore' is not valid"),
    (("Resources", "PetstoreGetRoute", "Properties", "RouteKey"), "GET /foodstore/foods/{foodId}",
     r"HttpApi: route keys \['GET /foodstore/foods/\{foodId\}'\] appear more than once"),
    (("Resources", "JwtAuthorizer", "Properties", "IdentitySource"), ["$request.querystring.token"],
     r"JwtAuthorizer: IdentitySource"),
    (("Resources", "JwtAuthorizer", "Properties", "JwtConfiguration", "Issuer"), {"Fn::ImportValue": "x"},
     r"JwtAuthorizer: JwtConfiguration.Issuer uses Fn::ImportValue"),
    (("Resources", "HttpApi", "Properties", "ProtocolType"), "WEBSOCKET", r"HttpApi: ProtocolType is 'WEBSOCKET'"),
    (("Resources", "HttpApi"), None, r"Resources: the local gateway serves exactly one AWS::ApiGatewayV2::Api"),
])
def test_what_cannot_be_served_locally_is_an_error_naming_the_logical_id(path, value, message):
    with pytest.raises(GatewayTemplateError, match=message):
        create_app(changed(path, value), resolution())


# --- the resolution file -----------------------------------------------------------------------------

def test_the_resolution_round_trips_through_json(tmp_path):
    original = resolution(issuer="http://127.0.0.1:1/x")
    (tmp_path / "r.json").write_text(original.to_json())
    again = LocalResolution.from_json(tmp_path / "r.json")
    assert again.to_json() == original.to_json()
    assert json.loads(original.to_json())["upstreams"] == dict(original.upstreams)
    assert again.page_origins == (PAGE_ORIGIN,)


@pytest.mark.parametrize(("changes", "message"), [
    ({"upstreams": {"X": "127.0.0.1:80"}}, r"upstreams\['X'\]: '127.0.0.1:80' is not http://HOST:PORT"),
    ({"upstreams": {"X": "http://127.0.0.1:80/path"}}, r"upstreams\['X'\]"),
    ({"jwks_url": "file:///etc/passwd"}, r"jwks_url"),
    ({"region": ""}, r"region"),
])
def test_a_bad_resolution_is_refused_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        resolution(**changes)


def test_unknown_resolution_keys_are_refused():
    with pytest.raises(ValueError, match=r"unknown local resolution keys \['upstream'\]"):
        LocalResolution.from_dict({**json.loads(resolution().to_json()), "upstream": {}})


# --- routing in-process ------------------------------------------------------------------------------

def test_greedy_path_variables_and_default_routes_match_like_api_gateway():
    template = copy.deepcopy(DEFAULT)
    base = template["Resources"]["FoodstoreGetRoute"]
    for name, key in (("ProxyRoute", "ANY /files/{path+}"), ("DefaultRoute", "$default")):
        template["Resources"][name] = copy.deepcopy(base)
        template["Resources"][name]["Properties"]["RouteKey"] = key
    app = create_app(template, resolution())

    def matched(method: str, path: str) -> str | None:
        route = app.routes.select(method, path)
        return route.key if route else None

    assert matched("GET", "/foodstore/foods/a") == "GET /foodstore/foods/{foodId}"
    assert matched("DELETE", "/files/a/b/c") == "ANY /files/{path+}"
    assert matched("DELETE", "/foodstore/foods/a") == "$default"
    assert matched("GET", "/anything/else") == "$default"


def test_the_app_is_a_plain_wsgi_callable():
    status = Client(create_app(DEFAULT, resolution())).get("/nope")
    assert (status.status_code, status.json) == (404, {"message": "Not Found"})


def test_a_failure_inside_the_gateway_is_a_json_500_not_a_traceback(monkeypatch):
    app = create_app(DEFAULT, resolution())
    monkeypatch.setattr(app.routes, "select", lambda method, path: 1 / 0)
    response = Client(app).get("/foodstore/foods/a")
    assert (response.status_code, response.json) == (500, {"message": "Internal Server Error"})
    assert response.headers["apigw-requestid"]
