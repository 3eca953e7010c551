"""The rendered template, read back as the emulator needs it: tables, the user pool and its app
client, and one container per ECS service with the Cloud Map service it registers in.

Everything here comes from the template's resources, never from the configuration that produced
it: :func:`render` writes the template a configuration gives (as ``make template`` would) and
:func:`read_template` reads that file back. A service added to the configuration therefore shows up
here with its table, its container and its routes, and nothing in ``ecsapi_local`` names a service.

Intrinsic functions are resolved by the emulator's one resolver (:mod:`ecsapi_local.intrinsics`),
which :meth:`EmulatedStack.resolver` makes with the values the emulator gives the resources.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ecsapi_local.intrinsics import Resolver, TemplateError, pseudo_parameters
from generator.model import page as page_contract  # standard library only, like the emulator's own modules

TABLE = "AWS::DynamoDB::Table"
USER_POOL = "AWS::Cognito::UserPool"
USER_POOL_CLIENT = "AWS::Cognito::UserPoolClient"
ECS_SERVICE = "AWS::ECS::Service"
ROUTE = "AWS::ApiGatewayV2::Route"
DOMAIN_NAME = "AWS::ApiGatewayV2::DomainName"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"


def render(config_path: Path | None, out: Path) -> Path:
    """Render ``config_path`` (None: the built-in default stack) with the generator into ``out``
    and return the template's path. Raises ConfigError for a bad configuration."""
    from generator.model.config import StackConfig
    from generator.model.config_file import load_config_file
    from generator.tooling.release import ReleaseSettings
    from generator.tooling.render import render_files, write_atomically

    config, release_file = load_config_file(config_path) if config_path else (StackConfig(), {})
    release = ReleaseSettings.resolve(release_file)
    write_atomically(render_files(out, config, release))
    return out / release.template_file()


@dataclass(frozen=True)
class Table:
    """A DynamoDB table of the template: its logical id and key, as CreateTable takes them."""

    logical_id: str
    key_schema: tuple[Mapping[str, str], ...]
    attribute_definitions: tuple[Mapping[str, str], ...]

    def create_table_arguments(self, name: str) -> dict:
        """The CreateTable request for this table under ``name`` (on demand, as the template bills it)."""
        return {
            "TableName": name,
            "KeySchema": [dict(k) for k in self.key_schema],
            "AttributeDefinitions": [dict(a) for a in self.attribute_definitions],
            "BillingMode": "PAY_PER_REQUEST",
        }


@dataclass(frozen=True)
class Container:
    """The one container of an ECS service, as its task definition describes it."""

    name: str
    """The container's name (ServiceRegistries ContainerName), e.g. foodstore."""
    service_id: str
    """The ECS service's logical id, e.g. FoodstoreService."""
    discovery_id: str
    """The logical id of the Cloud Map service it registers in, e.g. FoodstoreDiscoveryService:
    the key of the gateway's upstreams."""
    port: int
    """The container port it registers (ServiceRegistries ContainerPort)."""
    environment: Mapping[str, object]
    """The task definition's Environment, name -> value, intrinsics unresolved."""
    min_tasks: int = 1
    """How many tasks the service runs at least: its scalable target's MinCapacity, whose
    parameter's default is the configuration's ``min_tasks``. 1 when the template scales nothing."""


@dataclass(frozen=True)
class Route:
    """An HTTP API route and the container behind it."""

    method: str
    path: str
    authorized: bool
    """True when the route needs a JWT (AuthorizationType JWT)."""
    container: str
    """The container's name."""


@dataclass(frozen=True)
class EmulatedStack:
    """What the emulator creates and runs, read from one rendered template."""

    template_path: Path
    template: Mapping = field(repr=False)
    tables: tuple[Table, ...]
    user_pool_id: str
    """Logical id of the user pool."""
    user_pool: Mapping
    """The user pool's Properties."""
    client_id: str
    """Logical id of the app client."""
    client: Mapping
    """The app client's Properties."""
    containers: tuple[Container, ...]
    routes: tuple[Route, ...]

    @property
    def api_domain(self) -> str | None:
        """The custom domain the deployed stack's API answers on (its DomainName resource), None
        without one. The emulator still serves on loopback; config.json names it as apiDomain."""
        for resource in self.template.get("Resources", {}).values():
            if resource.get("Type") == DOMAIN_NAME:
                return resource.get("Properties", {}).get("DomainName")
        return None

    def table(self, logical_id: str) -> Table:
        return next(t for t in self.tables if t.logical_id == logical_id)

    def resolver(self, region: str, stack_name: str, physical_ids: Mapping[str, str] | None = None) -> Resolver:
        """The resolver of this template for a stack called ``stack_name`` in ``region``, whose
        resources the emulator named ``physical_ids`` (more come with ``with_physical_ids``)."""
        return Resolver(self.template, physical_ids or {}, pseudo_parameters(region, stack_name=stack_name))

    def page_config(self, resolver: Resolver, api_url: str, cognito_endpoint: str) -> dict:
        """The test page's config.json (web/config.schema.json) for this stack emulated:
        services and their protected methods from the routes, the password policy from the pool."""
        services = []
        for container in self.containers:
            routes = [r for r in self.routes if r.container == container.name]
            if not routes:
                continue
            services.append(page_contract.page_service(
                container.name, routes[0].path, [r.method for r in routes if r.authorized]))
        # The page lists services in the configuration's order, which the template's sorted
        # resources lose and its Metadata keeps (generator/template/stack.py).
        order = list(self.template.get("Metadata", {}).get("ecsapi", {}).get("services", ()))
        services.sort(key=lambda s: order.index(s["name"]) if s["name"] in order else len(order))
        return page_contract.page_config(
            region=resolver.resolve({"Ref": "AWS::Region"}),
            api_url=api_url,
            api_domain=self.api_domain,
            user_pool_id=resolver.resolve({"Ref": self.user_pool_id}),
            client_id=resolver.resolve({"Ref": self.client_id}),
            password_policy=self.user_pool.get("Policies", {}).get("PasswordPolicy", {}),
            services=services,
            cognito_endpoint=cognito_endpoint,
        )


def read_template(path: Path) -> EmulatedStack:
    """Read a rendered JSON template into an :class:`EmulatedStack`; raises :class:`TemplateError`
    for what the emulator cannot run."""
    template = json.loads(Path(path).read_text())
    resources: dict[str, dict] = template.get("Resources", {})

    def of_type(kind: str) -> dict[str, dict]:
        return {name: r.get("Properties", {}) for name, r in sorted(resources.items()) if r.get("Type") == kind}

    tables = tuple(
        Table(name, tuple(p["KeySchema"]), tuple(p["AttributeDefinitions"])) for name, p in of_type(TABLE).items()
    )
    pools, clients = of_type(USER_POOL), of_type(USER_POOL_CLIENT)
    if len(pools) != 1 or len(clients) != 1:
        raise TemplateError(str(path), f"expected one {USER_POOL} and one {USER_POOL_CLIENT}, "
                                       f"found {sorted(pools)} and {sorted(clients)}")
    (pool_id, pool), (client_id, client) = next(iter(pools.items())), next(iter(clients.items()))
    targets = of_type(SCALABLE_TARGET)
    containers = tuple(_container(name, props, resources, template, targets)
                       for name, props in of_type(ECS_SERVICE).items())
    by_discovery = {c.discovery_id: c.name for c in containers}
    routes = tuple(_route(name, props, resources, by_discovery) for name, props in of_type(ROUTE).items())
    return EmulatedStack(Path(path), template, tables, pool_id, pool, client_id, client, containers, routes)


def _logical_id(value: object, where: str) -> str:
    """The logical id in ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attribute]}``."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return target[0] if isinstance(target, list) else target.split(".", 1)[0]
    raise TemplateError(where, f"expected a Ref or Fn::GetAtt, found {json.dumps(value)}")


def _min_tasks(service_id: str, template: Mapping, targets: Mapping[str, Mapping]) -> int:
    """MinCapacity of the scalable target whose ResourceId names the service (a Ref to a parameter:
    its Default), else 1."""
    for props in targets.values():
        resource_id = props.get("ResourceId", {})
        if isinstance(resource_id, dict) and f"${{{service_id}.Name}}" in str(resource_id.get("Fn::Sub", "")):
            minimum = props.get("MinCapacity")
            if isinstance(minimum, dict) and "Ref" in minimum:
                minimum = template.get("Parameters", {}).get(minimum["Ref"], {}).get("Default")
            return int(minimum) if minimum is not None else 1
    return 1


def _container(service_id: str, props: Mapping, resources: Mapping, template: Mapping,
               targets: Mapping[str, Mapping]) -> Container:
    registries = props.get("ServiceRegistries", [])
    if len(registries) != 1:
        raise TemplateError(service_id, f"expected one ServiceRegistries entry, found {len(registries)}")
    registry = registries[0]
    discovery_id = _logical_id(registry["RegistryArn"], f"{service_id}.ServiceRegistries")
    task_id = _logical_id(props["TaskDefinition"], f"{service_id}.TaskDefinition")
    definitions = resources[task_id]["Properties"]["ContainerDefinitions"]
    matching = [d for d in definitions if d["Name"] == registry["ContainerName"]]
    if len(matching) != 1:
        raise TemplateError(task_id, f"no container named {registry['ContainerName']}")
    environment = {e["Name"]: e["Value"] for e in matching[0].get("Environment", [])}
    return Container(registry["ContainerName"], service_id, discovery_id, int(registry["ContainerPort"]), environment,
                     _min_tasks(service_id, template, targets))


def _route(route_id: str, props: Mapping, resources: Mapping, by_discovery: Mapping[str, str]) -> Route:
    method, _, path = props["RouteKey"].partition(" ")
    target = props.get("Target", {})
    match = re.fullmatch(r"integrations/\$\{(\w+)\}", target.get("Fn::Sub", "")) if isinstance(target, dict) else None
    if not match:
        raise TemplateError(route_id, f"expected Target integrations/${{Integration}}, found {json.dumps(target)}")
    integration = resources[match.group(1)]["Properties"]
    discovery_id = _logical_id(integration["IntegrationUri"], f"{match.group(1)}.IntegrationUri")
    if discovery_id not in by_discovery:
        raise TemplateError(route_id, f"its integration points at {discovery_id}, which no ECS service registers in")
    return Route(method, path, props.get("AuthorizationType") == "JWT", by_discovery[discovery_id])
