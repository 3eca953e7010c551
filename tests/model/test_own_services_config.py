"""Your own services in the configuration: what is accepted, and every refusal with its field and fix."""

from __future__ import annotations

import json
import textwrap

import pytest

from generator.model.auth import AuthSpec
from generator.model.config import ServiceSpec, StackConfig
from generator.model.config_file import config_from_mapping, load_config
from generator.model.errors import ConfigError
from generator.model.routes import AuthMode, RouteSpec, parse_route_key, route_name, route_shape
from generator.model.secrets import secret_source
from generator.model.tables import KeyType, TableSpec
from generator.model.tasks import HealthCheckSpec, LocalRun

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1.4.2"
CHECK = {"command": ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/healthz || exit 1"]}
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf"
PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/orders/payment-key"

# The issue's own example, as a user would paste it: TOML 1.1's multi-line inline table included.
ORDERS_TOML = textwrap.dedent(
    """
    [auth]
    issuer = "https://login.example.com/"
    audiences = ["https://api.example.com"]

    [[services]]
    name = "orders"
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1.4.2"
    port = 8080
    routes = [
      { route = "GET /orders" },
      { route = "POST /orders", auth = "jwt", scopes = ["orders/write"] },
      { route = "GET /orders/{orderId}" },
      { route = "DELETE /orders/{orderId}", auth = "jwt", scopes = ["orders/admin"] },
      { route = "ANY /orders/{proxy+}", auth = "jwt" },
    ]
    health_check = { command = ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/healthz || exit 1"] }
    environment = { LOG_LEVEL = "info" }
    secrets = { DB_PASSWORD = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf",
                PAYMENT_KEY = "arn:aws:ssm:us-east-1:123456789012:parameter/orders/payment-key" }

    [[services.tables]]
    name = "orders"
    partition_key = "orderId"
    sort_key = "createdAt"
    """
)


def own(**overrides) -> ServiceSpec:
    settings = {"name": "orders", "image": IMAGE, "routes": [{"route": "GET /orders"}], "health_check": CHECK}
    return ServiceSpec(**{**settings, **overrides})


def refusal(build) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        build()
    return caught.value


def test_the_issues_example_loads_with_every_route_secret_and_table(tmp_path):
    path = tmp_path / "orders.toml"
    path.write_text(ORDERS_TOML)
    config = load_config(path)
    (orders,) = config.services
    assert [(r.route, r.auth, r.scopes) for r in orders.api_routes] == [
        ("GET /orders", AuthMode.NONE, ()),
        ("POST /orders", AuthMode.JWT, ("orders/write",)),
        ("GET /orders/{orderId}", AuthMode.NONE, ()),
        ("DELETE /orders/{orderId}", AuthMode.JWT, ("orders/admin",)),
        ("ANY /orders/{proxy+}", AuthMode.JWT, ()),
    ]
    assert orders.container_health_check.command[0] == "CMD-SHELL"
    assert dict(orders.secrets) == {"DB_PASSWORD": SECRET, "PAYMENT_KEY": PARAMETER}
    assert orders.tables == (TableSpec("orders", "orderId", "createdAt"),)
    assert orders.tables[0].environment_name == "ORDERS_TABLE"
    assert not orders.is_item_store and orders.protected_methods == ()
    # An external issuer replaces Cognito, and with it the page that signs users up there.
    assert config.auth.issuer == "https://login.example.com/" and not config.auth.uses_cognito
    assert config.test_page is False


def test_the_default_stack_is_two_item_stores_whose_routes_keep_their_3_0_0_names():
    config = StackConfig()
    assert config.auth.uses_cognito and config.test_page is True
    food = config.services[0]
    assert food.is_item_store
    assert [(r.route, r.auth, r.logical_name) for r in food.api_routes] == [
        ("GET /foodstore/foods/{foodId}", AuthMode.NONE, "Get"),
        ("PUT /foodstore/foods/{foodId}", AuthMode.JWT, "Put"),
    ]
    assert food.container_health_check.command == ("CMD", "python", "-m", "itemstore.healthcheck")


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("POST /orders", "PostOrders"),
        ("GET /orders/{orderId}", "GetOrdersByOrderId"),
        ("ANY /orders/{proxy+}", "AnyOrdersByProxyAll"),
        ("GET /", "GetRoot"),
        ("$default", "Default"),
        ("PATCH /order-items/v2.1", "PatchOrderItemsV21"),
    ],
)
def test_a_routes_logical_name_comes_from_its_method_and_path_alone(route, expected):
    assert route_name(route) == expected


def test_routes_that_differ_only_in_a_variables_name_have_one_shape():
    assert route_shape("GET /a/{x}") == route_shape("GET /a/{y}") == "GET /a/{}"
    assert route_shape("GET /a/{x+}") != route_shape("GET /a/{x}")


@pytest.mark.parametrize(
    ("route", "fix"),
    [
        ("FETCH /orders", "is not one API Gateway routes"),
        ("GET orders", "METHOD /path"),
        ("GET /orders/", "trailing slash"),
        ("GET /orders/{proxy+}/items", "must be the last segment"),
        ("GET /a/{id}/b/{id}", "appears twice"),
        ("GET /orders/a{id}", "whole-segment variable"),
        ("GET /orders//x", "neither fixed text"),
        (42, "METHOD /path"),
    ],
)
def test_a_route_api_gateway_would_refuse_is_refused_with_the_fix(route, fix):
    error = refusal(lambda: own(routes=[{"route": "GET /orders"}, {"route": route}]))
    assert error.field == "routes[1].route"
    assert error.value == route
    assert fix in error.allowed


def test_a_bad_route_in_a_stack_file_names_service_route_and_field():
    error = refusal(lambda: config_from_mapping({"services": [
        {"name": "orders", "image": IMAGE, "health_check": CHECK,
         "routes": [{"route": "GET /orders"}, {"route": "GET /a"}, {"route": "GET /b"}, {"route": "GRAB /c"}]},
    ]}))
    assert error.field == "services[0].routes[3].route"


def test_scopes_need_jwt_at_most_ten_and_each_a_scope_token():
    assert refusal(lambda: RouteSpec("GET /a", scopes=["a/b"])).field == "scopes"
    assert refusal(lambda: RouteSpec("GET /a", auth="jwt", scopes=[f"a/s{i}" for i in range(11)])).field == "scopes"
    assert refusal(lambda: RouteSpec("GET /a", auth="jwt", scopes=["has space"])).field == "scopes[0]"
    assert refusal(lambda: RouteSpec("GET /a", auth="basic")).field == "auth"
    assert RouteSpec("GET /a", auth="jwt", scopes=["b/y", "a/x"]).scopes == ("a/x", "b/y")


def test_two_routes_that_api_gateway_sees_as_one_are_refused_across_services():
    error = refusal(lambda: StackConfig(services=(
        own(name="orders", routes=[{"route": "GET /shared/{orderId}"}]),
        own(name="billing", routes=[{"route": "GET /shared/{invoiceId}"}]),
    )))
    assert error.field == "services[1].routes[0].route"
    assert "services[0] (orders)" in error.allowed


def test_a_route_within_one_service_may_not_repeat_under_another_variable_name():
    error = refusal(lambda: own(routes=[{"route": "GET /a/{x}"}, {"route": "GET /a/{y}"}]))
    assert error.field == "routes[1].route"


def test_only_one_service_may_take_default():
    error = refusal(lambda: StackConfig(services=(
        own(name="a", routes=[{"route": "$default"}]),
        own(name="b", routes=[{"route": "$default"}]),
    )))
    assert error.field == "services[1].routes[0].route" and "$default" in error.allowed


def test_own_routes_may_not_take_an_item_stores_route():
    error = refusal(lambda: StackConfig(services=(
        ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}"),
        own(routes=[{"route": "PUT /foodstore/foods/{id}"}]),
    )))
    assert error.field == "services[1].routes[0].route"


def test_more_routes_than_the_http_api_quota_are_refused():
    routes = [{"route": f"GET /r{i}"} for i in range(301)]
    error = refusal(lambda: StackConfig(services=(own(routes=routes),)))
    assert error.field == "services" and "300 routes per HTTP API" in error.allowed
    assert len(StackConfig(services=(own(routes=routes[:300]),)).services[0].api_routes) == 300


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"path": "/orders/{id}"}, "path / routes"),
        ({"routes": (), "openapi": None}, "routes"),
        ({"table_key": "id"}, "table_key"),
        ({"protected_methods": ["PUT"]}, "protected_methods"),
        ({"image": None}, "image"),
        ({"health_check": None}, "health_check"),
        ({"health_check": "sometimes"}, "health_check"),
        ({"health_check": {"command": ["CMD-SHELL", "a", "b"]}}, "health_check.command"),
        ({"health_check": {"command": ["curl", "-f", "x"]}}, "health_check.command"),
        ({"health_check": {**CHECK, "interval": 4}}, "health_check.interval"),
        ({"health_check": {**CHECK, "timeout": 10}}, "health_check.timeout"),
        ({"health_check": {**CHECK, "retries": 11}}, "health_check.retries"),
        ({"health_check": {**CHECK, "every": 5}}, "health_check.every"),
        ({"command": []}, "command"),
    ],
)
def test_a_service_of_your_own_is_refused_naming_the_field(settings, field):
    assert refusal(lambda: own(**settings)).field == field


def test_the_item_store_keeps_its_one_table_and_command():
    assert refusal(lambda: ServiceSpec(name="foodstore", path="/f/{id}", tables=[TableSpec("x", "id")])).field == "tables"
    assert refusal(lambda: ServiceSpec(name="foodstore", path="/f/{id}", command=["x"])).field == "command"


def test_health_check_none_means_no_container_health_check():
    assert own(health_check="none").container_health_check is None
    assert own().container_health_check == HealthCheckSpec(command=tuple(CHECK["command"]))


def test_secrets_take_full_arns_and_the_execution_role_reads_exactly_those():
    spec = own(secrets={"DB_PASSWORD": SECRET, "PAYMENT_KEY": PARAMETER})
    sources = dict(spec.secret_sources)
    assert sources["DB_PASSWORD"].iam_resource == SECRET
    assert sources["PAYMENT_KEY"].service == "ssm" and sources["PAYMENT_KEY"].iam_resource == PARAMETER


def test_a_partial_secret_arn_gets_iams_six_character_wildcard_and_a_json_key_is_not_the_resource():
    partial = secret_source("s", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders/db")
    assert partial.iam_resource == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders/db-??????"
    keyed = secret_source("s", SECRET + ":password::")
    assert keyed.value_from == SECRET + ":password::" and keyed.iam_resource == SECRET


@pytest.mark.parametrize(
    ("secrets", "field"),
    [
        ({"DB_PASSWORD": "orders-db"}, "secrets.DB_PASSWORD"),
        ({"DB_PASSWORD": "arn:aws:s3:::bucket/key"}, "secrets.DB_PASSWORD"),
        ({"DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:1234:secret:x"}, "secrets.DB_PASSWORD"),
        ({"LOG_LEVEL": SECRET}, "secrets.LOG_LEVEL"),
        ({"PORT": SECRET}, "secrets.PORT"),
        ({"1BAD": SECRET}, "secrets.1BAD"),
    ],
)
def test_a_secret_that_cannot_work_is_refused(secrets, field):
    assert refusal(lambda: own(environment={"LOG_LEVEL": "info"}, secrets=secrets)).field == field


def test_secrets_of_two_partitions_and_a_key_without_secrets_are_refused():
    china = "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/x"
    assert refusal(lambda: own(secrets={"A": SECRET, "B": china})).field == "secrets"
    assert refusal(lambda: own(kms_key="arn:aws:kms:us-east-1:123456789012:key/abc")).field == "kms_key"
    assert refusal(lambda: own(secrets={"A": SECRET}, kms_key="alias/orders")).field == "kms_key"
    assert own(secrets={"A": SECRET}, kms_key="arn:aws:kms:us-east-1:123456789012:key/abc").kms_key


def test_a_secret_looking_environment_variable_is_pointed_at_secrets():
    error = refusal(lambda: own(environment={"DB_PASSWORD": "hunter2"}))
    assert error.field == "environment.DB_PASSWORD" and "secrets = {" in error.allowed


def test_tables_are_named_once_and_their_variables_are_ecsapis():
    two = own(tables=[{"name": "orders", "partition_key": "orderId", "sort_key": "createdAt"},
                      {"name": "audit", "partition_key": "at", "partition_key_type": "N"}])
    assert [t.environment_name for t in two.tables] == ["ORDERS_TABLE", "AUDIT_TABLE"]
    assert two.tables[1].partition_key_type is KeyType.N
    assert two.tables[0].key_schema()["KeySchema"] == [
        {"AttributeName": "orderId", "KeyType": "HASH"}, {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    assert refusal(lambda: own(tables=[TableSpec("a", "k"), TableSpec("a", "j")])).field == "tables[1].name"
    assert refusal(lambda: own(tables=[{"name": "a", "partition_key": "k", "sort_key_type": "N"}])).field == \
        "tables[0].sort_key_type"
    assert refusal(lambda: own(tables=[{"name": "Orders", "partition_key": "k"}])).field == "tables[0].name"
    assert refusal(lambda: own(tables=[{"name": "a", "partition_key": "k", "partition_key_type": "BOOL"}])).field == \
        "tables[0].partition_key_type"
    error = refusal(lambda: own(tables=[TableSpec("orders", "id")], environment={"ORDERS_TABLE": "x"}))
    assert error.field == "environment.ORDERS_TABLE"


def test_local_secrets_must_name_the_services_secrets():
    spec = own(secrets={"DB_PASSWORD": SECRET}, local={"command": ["python3", "-m", "orders"],
                                                          "secrets": {"DB_PASSWORD": "local-only"}})
    assert spec.local == LocalRun(command=("python3", "-m", "orders"), secrets=(("DB_PASSWORD", "local-only"),))
    error = refusal(lambda: own(local={"command": ["x"], "secrets": {"API_TOKEN": "t"}}))
    assert error.field == "local.secrets.API_TOKEN"
    assert refusal(lambda: own(local={"environment": {}})).field == "local.command"


@pytest.mark.parametrize(
    ("auth", "field"),
    [
        ({"issuer": "http://login.example.com/", "audiences": ["a"]}, "auth.issuer"),
        ({"issuer": "https://login.example.com/"}, "auth.audiences"),
        ({"audiences": ["a"]}, "auth.audiences"),
        ({"issuer": "https://login.example.com/", "audiences": ["a"], "machine_client": True}, "auth.machine_client"),
        ({"issuer": "https://login.example.com/", "audiences": [f"a{i}" for i in range(51)]}, "auth.audiences"),
        ({"issuer": "https://x/", "audiences": ["a"], "scopes": []}, "auth.scopes"),
    ],
)
def test_an_issuer_that_cannot_work_is_refused(auth, field):
    assert refusal(lambda: config_from_mapping({"auth": auth})).field == field


def test_an_external_issuer_refuses_the_test_page_it_cannot_serve():
    external = AuthSpec(issuer="https://login.example.com/", audiences=("api",))
    error = refusal(lambda: StackConfig(auth=external, test_page=True))
    assert error.field == "test_page" and "Cognito" in error.allowed
    assert StackConfig(auth=external).test_page is False


def test_cognito_scopes_name_a_resource_server_and_a_machine_client_needs_one():
    error = refusal(lambda: StackConfig(services=(own(routes=[{"route": "POST /o", "auth": "jwt", "scopes": ["write"]}]),)))
    assert error.field == "services[0].routes[0].scopes" and "resource-server/scope-name" in error.allowed
    error = refusal(lambda: StackConfig(auth=AuthSpec(machine_client=True)))
    assert error.field == "auth.machine_client"
    scoped = StackConfig(auth=AuthSpec(machine_client=True),
                         services=(own(routes=[{"route": "POST /o", "auth": "jwt", "scopes": ["orders/write"]}]),))
    assert scoped.custom_scopes == ("orders/write",)


OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "orders", "version": "1"},
    "components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"},
        "oauth": {"type": "oauth2", "flows": {}},
        "key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    }},
    "paths": {
        "/orders": {
            "get": {"responses": {}},
            "post": {"security": [{"oauth": ["orders/write"]}], "responses": {}},
            "parameters": [],
        },
        "/orders/{orderId}": {
            "delete": {"security": [{"oauth": ["orders/admin"]}, {"oauth": ["orders/root"]}], "responses": {}},
            "put": {"security": [{"bearer": []}], "responses": {}},
            "get": {"security": [{}, {"bearer": []}], "responses": {}},
        },
    },
}


def test_routes_come_from_an_openapi_documents_operations_and_security(tmp_path):
    (tmp_path / "orders.openapi.json").write_text(json.dumps(OPENAPI))
    (tmp_path / "stack.toml").write_text(textwrap.dedent("""
        [[services]]
        name = "orders"
        image = "repo/orders:1"
        openapi = "orders.openapi.json"
        health_check = "none"
    """))
    (orders,) = load_config(tmp_path / "stack.toml").services
    assert [(r.route, r.auth, r.scopes) for r in orders.api_routes] == [
        ("DELETE /orders/{orderId}", AuthMode.JWT, ("orders/admin", "orders/root")),
        ("GET /orders", AuthMode.NONE, ()),
        ("GET /orders/{orderId}", AuthMode.NONE, ()),
        ("POST /orders", AuthMode.JWT, ("orders/write",)),
        ("PUT /orders/{orderId}", AuthMode.JWT, ()),
    ]
    assert orders.openapi_document["info"]["title"] == "orders"


def test_an_openapi_document_in_yaml_is_read_too(tmp_path):
    yaml_text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /health:\n    get: {responses: {}}\n"
    (tmp_path / "api.yaml").write_text(yaml_text)
    spec = ServiceSpec(name="orders", image=IMAGE, openapi=str(tmp_path / "api.yaml"), health_check="none")
    assert [r.route for r in spec.api_routes] == ["GET /health"]


@pytest.mark.parametrize(
    ("operation", "fix"),
    [
        ({"security": [{"oauth": ["a/b", "a/c"]}]}, "all of these scopes at once"),
        ({"security": [{"oauth": ["a/b"], "bearer": []}]}, "several schemes at once"),
        ({"security": [{"key": []}]}, "only kinds a JWT authorizer checks"),
    ],
)
def test_openapi_security_that_api_gateway_cannot_express_is_refused(tmp_path, operation, fix):
    document = {**OPENAPI, "paths": {"/a": {"get": {**operation, "responses": {}}}}}
    path = tmp_path / "api.json"
    path.write_text(json.dumps(document))
    error = refusal(lambda: ServiceSpec(name="a", image=IMAGE, openapi=str(path), health_check="none"))
    assert error.field.startswith("openapi: paths./a.get") and fix in error.allowed


def test_a_missing_or_non_openapi_document_is_refused(tmp_path):
    assert "cannot read" in refusal(lambda: own(routes=(), openapi=str(tmp_path / "nope.json"))).allowed
    (tmp_path / "swagger.json").write_text(json.dumps({"swagger": "2.0", "paths": {"/a": {}}}))
    assert "OpenAPI 3" in refusal(lambda: own(routes=(), openapi=str(tmp_path / "swagger.json"))).allowed


def test_parse_route_key_gives_methods_and_segments():
    method, segments = parse_route_key("ANY /orders/{proxy+}")
    assert method == "ANY" and segments[-1].greedy and segments[-1].variable == "proxy"
    assert parse_route_key("$default") == (None, None)
