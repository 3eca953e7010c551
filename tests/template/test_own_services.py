"""Your own services in the template (issue 24): routes with their auth and scopes, the JWT
authorizer of an external issuer or of the stack's Cognito pool (resource servers, machine client,
domain), task definitions with command, secrets and health checks, least-privilege roles, tables,
the OpenAPI document, the page's config, describe, diff, and safe upgrades from 3.0.0."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from generator import ServiceSpec, StackConfig
from generator.model.config_file import load_config
from generator.model.routes import RouteSpec
from generator.model.tables import TableSpec
from generator.template.names import logical_id
from generator.template.openapi import build_openapi
from generator.tooling import changes
from generator.tooling.cli import main
from tests.support.processes import REPO
from tests.support.templates import VARIANTS, cfn_lint, diff_from_release, resources

ORDERS = VARIANTS["orders"]
ORDERS_OIDC = VARIANTS["orders-oidc"]
# The 3.0.0 release's templates of every stacks/ variant it shipped (git show 28f2de9, gzipped).
V3_VARIANTS = ("default", "hardened", "lean", "small", "three-services")
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1.4.2"
CHECK = {"command": ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/healthz || exit 1"]}


def own(name: str = "orders", **fields) -> ServiceSpec:
    settings = {"image": IMAGE, "health_check": CHECK, "routes": ["GET /orders"], **fields}
    return ServiceSpec(name=name, **settings)


@pytest.fixture(scope="module")
def orders(render):
    return render(ORDERS)


@pytest.fixture(scope="module")
def orders_oidc(render):
    return render(ORDERS_OIDC)


def container(template: dict, service: str) -> dict:
    (definition,) = template["Resources"][f"{service}TaskDefinition"]["Properties"]["ContainerDefinitions"]
    return definition


def statements(template: dict, role: str) -> list[dict]:
    return [s for p in template["Resources"][role]["Properties"].get("Policies", [])
            for s in p["PolicyDocument"]["Statement"]]


# --- upgrades ---------------------------------------------------------------------------------------


# What upgrading a 3.0.0 stack may change, and nothing more. Your own services (issue 24) change
# nothing in a 3.0.0 configuration; the rest is the second CloudFormation review's (issue 26), named
# in the upgrade notes (docs/updating.md, "From 3.0.0"): every service moves from LaunchType FARGATE
# to a capacity provider strategy once, which replaces the ECS service and, with it, its scalable
# target and scaling policy (no data, no fixed name in the way); the cluster gets its capacity
# provider association and the image build its scheduled fallback's role; the task definitions MAY
# be replaced because the image build's properties change, and are not when its answer (the image
# digest) stays; without Container Insights the scaling-ceiling alarm, whose metric never exists,
# goes. Tables, the user pool, the key and every log group stay.
SPOT_MOVE = ("Service", "ScalableTarget", "ScalingPolicy")


@pytest.mark.parametrize("variant", V3_VARIANTS)
def test_every_3_0_0_variant_upgrades_replacing_only_the_one_time_spot_move(variant, tmp_path):
    config, report, released = diff_from_release("3.0.0", variant, tmp_path)
    moved = config.fargate_spot_percent == 0  # 3.0.0 gave only those services LaunchType FARGATE
    assert {a["logicalId"] for a in report["added"]} == (
        {"ImageBuildCheckRole"} | ({"ClusterCapacityProviders"} if moved else set())
    )
    assert {r["logicalId"] for r in report["removed"]} == (
        set() if config.container_insights else {logical_id(s.name, "ScalingCeilingAlarm") for s in config.services}
    )
    replaced = {(c["logicalId"], c["replacement"]) for c in report["changed"] if c["replacement"] != "no"}
    assert replaced == {
        # The item store's source changed in this release (issue 28's worker, proxy check and
        # parser), so the image build answers a new image: CloudFormation's view, a new physical id.
        ("ImageBuild", "yes"),
        *((logical_id(s.name, part), "yes") for s in config.services for part in SPOT_MOVE if moved),
        *((logical_id(s.name, "TaskDefinition"), "maybe") for s in config.services),
    }
    assert report["warnings"] == []
    # Beyond the diff: every logical id of 3.0.0 that stays keeps its type.
    before = released["Resources"]
    after = _render_variant(variant)["Resources"]
    assert {k: r["Type"] for k, r in before.items() if k in after} == {
        k: r["Type"] for k, r in after.items() if k in before
    }


def _render_variant(variant: str) -> dict:
    from generator import build_template
    from generator.tooling.render import template_json

    config = StackConfig() if variant == "default" else load_config(REPO / "stacks" / f"{variant}.toml")
    return json.loads(template_json(build_template(config)))


def test_adding_a_route_renames_no_other_route_and_replaces_nothing(render):
    before = render(ORDERS)
    spec = ORDERS.services[0]
    more = dataclasses.replace(spec, routes=(*spec.routes, RouteSpec("PATCH /orders/{orderId}", auth="jwt")))
    after = render(dataclasses.replace(ORDERS, services=(more, *ORDERS.services[1:])))
    result = changes.compare(before, after)
    assert result.added == (("OrdersPatchOrdersByOrderIdRoute", "AWS::ApiGatewayV2::Route"),)
    assert result.removed == ()
    assert result.replaced("yes") == () and result.replaced("maybe") == ()


# --- routes and the authorizer ----------------------------------------------------------------------


def test_each_route_goes_to_its_service_with_its_auth_and_scopes(orders):
    routes = {r["Properties"]["RouteKey"]: (name, r["Properties"]) for name, r in
              resources(orders, "AWS::ApiGatewayV2::Route").items()}
    expected = {
        route.route: (name, route)
        for spec in ORDERS.services for route in spec.api_routes
        for name in [f"{spec.name.capitalize()}{route.logical_name}Route"]
    }
    assert set(routes) == set(expected)
    for key, (expected_id, route) in expected.items():
        name, properties = routes[key]
        assert name == expected_id
        service = next(s for s in ORDERS.services if route in s.api_routes).name
        assert properties["Target"] == {"Fn::Sub": f"integrations/${{{service.capitalize()}Integration}}"}
        if route.protected:
            assert properties["AuthorizationType"] == "JWT"
            assert properties["AuthorizerId"] == {"Ref": "JwtAuthorizer"}
            assert properties.get("AuthorizationScopes", []) == list(route.scopes)
        else:
            assert properties["AuthorizationType"] == "NONE" and "AuthorizationScopes" not in properties
    assert routes["DELETE /orders/{orderId}"][1]["AuthorizationScopes"] == ["orders/admin"]
    assert routes["$default"][0] == "FrontdoorDefaultRoute"


def test_an_external_issuer_is_trusted_and_no_cognito_resource_exists(orders_oidc):
    jwt = orders_oidc["Resources"]["JwtAuthorizer"]["Properties"]["JwtConfiguration"]
    assert jwt == {"Issuer": "https://login.example.com/", "Audience": ["https://api.example.com"]}
    assert not [t for t in (r["Type"] for r in orders_oidc["Resources"].values()) if t.startswith("AWS::Cognito::")]
    assert not [t for t in (r["Type"] for r in orders_oidc["Resources"].values()) if t.startswith("AWS::CloudFront::")]
    assert not {"UserPoolId", "UserPoolClientId", "APITestPage", "MachineClientId", "TokenUrl"} & set(orders_oidc["Outputs"])


def test_cognito_resource_servers_cover_exactly_the_scopes_the_routes_name(orders):
    servers = resources(orders, "AWS::Cognito::UserPoolResourceServer")
    covered = {f"{s['Properties']['Identifier']}/{scope['ScopeName']}"
               for s in servers.values() for scope in s["Properties"]["Scopes"]}
    assert covered == set(ORDERS.custom_scopes) == {"orders/write", "orders/admin", "catalog/write", "catalog/admin"}
    assert set(servers) == {"OrdersResourceServer", "CatalogResourceServer"}
    assert all(s["Properties"]["UserPoolId"] == {"Ref": "UserPool"} for s in servers.values())


def test_the_machine_client_uses_client_credentials_for_those_scopes_and_is_an_audience(orders):
    client = orders["Resources"]["MachineClient"]
    properties = client["Properties"]
    assert properties["GenerateSecret"] is True
    assert properties["AllowedOAuthFlows"] == ["client_credentials"] and properties["AllowedOAuthFlowsUserPoolClient"]
    assert properties["AllowedOAuthScopes"] == sorted(ORDERS.custom_scopes)
    assert set(client["DependsOn"]) == {"OrdersResourceServer", "CatalogResourceServer"}
    audience = orders["Resources"]["JwtAuthorizer"]["Properties"]["JwtConfiguration"]["Audience"]
    assert audience == [{"Ref": "UserPoolClient"}, {"Ref": "MachineClient"}]


def test_the_pool_domain_fits_cognitos_rules_and_the_outputs_carry_no_secret(orders):
    domain = orders["Resources"]["UserPoolDomain"]["Properties"]["Domain"]["Fn::Sub"]
    # A stack id's UUID: 36 characters of lower-case hex and hyphens.
    sample = domain[0].replace("${StackUuid}", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?", sample)
    assert not re.search("aws|amazon|cognito", sample)
    outputs = orders["Outputs"]
    assert outputs["MachineClientId"]["Value"] == {"Ref": "MachineClient"}
    assert outputs["TokenUrl"]["Value"] == {
        "Fn::Sub": "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com/oauth2/token"
    }
    assert "ClientSecret" not in json.dumps(outputs)


# --- task definitions and roles ---------------------------------------------------------------------


def test_the_task_runs_the_services_image_command_environment_secrets_and_check(orders):
    spec = ORDERS.services[0]
    definition = container(orders, "Orders")
    assert definition["Image"] == {"Ref": "OrdersImage"}
    assert orders["Parameters"]["OrdersImage"]["Default"] == spec.image
    assert definition["Command"] == list(spec.command)
    environment = {e["Name"]: e["Value"] for e in definition["Environment"]}
    assert environment == {
        "AWS_REGION": {"Ref": "AWS::Region"}, "PORT": "8080", "DRAIN_SECONDS": "30", "LOG_LEVEL": "info",
        "ORDERS_TABLE": {"Ref": "OrdersOrdersTable"}, "ORDER_EVENTS_TABLE": {"Ref": "OrdersOrderEventsTable"},
    }
    assert definition["Secrets"] == [{"Name": name, "ValueFrom": arn} for name, arn in sorted(spec.secrets)]
    assert definition["HealthCheck"]["Command"] == CHECK["command"]
    assert "python" not in json.dumps(definition)


def test_health_check_none_leaves_the_container_without_one(orders):
    frontdoor = container(orders, "Frontdoor")
    assert "HealthCheck" not in frontdoor and "Command" not in frontdoor
    assert container(orders, "Catalog")["HealthCheck"] == {
        "Command": ["CMD", "/app/healthcheck"], "Interval": 15, "Timeout": 5, "Retries": 3, "StartPeriod": 30,
    }


def test_the_execution_role_reads_exactly_the_services_secrets(orders):
    by_action = {a: s for s in statements(orders, "OrdersExecutionRole") for a in s["Action"]}
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf"
    ]
    assert by_action["ssm:GetParameters"]["Resource"] == ["arn:aws:ssm:us-east-1:123456789012:parameter/orders/payment-key"]
    assert "kms:Decrypt" not in by_action
    # A partial ARN with a JSON key: the secret with IAM's six-character wildcard, no selector.
    front = {a: s for s in statements(orders, "FrontdoorExecutionRole") for a in s["Action"]}
    assert front["secretsmanager:GetSecretValue"]["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:frontdoor/session-??????"
    ]
    assert front["kms:Decrypt"]["Resource"] == [ORDERS.services[2].kms_key]
    assert front["kms:Decrypt"]["Condition"] == {
        "StringEquals": {"kms:ViaService": [{"Fn::Sub": "secretsmanager.us-east-1.${AWS::URLSuffix}"}]}
    }
    # No secrets: nothing to read.
    catalog = {a for s in statements(orders, "CatalogExecutionRole") for a in s["Action"]}
    assert not {"secretsmanager:GetSecretValue", "ssm:GetParameters", "kms:Decrypt"} & catalog


def test_the_task_role_uses_exactly_its_own_tables_and_nothing_without_tables(orders):
    (statement,) = statements(orders, "OrdersTaskRole")
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["OrdersOrdersTable", "Arn"]}, {"Fn::Sub": "${OrdersOrdersTable.Arn}/index/*"},
        {"Fn::GetAtt": ["OrdersOrderEventsTable", "Arn"]}, {"Fn::Sub": "${OrdersOrderEventsTable.Arn}/index/*"},
    ]
    for role in ("CatalogTaskRole", "FrontdoorTaskRole"):
        assert "Policies" not in orders["Resources"][role]["Properties"]


def test_tables_have_their_keys_and_types_and_the_stacks_data_policy(render):
    spec = own(tables=[TableSpec("orders", "orderId", "createdAt"),
                       {"name": "totals", "partition_key": "day", "partition_key_type": "N"}])
    template = render(StackConfig(services=(spec,), data_deletion_policy="Delete"))
    tables = resources(template, "AWS::DynamoDB::Table")
    assert set(tables) == {"OrdersOrdersTable", "OrdersTotalsTable"}
    orders_table = tables["OrdersOrdersTable"]
    assert orders_table["Properties"]["KeySchema"] == [
        {"AttributeName": "orderId", "KeyType": "HASH"}, {"AttributeName": "createdAt", "KeyType": "RANGE"}]
    assert tables["OrdersTotalsTable"]["Properties"]["AttributeDefinitions"] == [{"AttributeName": "day", "AttributeType": "N"}]
    assert {t["DeletionPolicy"] for t in tables.values()} == {"Delete"}
    assert all(t["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
               for t in tables.values())


def test_the_endpoint_admits_every_table_of_the_stack_and_none_without_tables(render, orders):
    item_store = ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}")
    mixed = render(StackConfig(services=(item_store, own(tables=[TableSpec("orders", "orderId")]))))
    policy = mixed["Resources"]["DynamoDbEndpoint"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Resource"] for s in policy] == [
        [{"Fn::GetAtt": ["FoodstoreTable", "Arn"]}],
        [{"Fn::GetAtt": ["OrdersOrdersTable", "Arn"]}, {"Fn::Sub": "${OrdersOrdersTable.Arn}/index/*"}],
    ]
    assert policy[0]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert "dynamodb:Query" in policy[1]["Action"]
    no_tables = render(StackConfig(services=(own(),), auth={"issuer": "https://login.example.com/",
                                                            "audiences": ["api"]}))
    assert "DynamoDbEndpoint" not in no_tables["Resources"]


def test_own_services_build_no_image_and_the_item_store_still_does(render, orders):
    assert not resources(orders, "AWS::CodeBuild::Project")
    mixed = render(StackConfig(services=(ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}"), own())))
    assert resources(mixed, "AWS::CodeBuild::Project")
    assert container(mixed, "Orders")["Image"] == {"Ref": "OrdersImage"}
    assert "Fn::If" in container(mixed, "Foodstore")["Image"]


# --- throttling, metrics, alarms --------------------------------------------------------------------


def test_per_route_throttling_and_detailed_metrics_cover_every_route(render):
    spec = own(routes=["GET /orders", "POST /orders", "$default"], throttle_rate_limit=5, throttle_burst_limit=10)
    template = render(StackConfig(services=(spec,), detailed_metrics=True))
    stage = template["Resources"]["ApiStage"]
    assert set(stage["Properties"]["RouteSettings"]) == {"GET /orders", "POST /orders", "$default"}
    assert all(s["DetailedMetricsEnabled"] and s["ThrottlingRateLimit"] == 5
               for s in stage["Properties"]["RouteSettings"].values())
    assert set(stage["DependsOn"]) == {"OrdersGetOrdersRoute", "OrdersPostOrdersRoute", "OrdersDefaultRoute"}


def test_a_service_with_more_routes_than_one_alarm_reads_rolls_back_on_the_apis_alarm(render):
    many = own(routes=[f"GET /orders/r{n}" for n in range(6)])
    few = own(name="few", routes=["GET /few"])
    template = render(StackConfig(services=(many, few), detailed_metrics=True))
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert "OrdersErrorRateAlarm" not in alarms and "FewErrorRateAlarm" in alarms
    assert all(len([q for q in a["Properties"].get("Metrics", []) if "MetricStat" in q]) <= 10 for a in alarms.values())
    deployment = template["Resources"]["OrdersService"]["Properties"]["DeploymentConfiguration"]["Alarms"]
    assert deployment["AlarmNames"] == [{"Fn::Sub": "${AWS::StackName}-api-5xx-rate"}]


# --- documents --------------------------------------------------------------------------------------


def test_the_openapi_document_carries_every_route_its_security_and_the_imported_schemas(release):
    document = build_openapi(ORDERS, release)
    operations = {(path, method) for path, item in document["paths"].items() for method in item
                  if method != "parameters"}
    assert operations == {
        ("/orders", "get"), ("/orders", "post"), ("/orders/{orderId}", "get"), ("/orders/{orderId}", "delete"),
        ("/orders/{proxy}", "x-amazon-apigateway-any-method"), ("/catalog/products", "get"),
        ("/catalog/products", "post"), ("/catalog/products/{sku}", "get"), ("/catalog/products/{sku}", "patch"),
        ("/catalog/products/{sku}", "delete"),
    }
    paths = document["paths"]
    assert paths["/orders"]["post"]["security"] == [{"OidcJwt": ["orders/write"]}]
    assert paths["/catalog/products/{sku}"]["patch"]["security"] == [
        {"OidcJwt": ["catalog/admin"]}, {"OidcJwt": ["catalog/write"]}]
    assert paths["/orders/{proxy}"]["x-amazon-apigateway-any-method"]["security"] == [{"CognitoJwt": []}]
    assert "security" not in paths["/orders"]["get"] and "security" not in document
    assert {"Product", "ProductChange"} <= set(document["components"]["schemas"])
    assert paths["/catalog/products"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Product"}
    assert "$default" in document["info"]["description"] or "frontdoor" in document["info"]["description"]


@pytest.mark.parametrize("config", [ORDERS, ORDERS_OIDC], ids=["orders", "orders-oidc"])
def test_the_document_of_own_services_is_valid_openapi_3_0_3(release, config):
    from openapi_spec_validator import OpenAPIV30SpecValidator, validate

    validate(build_openapi(config, release), cls=OpenAPIV30SpecValidator)


def test_the_exported_document_reads_back_as_the_same_routes(release, tmp_path):
    # One source of truth: the stack's document, imported as a service's openapi, gives its routes.
    document = build_openapi(ORDERS_OIDC, release)
    path = tmp_path / "exported.json"
    path.write_text(json.dumps(document))
    again = ServiceSpec(name="again", image=IMAGE, health_check="none", openapi=str(path))
    original = {(r.route, r.auth, r.scopes) for s in ORDERS_OIDC.services for r in s.api_routes}
    assert {(r.route, r.auth, r.scopes) for r in again.api_routes} == original


def test_the_page_config_lists_own_routes_and_keeps_the_item_stores_shape(render, orders):
    config = json.loads(orders["Resources"]["SitePage"]["Properties"]["Config"]["Fn::Sub"])
    by_name = {s["name"]: s for s in config["services"]}
    assert by_name["orders"]["routes"][1] == {
        "route": "POST /orders", "method": "POST", "path": "/orders", "variables": [], "auth": "jwt",
        "scopes": ["orders/write"],
    }
    assert by_name["frontdoor"]["routes"] == [{"route": "$default", "method": None, "path": None, "variables": [],
                                               "auth": "none", "scopes": []}]
    default = json.loads(render()["Resources"]["SitePage"]["Properties"]["Config"]["Fn::Sub"])
    assert default["services"][0] == {"name": "foodstore", "path": "/foodstore/foods/{foodId}",
                                      "idParameter": "foodId", "protectedMethods": ["PUT"]}


# --- describe ---------------------------------------------------------------------------------------


def test_describe_lists_routes_auth_scopes_secrets_tables_checks_and_the_machine_clients_cost(capsys):
    assert main(["describe", "--config", str(REPO / "stacks" / "orders.toml")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(re.search(r"DELETE\s+/orders/\{orderId\}\s+JWT \(Cognito\)\s+orders/admin\s+orders", line) for line in lines)
    assert any(re.search(r"\$default\s+.*public\s+-\s+frontdoor", line) for line in lines)
    assert any("PAYMENT_KEY" in line and "arn:aws:ssm:us-east-1:123456789012:parameter/orders/payment-key" in line
               for line in lines)
    assert any(re.search(r"orders\s+order_events\s+ORDER_EVENTS_TABLE\s+orderId \(S\)\s+sequence \(N\)", line)
               for line in lines)
    assert any(re.search(r"frontdoor\s+none: a task takes traffic as soon as it runs", line) for line in lines)
    assert any(line.strip().startswith("Cognito machine client") and "$6.00" in line for line in lines)


def test_describe_names_the_external_issuer_and_prices_no_cognito(capsys):
    assert main(["describe", "--config", str(REPO / "stacks" / "orders-oidc.toml")]) == 0
    out = capsys.readouterr().out
    assert "JWT (https://login.example.com/)" in out
    assert "Cognito machine client" not in out
    billed_by_use = next(line for line in out.splitlines() if line.strip().startswith("Billed only by use"))
    assert "Cognito" not in billed_by_use


# --- diff -------------------------------------------------------------------------------------------


def test_diff_replaces_a_resource_server_whose_identifier_changes_and_updates_scopes_in_place(render):
    before = render(ORDERS)
    spec = ORDERS.services[0]
    renamed = dataclasses.replace(spec, routes=tuple(
        dataclasses.replace(r, scopes=tuple(s.replace("orders/", "shop/") for s in r.scopes)) for r in spec.routes))
    after = render(dataclasses.replace(ORDERS, services=(renamed, *ORDERS.services[1:])))
    result = changes.compare(before, after)
    assert ("OrdersResourceServer", "AWS::Cognito::UserPoolResourceServer") in result.removed
    assert ("ShopResourceServer", "AWS::Cognito::UserPoolResourceServer") in result.added
    assert {w.kind for w in result.warnings} == {"scopes-changed"}
    # Another scope under the same identifier: the resource server and the machine client change in place.
    more = dataclasses.replace(spec, routes=(*spec.routes, RouteSpec("PUT /orders/{orderId}", auth="jwt",
                                                                      scopes=("orders/edit",))))
    updated = changes.compare(before, render(dataclasses.replace(ORDERS, services=(more, *ORDERS.services[1:]))))
    kinds = {c.logical_id: c.replacement for c in updated.changed}
    assert kinds["OrdersResourceServer"] == "no" and kinds["MachineClient"] == "no"


def test_diff_reports_a_removed_route_whose_service_stays(render):
    before = render(ORDERS)
    spec = ORDERS.services[0]
    fewer = dataclasses.replace(spec, routes=spec.routes[:-1])
    result = changes.compare(before, render(dataclasses.replace(ORDERS, services=(fewer, *ORDERS.services[1:]))))
    assert [(w.kind, w.logical_id) for w in result.warnings] == [("route-removed", "OrdersAnyOrdersByProxyAllRoute")]
    # A secret added: a new task definition revision (its containers are create-only), the role in place.
    secret = dataclasses.replace(spec, secrets=(*spec.secrets, ("API_TOKEN", "arn:aws:ssm:us-east-1:123456789012:parameter/t")))
    result = changes.compare(before, render(dataclasses.replace(ORDERS, services=(secret, *ORDERS.services[1:]))))
    state = {c.logical_id: c.replacement for c in result.changed}
    assert state["OrdersTaskDefinition"] == "yes" and state["OrdersExecutionRole"] == "no"


# --- lint and refusals ------------------------------------------------------------------------------


@pytest.mark.integration
def test_own_services_with_every_option_lint_clean(render, tmp_path):
    spec = ORDERS.services[0]
    config = dataclasses.replace(
        ORDERS, cpu_architecture="ARM64", customer_managed_key=True, detailed_metrics=True, nat_mode="none",
        services=(dataclasses.replace(spec, throttle_rate_limit=10, throttle_burst_limit=20), *ORDERS.services[1:]),
    )
    path = tmp_path / "everything-own.json"
    path.write_text(json.dumps(render(config)))
    assert cfn_lint(path) == []


REFUSALS = {
    "route": ('routes = [{ route = "FETCH /orders" }]', "services[0].routes[0].route"),
    "greedy": ('routes = [{ route = "GET /a/{rest+}/b" }]', "services[0].routes[0].route"),
    "scopes-without-jwt": ('routes = [{ route = "GET /a", scopes = ["a/read"] }]', "services[0].routes[0].scopes"),
    "duplicate-shape": ('routes = ["GET /a/{x}", "GET /a/{y}"]', "services[0].routes[1].route"),
    "secret": ('routes = ["GET /a"]\nsecrets = { DB = "arn:aws:s3:::bucket/key" }', "services[0].secrets.DB"),
    "missing-check": ("routes = [\"GET /a\"]\nhealth_check = ''", "services[0].health_check"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_exits_2_names_the_field_and_writes_nothing(case, tmp_path, capsys):
    body, field = REFUSALS[case]
    if case != "missing-check":
        body += '\nhealth_check = "none"'
    else:
        body = 'routes = ["GET /a"]'
    stack = tmp_path / "stack.toml"
    stack.write_text(f'[[services]]\nname = "api"\nimage = "{IMAGE}"\n{body}\n')
    out = tmp_path / "out"
    assert main(["template", "--config", str(stack), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ecsapi:") and field in error, error
    assert not out.exists() or not any(out.iterdir())


def test_a_duplicate_route_across_services_exits_2_naming_both(tmp_path, capsys):
    stack = tmp_path / "stack.toml"
    stack.write_text(
        f'[[services]]\nname = "a"\nimage = "{IMAGE}"\nhealth_check = "none"\nroutes = ["GET /x"]\n'
        f'[[services]]\nname = "b"\nimage = "{IMAGE}"\nhealth_check = "none"\nroutes = ["GET /y", "GET /x"]\n'
    )
    assert main(["describe", "--config", str(stack)]) == 2
    error = capsys.readouterr().err
    assert "services[1].routes[1].route" in error and "services[0] (a)" in error


def test_a_test_page_with_an_external_issuer_exits_2(tmp_path, capsys):
    stack = tmp_path / "stack.toml"
    stack.write_text(
        'test_page = true\n[auth]\nissuer = "https://login.example.com/"\naudiences = ["api"]\n'
        f'[[services]]\nname = "a"\nimage = "{IMAGE}"\nhealth_check = "none"\nroutes = ["GET /x"]\n'
    )
    assert main(["template", "--config", str(stack), "--out", str(tmp_path / "out")]) == 2
    assert "test_page" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_two_openapi_documents_with_the_same_schema_name_exit_2(tmp_path, capsys):
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                "paths": {"/PLACE": {"get": {"responses": {"200": {"description": "ok"}}}}},
                "components": {"schemas": {"Thing": {"type": "object"}}}}
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(json.dumps(document).replace("PLACE", name))
    stack = tmp_path / "stack.toml"
    stack.write_text(
        f'[[services]]\nname = "a"\nimage = "{IMAGE}"\nhealth_check = "none"\nopenapi = "a.json"\n'
        f'[[services]]\nname = "b"\nimage = "{IMAGE}"\nhealth_check = "none"\nopenapi = "b.json"\n'
    )
    assert main(["template", "--config", str(stack), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "services[1].openapi" in error and "components.schemas 'Thing'" in error
    assert not (tmp_path / "out").exists()


def test_the_own_api_pages_toml_is_a_stack_that_renders_as_the_page_says(render, tmp_path):
    page = (REPO / "docs" / "own-api.md").read_text(encoding="utf-8")
    (toml,) = re.findall(r"```toml\n(.*?)```", page, re.S)
    (tmp_path / "stack.toml").write_text(toml)
    config = load_config(tmp_path / "stack.toml")
    template = render(config)
    routes = {r["Properties"]["RouteKey"]: name for name, r in resources(template, "AWS::ApiGatewayV2::Route").items()}
    # The ids the page names, and the token facts it states about the external issuer.
    for route_id in ("OrdersPostOrdersRoute", "OrdersGetOrdersByOrderIdRoute", "OrdersAnyOrdersByProxyAllRoute"):
        assert route_id in page and route_id in routes.values()
    assert "OrdersOrdersTable" in page and "OrdersOrdersTable" in template["Resources"]
    assert not [r for r in template["Resources"].values() if r["Type"].startswith("AWS::Cognito::")]
    assert "ORDERS_TABLE" in {e["Name"] for e in container(template, "Orders")["Environment"]}


def test_describe_works_when_the_first_service_alone_is_no_stack(tmp_path, capsys):
    # The machine client's scopes are all on the second service: the first alone is refused, so
    # describe cannot measure how many services fit, and says so instead of failing.
    stack = tmp_path / "stack.toml"
    stack.write_text(
        '[auth]\nmachine_client = true\n'
        f'[[services]]\nname = "a"\nimage = "{IMAGE}"\nhealth_check = "none"\nroutes = ["GET /a"]\n'
        f'[[services]]\nname = "b"\nimage = "{IMAGE}"\nhealth_check = "none"\n'
        'routes = [{ route = "POST /b", auth = "jwt", scopes = ["b/write"] }]\n'
    )
    assert main(["describe", "--config", str(stack)]) == 0
    assert "services that fit: not measured" in capsys.readouterr().out


def test_the_create_only_facts_the_diff_relies_on_are_the_schemas():
    # "AWS::Cognito::UserPoolResourceServer" Identifier, "AWS::Cognito::UserPoolDomain" Domain and
    # "AWS::Cognito::UserPoolClient" GenerateSecret are create-only; a route's key and scopes are not.
    assert ("Identifier",) in changes.create_only_properties("AWS::Cognito::UserPoolResourceServer")
    assert ("Domain",) in changes.create_only_properties("AWS::Cognito::UserPoolDomain")
    assert ("GenerateSecret",) in changes.create_only_properties("AWS::Cognito::UserPoolClient")
    route = changes.create_only_properties("AWS::ApiGatewayV2::Route")
    assert ("RouteKey",) not in route and ("AuthorizationScopes",) not in route


def test_diff_says_what_turning_the_machine_client_off_changes_for_callers(render):
    before = render(ORDERS)
    after = render(dataclasses.replace(ORDERS, auth={"machine_client": False}))
    result = changes.compare(before, after)
    assert {name for name, _ in result.removed} == {"MachineClient", "UserPoolDomain"}
    assert {(w.kind, w.logical_id) for w in result.warnings} == {
        ("client-changed", "MachineClient"), ("token-url-changed", "UserPoolDomain")}
    assert dict(result.outputs) == {"MachineClientId": "removed", "TokenUrl": "removed"}


def test_a_route_whose_path_changes_keeps_its_logical_id_with_a_name(render):
    spec = ORDERS.services[0]
    before = render(ORDERS)
    moved = tuple(
        RouteSpec("GET /v2/orders", name="GetOrders") if r.route == "GET /orders" else r for r in spec.routes)
    after = render(dataclasses.replace(ORDERS, services=(dataclasses.replace(spec, routes=moved), *ORDERS.services[1:])))
    result = changes.compare(before, after)
    (route,) = [c for c in result.changed if c.logical_id == "OrdersGetOrdersRoute"]
    assert route.replacement == "no" and [p.path for p in route.properties] == ["RouteKey"]
    assert not result.added and not result.removed


def test_the_execution_role_may_pull_the_configured_image_from_another_account(render):
    image = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/orders@sha256:" + "a" * 64
    template = render(StackConfig(services=(own(image=image), own(name="web", image="nginx:1.27", routes=["GET /"]))))
    pulls = [s["Resource"] for s in statements(template, "OrdersExecutionRole") if "ecr:BatchGetImage" in s["Action"]]
    assert pulls == [
        [{"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}],
        [{"Fn::Sub": "arn:${AWS::Partition}:ecr:eu-west-1:210987654321:repository/team/orders"}],
    ]
    # An image outside ECR (Docker Hub): nothing beyond this account's repositories.
    assert len([s for s in statements(template, "WebExecutionRole") if "ecr:BatchGetImage" in s["Action"]]) == 1
