"""API Gateway HTTP API: a VPC link into the private subnets, one private integration per Cloud Map
service, each service's routes (the item store's GET/PUT, your own service's any routes) to it, a
JWT authorizer (the stack's Cognito pool or an external issuer), and a logged, throttled stage."""

from __future__ import annotations

import json

from troposphere import GetAtt, Ref, Sub, Template, ec2, kms, logs
from troposphere import apigatewayv2 as apigw

from generator.model.config import ServiceSpec, StackConfig
from generator.model.constants import (
    INTEGRATION_CONNECTION_TYPE,
    INTEGRATION_METHOD,
    INTEGRATION_PAYLOAD_FORMAT,
    INTEGRATION_TIMEOUT_MS,
    INTEGRATION_TYPE,
    JWT_IDENTITY_SOURCE,
)
from generator.model.records import dataclass
from generator.model.routes import ROUTE_METHODS, RouteSpec
from generator.template.auth import Auth
from generator.template.logs import add_log_group
from generator.template.names import logical_id, unique_name
from generator.template.network import Network
from generator.template.services import Service

# What each access-log line records: enough to trace a request end to end and see who called,
# which route answered, how long it took and what the integration said when it failed.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.authorizer.claims.sub",
        "userAgent": "$context.identity.userAgent",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationStatus": "$context.integrationStatus",
        "integrationLatencyMs": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    },
    sort_keys=True,
    separators=(",", ":"),
)


# The prefix CloudWatch Logs admits without a resource-policy entry per group (see _add_stage).
VENDED_LOGS_PREFIX = "/aws/vendedlogs/"


def access_log_group_name() -> Sub:
    """``/aws/vendedlogs/ecsapi-api-access-<stack uuid>``: the stage's access-log group."""
    return unique_name("api-access", prefix=VENDED_LOGS_PREFIX)


@dataclass(frozen=True)
class Api:
    """The HTTP API that ``add_api`` created, with its stage and access log."""

    api: apigw.Api
    stage: apigw.Stage
    """The ``$default`` stage: its throttling, access logs and (for alarms) its metrics."""
    access_logs: logs.LogGroup
    """The stage's access log: the dashboard counts throttled (429) requests in it."""


def add_api(
    template: Template,
    config: StackConfig,
    network: Network,
    services: list[Service],
    auth: Auth,
    key: kms.Key | None,
    page_origins: tuple[str | Sub, ...] = (),
) -> Api:
    """The HTTP API in front of ``services``: each gets its routes (``ServiceSpec.api_routes``);
    browsers on ``page_origins`` (the test page's, when the stack serves it: ``Site.origin``) and
    on ``config.cors_origins`` may call it."""
    # No origin at all means no CORS configuration, so browsers on other origins cannot read responses.
    origins = list(page_origins) + list(config.cors_origins)
    cors = (
        {
            "CorsConfiguration": apigw.Cors(
                AllowOrigins=origins,
                AllowMethods=cors_methods(config),
                AllowHeaders=["authorization", "content-type"],
                MaxAge=600,
            )
        }
        if origins
        else {}
    )
    api = template.add_resource(
        apigw.Api(
            "HttpApi",
            Name=Sub("${AWS::StackName}"),
            ProtocolType="HTTP",
            Description=(
                "Item-store services on ECS Fargate, reached through a VPC link and Cloud Map"
                if all(spec.is_item_store for spec in config.services)
                else "Container services on ECS Fargate, reached through a VPC link and Cloud Map"
            ),
            **cors,
            # Only the custom domain answers (generator/template/domain.py maps it to the stage).
            **({"DisableExecuteApiEndpoint": True}
               if config.domain is not None and config.domain.disable_execute_api_endpoint else {}),
        )
    )
    vpc_link = _add_vpc_link(template, network, services)
    authorizer = template.add_resource(
        apigw.Authorizer(
            "JwtAuthorizer",
            ApiId=Ref(api),
            Name="cognito" if auth.cognito is not None else "jwt",
            AuthorizerType="JWT",
            IdentitySource=[JWT_IDENTITY_SOURCE],
            JwtConfiguration=apigw.JWTConfiguration(Issuer=auth.issuer, Audience=list(auth.audiences)),
        )
    )
    integrations: dict[str, apigw.Integration] = {}
    routes: dict[str, apigw.Route] = {}
    for service in services:
        integrations[service.spec.name] = _add_integration(template, api, vpc_link, service)
        routes.update(_add_routes(template, api, authorizer, integrations[service.spec.name], service.spec))
    stage, access_logs = _add_stage(template, config, key, api, services, routes)
    return Api(api=api, stage=stage, access_logs=access_logs)


# The container ports ServiceSpec accepts (generator/model/config.py checks 1024-65535).
CONTAINER_PORTS = (1024, 65535)


def _add_vpc_link(template: Template, network: Network, services: list[Service]) -> apigw.VpcLink:
    """The VPC link in the private subnets; its security group reaches only the services' container
    groups, and each container group admits it on the container port only.

    The link's egress names each container group over the whole container port range, not the one
    port: changing a service's port then changes only the group's ingress rule, a separate resource
    whose ports are create-only, so CloudFormation creates the new rule first and deletes the old
    one in its cleanup, after the service's deployment has finished ("Update behaviors of stack
    resources", AWS CloudFormation User Guide). Old tasks on the old port and new ones on the new
    port are both reachable while the deployment runs. An egress rule updated in place would
    switch ports at once, before the new tasks serve: 5xx until they do."""
    link_group = template.add_resource(
        ec2.SecurityGroup(
            "VpcLinkSecurityGroup",
            GroupDescription="API Gateway VPC link - outbound only to the service container ports",
            VpcId=Ref(network.vpc),
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=CONTAINER_PORTS[0],
                    ToPort=CONTAINER_PORTS[1],
                    DestinationSecurityGroupId=Ref(service.security_group),
                    Description=f"To {service.spec.name} containers",
                )
                for service in services
            ],
        )
    )
    for service in services:
        # A separate rule resource: inline, the two groups would reference each other (a cycle).
        template.add_resource(
            ec2.SecurityGroupIngress(
                logical_id(service.spec.name, "IngressFromVpcLink"),
                GroupId=Ref(service.security_group),
                IpProtocol="tcp",
                FromPort=service.spec.port,
                ToPort=service.spec.port,
                SourceSecurityGroupId=Ref(link_group),
                Description="From the API Gateway VPC link only",
            )
        )
    return template.add_resource(
        apigw.VpcLink(
            "VpcLink",
            Name=Sub("${AWS::StackName}"),
            SubnetIds=[Ref(subnet) for subnet in network.private_subnets],
            SecurityGroupIds=[Ref(link_group)],
        )
    )


def _add_integration(template: Template, api: apigw.Api, vpc_link: apigw.VpcLink, service: Service) -> apigw.Integration:
    """A private integration: API Gateway resolves the Cloud Map service's SRV records itself."""
    return template.add_resource(
        apigw.Integration(
            logical_id(service.spec.name, "Integration"),
            ApiId=Ref(api),
            Description=f"{service.spec.name} via Cloud Map",
            IntegrationType=INTEGRATION_TYPE,
            IntegrationMethod=INTEGRATION_METHOD,
            ConnectionType=INTEGRATION_CONNECTION_TYPE,
            ConnectionId=Ref(vpc_link),
            IntegrationUri=GetAtt(service.discovery_service, "Arn"),
            PayloadFormatVersion=INTEGRATION_PAYLOAD_FORMAT,
            TimeoutInMillis=INTEGRATION_TIMEOUT_MS,
        )
    )


def cors_methods(config: StackConfig) -> list[str]:
    """The methods browsers may send: every method a route names (``*`` when an ``ANY`` or
    ``$default`` route takes them all), then OPTIONS for the preflight."""
    methods = {route.method for spec in config.services for route in spec.api_routes}
    if None in methods or "ANY" in methods:
        return ["*"]
    return [m for m in ROUTE_METHODS if m in methods and m != "OPTIONS"] + ["OPTIONS"]


def route_logical_id(spec: ServiceSpec, route: RouteSpec) -> str:
    """``<Service><RouteName>Route``: ``FoodstoreGetRoute``, ``OrdersPostOrdersRoute``; it depends on
    this route alone, so adding routes renames none."""
    return logical_id(spec.name, route.logical_name, "Route")


def _add_routes(
    template: Template, api: apigw.Api, authorizer: apigw.Authorizer, integration: apigw.Integration, spec: ServiceSpec
) -> dict[str, apigw.Route]:
    """Each of the service's routes to its integration; ``jwt`` routes through the JWT authorizer,
    with their scopes as ``AuthorizationScopes`` (API Gateway then wants one of them in the token)."""
    routes = {}
    for route in spec.api_routes:
        if route.protected:
            authorization = {"AuthorizationType": "JWT", "AuthorizerId": Ref(authorizer)}
            if route.scopes:
                authorization["AuthorizationScopes"] = list(route.scopes)
        else:
            authorization = {"AuthorizationType": "NONE"}
        routes[route.route] = template.add_resource(
            apigw.Route(
                route_logical_id(spec, route),
                ApiId=Ref(api),
                RouteKey=route.route,
                Target=Sub(f"integrations/${{{integration.title}}}"),
                **authorization,
            )
        )
    return routes


def _add_stage(
    template: Template,
    config: StackConfig,
    key: kms.Key | None,
    api: apigw.Api,
    services: list[Service],
    routes: dict[str, apigw.Route],
) -> tuple[apigw.Stage, logs.LogGroup]:
    """The auto-deployed ``$default`` stage: JSON access logs, stage-wide and per-route throttling,
    and route-level metrics when ``config.detailed_metrics`` is on."""
    # Set on every route's own settings too, so a route with its own throttling keeps them.
    detailed = {"DetailedMetricsEnabled": True} if config.detailed_metrics else {}
    # Route settings name routes by key, so the stage must wait for the routes it throttles.
    throttled = {
        route_key: (routes[route_key], service.spec)
        for service in services
        if service.spec.throttle_rate_limit is not None
        for route_key in (route.route for route in service.spec.api_routes)
    }
    route_throttling = (
        {
            "RouteSettings": {
                route_key: {
                    "ThrottlingBurstLimit": spec.throttle_burst_limit,
                    "ThrottlingRateLimit": spec.throttle_rate_limit,
                    **detailed,
                }
                for route_key, (_, spec) in sorted(throttled.items())
            },
            "DependsOn": [route.title for route, _ in throttled.values()],
        }
        if throttled
        else {}
    )
    # API Gateway adds the access-log group to the region's CloudWatch Logs resource policy, which
    # holds 5,120 characters at most; when it is full, the stage fails ("Cannot enable logging.
    # Policy document length ..."), and retained groups of earlier stacks keep it full. Groups
    # whose names start with /aws/vendedlogs/ need no entry of their own: "CloudWatch Logs resource
    # policies are limited to 5120 characters. When CloudWatch Logs detects that a policy
    # approaches this size limit, it automatically enables log groups that start with
    # /aws/vendedlogs/" ("Avoiding Amazon CloudWatch Logs resource policy size restrictions", AWS
    # Step Functions Developer Guide; the same advice in Cognito's CloudWatchLogsConfigurationType,
    # pointing at "Enabling logging from AWS services"). The stack's UUID keeps the name unique, and
    # short: 70 characters of the 512 "AWS::Logs::LogGroup" allows.
    access_logs = add_log_group(template, config, key, "ApiAccessLogGroup", name=access_log_group_name())
    stage = template.add_resource(
        apigw.Stage(
            "ApiStage",
            ApiId=Ref(api),
            StageName="$default",
            AutoDeploy=True,
            AccessLogSettings=apigw.AccessLogSettings(
                DestinationArn=GetAtt(access_logs, "Arn"), Format=ACCESS_LOG_FORMAT
            ),
            DefaultRouteSettings=apigw.RouteSettings(
                ThrottlingBurstLimit=config.throttle_burst_limit, ThrottlingRateLimit=config.throttle_rate_limit,
                **detailed,
            ),
            **route_throttling,
        )
    )
    return stage, access_logs
