"""The HTTP API: JWT authorizer, private integrations to Cloud Map, routes, stage."""

from __future__ import annotations

import json

import pytest

from generator import ServiceSpec, StackConfig
from tests.support.templates import resources


def test_authorizer_trusts_only_the_stacks_user_pool_and_app_client(default_template):
    authorizer = default_template["Resources"]["JwtAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"] == {
        "Audience": [{"Ref": "UserPoolClient"}],
        "Issuer": {"Fn::Sub": ["https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPoolId}",
                               {"UserPoolId": {"Ref": "UserPool"}}]},
    }


@pytest.mark.parametrize("name", ["Foodstore", "Petstore"])
def test_integration_is_http_proxy_over_the_vpc_link_to_the_cloud_map_service(default_template, name):
    integration = default_template["Resources"][f"{name}Integration"]["Properties"]
    assert integration["IntegrationType"] == "HTTP_PROXY"
    assert integration["ConnectionType"] == "VPC_LINK"
    assert integration["ConnectionId"] == {"Ref": "VpcLink"}
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [f"{name}DiscoveryService", "Arn"]}
    assert integration["PayloadFormatVersion"] == "1.0"


def test_get_is_public_and_put_requires_the_jwt(default_template):
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in resources(default_template, "AWS::ApiGatewayV2::Route").values()}
    assert sorted(routes) == [
        "GET /foodstore/foods/{foodId}", "GET /petstore/pets/{petId}",
        "PUT /foodstore/foods/{foodId}", "PUT /petstore/pets/{petId}",
    ]
    for key, route in routes.items():
        if key.startswith("PUT"):
            assert (route["AuthorizationType"], route["AuthorizerId"]) == ("JWT", {"Ref": "JwtAuthorizer"})
        else:
            assert route["AuthorizationType"] == "NONE" and "AuthorizerId" not in route


def test_protected_methods_are_configurable(render):
    spec = ServiceSpec(name="vault", path="/vault/items/{itemId}", protected_methods=("GET", "PUT"))
    routes = resources(render(StackConfig(services=(spec,))), "AWS::ApiGatewayV2::Route")
    assert {r["Properties"]["AuthorizationType"] for r in routes.values()} == {"JWT"}


def test_each_route_reaches_its_own_ecs_service_through_cloud_map(default_template):
    """route -> integration -> Cloud Map service -> ECS service registry, for every service."""
    res = default_template["Resources"]
    for route in resources(default_template, "AWS::ApiGatewayV2::Route").values():
        path = route["Properties"]["RouteKey"].split(" ", 1)[1]
        integration_id = route["Properties"]["Target"]["Fn::Sub"].removeprefix("integrations/${").removesuffix("}")
        discovery_id = res[integration_id]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        ecs_services = [
            name for name, r in resources(default_template, "AWS::ECS::Service").items()
            if r["Properties"]["ServiceRegistries"][0]["RegistryArn"]["Fn::GetAtt"][0] == discovery_id
        ]
        assert len(ecs_services) == 1
        (container,) = res[res[ecs_services[0]]["Properties"]["TaskDefinition"]["Ref"]]["Properties"]["ContainerDefinitions"]
        prefix = {e["Name"]: e["Value"] for e in container["Environment"]}["ITEM_PATH_PREFIX"]
        assert path.startswith(prefix + "/")
        assert res[discovery_id]["Properties"]["Name"] == container["Name"]


def test_stage_auto_deploys_logs_access_as_json_and_throttles(default_template):
    stage = default_template["Resources"]["ApiStage"]["Properties"]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(stage["AccessLogSettings"]["Format"])
    for needed in ("requestId", "caller", "routeKey", "status", "latencyMs", "integrationError"):
        assert fields[needed].startswith("$context."), needed
    throttle = stage["DefaultRouteSettings"]
    assert throttle["ThrottlingBurstLimit"] > 0 and throttle["ThrottlingRateLimit"] > 0


def test_cors_admits_the_test_pages_origin_and_never_a_wildcard(default_template):
    cors = default_template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${SiteDistribution.DomainName}"}]
    assert "Parameters" not in default_template or "CorsOrigin" not in default_template["Parameters"]


def test_extra_cors_origins_are_added_sorted_after_the_pages(render):
    template = render(StackConfig(cors_origins=("https://b.example.com", "https://a.example.com")))
    assert template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]["AllowOrigins"] == [
        {"Fn::Sub": "https://${SiteDistribution.DomainName}"}, "https://a.example.com", "https://b.example.com"
    ]


def test_vpc_link_sits_in_the_private_subnets(default_template):
    link = default_template["Resources"]["VpcLink"]["Properties"]
    assert link["SubnetIds"] == [{"Ref": f"PrivateSubnet{n}"} for n in (1, 2, 3)]
    assert link["SecurityGroupIds"] == [{"Ref": "VpcLinkSecurityGroup"}]
