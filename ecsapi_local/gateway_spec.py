"""The HTTP API a template describes, read into plain values the local gateway serves: routes and
where each one goes, the JWT authorizers, CORS, throttling.

Only what a stack running on 127.0.0.1 can have is resolved, by the emulator's one resolver
(:mod:`ecsapi_local.intrinsics`): ``Ref``/``Fn::Sub``/``Fn::GetAtt`` of resources are looked up in
the local resolution's ``physical_ids`` (``"UserPool"`` or, for an attribute,
``"SiteDistribution.DomainName"``), pseudo parameters come from its region. Anything else raises
:class:`GatewayTemplateError` naming the logical id it could not resolve.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ecsapi_local.intrinsics import Resolver, TemplateError
from generator.model.errors import ConfigError
from generator.model.routes import DEFAULT_ROUTE, parse_route_key

# The AWS::ApiGatewayV2 resource types the gateway reads (CloudFormation resource reference).
API_RESOURCE = "AWS::ApiGatewayV2::Api"
ROUTE_RESOURCE = "AWS::ApiGatewayV2::Route"
INTEGRATION_RESOURCE = "AWS::ApiGatewayV2::Integration"
AUTHORIZER_RESOURCE = "AWS::ApiGatewayV2::Authorizer"
STAGE_RESOURCE = "AWS::ApiGatewayV2::Stage"
CLOUD_MAP_SERVICE_RESOURCE = "AWS::ServiceDiscovery::Service"

# Route keys are read by the model's one parser (generator.model.routes), as the generator writes them.
DEFAULT_ROUTE_KEY = DEFAULT_ROUTE
ANY_METHOD = "ANY"
# The only payload format an HTTP_PROXY integration accepts (API Gateway developer guide,
# "Working with HTTP proxy integrations for HTTP APIs").
PROXY_PAYLOAD_FORMAT = "1.0"
# The identity source a JWT authorizer reads: "$request.header.<Name>" (a single header).
_HEADER_SOURCE = re.compile(r"^\$request\.header\.([A-Za-z0-9!#$%&'*+.^_`|~-]+)$")

# A part of the template the local gateway cannot serve: the emulator's one error for that (the
# message names the logical id), under the name the gateway and its callers know it by.
GatewayTemplateError = TemplateError


@dataclass(frozen=True)
class Authorizer:
    """A JWT authorizer: the token comes from ``header``; ``issuer`` and ``audiences`` must match."""

    logical_id: str
    issuer: str
    audiences: tuple[str, ...]
    header: str  # lower-case header name, "authorization"


@dataclass(frozen=True)
class Throttle:
    """Token bucket: ``rate`` tokens a second, at most ``burst`` stored (None: that limit is unset)."""

    rate: float | None = None
    burst: int | None = None

    def over(self, default: Throttle | None) -> Throttle:
        """These limits, with the unset ones taken from ``default`` (the stage's)."""
        if default is None:
            return self
        return Throttle(self.rate if self.rate is not None else default.rate,
                        self.burst if self.burst is not None else default.burst)

    @property
    def limited(self) -> bool:
        return self.rate is not None or self.burst is not None


@dataclass(frozen=True)
class Route:
    """One route: ``method`` (or ANY) on ``path`` (None for $default), proxied to ``upstream``."""

    logical_id: str
    key: str
    method: str | None
    path: str | None
    upstream: str  # "http://127.0.0.1:8081"
    integration_id: str
    timeout_seconds: float
    authorizer: Authorizer | None = None
    scopes: tuple[str, ...] = ()
    throttle: Throttle = field(default_factory=Throttle)


@dataclass(frozen=True)
class Cors:
    """The API's CorsConfiguration, with origins resolved (unresolvable ones dropped)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    routes: tuple[Route, ...]
    cors: Cors | None


def read_api(template: Mapping, resolver: Resolver, upstreams: Mapping[str, str],
             extra_origins: tuple[str, ...] = (), local_timeout: float | None = None) -> ApiSpec:
    """The template's one HTTP API as an :class:`ApiSpec`.

    ``upstreams`` maps Cloud Map service logical ids to the URL of what serves them locally;
    ``extra_origins`` are added to the CORS origins; ``local_timeout`` caps each integration's timeout.
    """
    resources: Mapping = template.get("Resources", {})
    apis = [name for name, resource in resources.items() if resource.get("Type") == API_RESOURCE]
    if len(apis) != 1:
        raise GatewayTemplateError("Resources", f"the local gateway serves exactly one {API_RESOURCE}, found {apis}")
    [api_id] = apis
    api = resources[api_id].get("Properties", {})
    if api.get("ProtocolType") != "HTTP":
        raise GatewayTemplateError(api_id, f"ProtocolType is {api.get('ProtocolType')!r}; only HTTP APIs are served")

    def of_api(kind: str) -> dict[str, Mapping]:
        return {name: resource.get("Properties", {}) for name, resource in resources.items()
                if resource.get("Type") == kind and resolver.referenced(resource.get("Properties", {}).get("ApiId"))
                == api_id}

    stage_default, stage_routes = _read_stage(of_api(STAGE_RESOURCE))
    authorizers = {name: _read_authorizer(name, props, resolver) for name, props in of_api(AUTHORIZER_RESOURCE).items()}
    integrations = of_api(INTEGRATION_RESOURCE)
    routes = []
    for name, props in sorted(of_api(ROUTE_RESOURCE).items()):
        routes.append(_read_route(name, props, resolver, resources, integrations, authorizers, upstreams,
                                  stage_default, stage_routes, local_timeout))
    keys = [route.key for route in routes]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise GatewayTemplateError(api_id, f"route keys {duplicates} appear more than once")
    cors = _read_cors(api_id, api.get("CorsConfiguration"), resolver, extra_origins)
    return ApiSpec(logical_id=api_id, routes=tuple(routes), cors=cors)


def _read_stage(stages: Mapping[str, Mapping]) -> tuple[Throttle | None, dict[str, Throttle]]:
    """The $default stage's throttling: its default route settings and per-route-key settings."""
    default_stages = {name: props for name, props in stages.items() if props.get("StageName") == "$default"}
    if not default_stages:
        return None, {}
    [(name, props)] = default_stages.items()

    def throttle(settings: Mapping) -> Throttle:
        rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
        return Throttle(None if rate is None else float(rate), None if burst is None else int(burst))

    default = throttle(props.get("DefaultRouteSettings", {}))
    per_route = {key: throttle(settings) for key, settings in props.get("RouteSettings", {}).items()}
    return (default if default.limited else None), per_route


def _read_authorizer(name: str, props: Mapping, resolver: Resolver) -> Authorizer | None:
    if props.get("AuthorizerType") != "JWT":
        return None  # REQUEST (Lambda) authorizers: routes using one are refused in _read_route
    sources = props.get("IdentitySource", [])
    if len(sources) != 1 or not isinstance(sources[0], str) or not _HEADER_SOURCE.match(sources[0]):
        raise GatewayTemplateError(name, f"IdentitySource {sources!r} is not one $request.header.<Name>")
    config = props.get("JwtConfiguration", {})
    if "Issuer" not in config:
        raise GatewayTemplateError(name, "JwtConfiguration has no Issuer")
    issuer = resolver.value(name, "JwtConfiguration.Issuer", config["Issuer"])
    audiences = tuple(resolver.value(name, "JwtConfiguration.Audience", item) for item in config.get("Audience", []))
    return Authorizer(logical_id=name, issuer=issuer, audiences=audiences,
                      header=_HEADER_SOURCE.match(sources[0]).group(1).lower())


def _read_route(name: str, props: Mapping, resolver: Resolver, resources: Mapping, integrations: Mapping,
                authorizers: Mapping[str, Authorizer | None], upstreams: Mapping[str, str],
                stage_default: Throttle | None, stage_routes: Mapping[str, Throttle],
                local_timeout: float | None) -> Route:
    key = props.get("RouteKey")
    if not isinstance(key, str):
        raise GatewayTemplateError(name, f"RouteKey is {key!r}, not a string")
    method, path = _parse_route_key(name, key)
    integration_id = _target_integration(name, props.get("Target"), resolver)
    if integration_id not in integrations:
        raise GatewayTemplateError(name, f"Target names {integration_id}, which is not an integration of this API")
    upstream, timeout = _read_integration(integration_id, integrations[integration_id], resources, upstreams)
    if local_timeout is not None:
        timeout = min(timeout, local_timeout)
    authorization = props.get("AuthorizationType", "NONE")
    authorizer = None
    if authorization == "JWT":
        authorizer_id = resolver.referenced(props.get("AuthorizerId"))
        authorizer = authorizers.get(authorizer_id)
        if authorizer is None:
            raise GatewayTemplateError(name, f"AuthorizerId names {authorizer_id}, not a JWT authorizer of this API")
    elif authorization != "NONE":
        raise GatewayTemplateError(name, f"AuthorizationType {authorization} is not served locally (JWT or NONE)")
    scopes = tuple(props.get("AuthorizationScopes", ()))
    throttle = stage_routes.get(key, Throttle()).over(stage_default)
    return Route(logical_id=name, key=key, method=method, path=path, upstream=upstream,
                 integration_id=integration_id, timeout_seconds=timeout, authorizer=authorizer, scopes=scopes,
                 throttle=throttle)


def _parse_route_key(name: str, key: str) -> tuple[str | None, str | None]:
    try:
        method, _ = parse_route_key(key, "RouteKey")
    except ConfigError as error:
        raise GatewayTemplateError(name, str(error)) from None
    return method, (None if method is None else key.partition(" ")[2])


def _target_integration(name: str, target, resolver: Resolver) -> str:
    """The integration's logical id in ``integrations/${Integration}`` (Fn::Sub or Fn::Join with Ref)."""
    if isinstance(target, dict) and "Fn::Sub" in target:
        text = target["Fn::Sub"] if isinstance(target["Fn::Sub"], str) else target["Fn::Sub"][0]
        match = re.fullmatch(r"integrations/\$\{([A-Za-z0-9]+)\}", text)
        if match:
            return match.group(1)
    if isinstance(target, dict) and "Fn::Join" in target:
        delimiter, parts = target["Fn::Join"]
        if len(parts) == 2 and parts[0] == "integrations" and delimiter == "/" and resolver.referenced(parts[1]):
            return resolver.referenced(parts[1])
    raise GatewayTemplateError(name, f"Target {target!r} is not integrations/<a Ref to an integration>")


def _read_integration(name: str, props: Mapping, resources: Mapping, upstreams: Mapping[str, str]) -> tuple[str, float]:
    """The upstream URL that serves the integration's Cloud Map service, and its timeout in seconds."""
    if props.get("IntegrationType") != "HTTP_PROXY" or props.get("ConnectionType") != "VPC_LINK":
        raise GatewayTemplateError(
            name, "only HTTP_PROXY integrations over a VPC_LINK (to a Cloud Map service) are served locally, "
                  f"not {props.get('IntegrationType')} over {props.get('ConnectionType', 'INTERNET')}")
    if str(props.get("PayloadFormatVersion", PROXY_PAYLOAD_FORMAT)) != PROXY_PAYLOAD_FORMAT:
        raise GatewayTemplateError(name, f"PayloadFormatVersion {props['PayloadFormatVersion']!r}: HTTP_PROXY "
                                         f"uses {PROXY_PAYLOAD_FORMAT}")
    uri = props.get("IntegrationUri")
    service = uri["Fn::GetAtt"][0] if isinstance(uri, dict) and "Fn::GetAtt" in uri else None
    if service is None or resources.get(service, {}).get("Type") != CLOUD_MAP_SERVICE_RESOURCE:
        raise GatewayTemplateError(name, f"IntegrationUri {uri!r} is not the Arn of a {CLOUD_MAP_SERVICE_RESOURCE}")
    if service not in upstreams:
        raise GatewayTemplateError(
            name, f"its Cloud Map service {service} has no local upstream (upstreams[{service!r}])")
    # HTTP APIs allow 50 ms to 30 s and default to 30 s (AWS::ApiGatewayV2::Integration TimeoutInMillis).
    timeout = int(props.get("TimeoutInMillis", 30000)) / 1000
    return upstreams[service], timeout


def _read_cors(api_id: str, config: Mapping | None, resolver: Resolver, extra_origins: tuple[str, ...]) -> Cors | None:
    """The API's CORS; an origin naming a resource that does not run locally (say, the CloudFront
    distribution that serves the page in AWS) is dropped. None when the API has no CORS at all."""
    if config is None and not extra_origins:
        return None
    config = config or {}
    origins = []
    for item in config.get("AllowOrigins", []):
        try:
            origins.append(resolver.value(api_id, "CorsConfiguration.AllowOrigins", item))
        except GatewayTemplateError:
            if resolver.referenced(item) is None:
                raise
    origins.extend(origin for origin in extra_origins if origin not in origins)

    def strings(prop: str) -> tuple[str, ...]:
        return tuple(resolver.value(api_id, f"CorsConfiguration.{prop}", item) for item in config.get(prop, []))

    max_age = config.get("MaxAge")
    return Cors(allow_origins=tuple(origins), allow_methods=strings("AllowMethods"),
                allow_headers=strings("AllowHeaders"), expose_headers=strings("ExposeHeaders"),
                max_age=None if max_age is None else int(max_age),
                allow_credentials=bool(config.get("AllowCredentials", False)))
