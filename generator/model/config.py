"""Stack configuration as typed, frozen, validated data.

``StackConfig()`` is the default stack (food store and pet store). Every field documents its default
and its constraint beside it; a value outside the constraint raises :class:`ConfigError` naming the
field, the value and what is allowed, when the object is built, before any template exists.
``None`` means "unset, use the default described here" (never ``""`` or ``0``).
"""

from __future__ import annotations

import enum
import ipaddress
from pathlib import Path

from generator.model.auth import AuthSpec, cognito_scope_parts
from generator.model.checks import ENV_NAME, as_enum, flag, int_in, one_of, string_pairs, strings
from generator.model.constants import (
    DEFAULT_CONTAINER_PORT,
    DEFAULT_DRAIN_SECONDS,
    ENV_DRAIN_SECONDS,
    ENV_GRACEFUL_TIMEOUT,
    ENV_PORT,
    ENV_REGION,
    FARGATE_CPU_MEMORY,
    FARGATE_MAX_STOP_TIMEOUT_SECONDS,
    GRACEFUL_TIMEOUT_SECONDS,
    HEALTH_CHECK_COMMAND,
    ITEM_METHODS,
    LOG_RETENTION_DAYS,
    MAX_DRAIN_SECONDS,
    MAX_MIN_TASKS,
    MAX_TASKS,
    MIN_MIN_TASKS,
    RESERVED_ENVIRONMENT,
    STOP_MARGIN_SECONDS,
    stop_timeout_seconds,
)
from generator.model.domain import DomainSpec
from generator.model.errors import ConfigError
from generator.model.openapi_routes import load_openapi_document, routes_from_openapi
from generator.model.patterns import lazy
from generator.model.records import dataclass
from generator.model.routes import (
    DEFAULT_ROUTE,
    MAX_INTEGRATIONS_PER_API,
    MAX_ROUTES_PER_API,
    RouteSpec,
    route_shape,
)
from generator.model.secrets import SecretSource, kms_key_partition, secret_source
from generator.model.tables import TableSpec
from generator.model.tasks import NO_HEALTH_CHECK, HealthCheckSpec, LocalRun, health_check_from

SERVICE_NAME = lazy(r"^[a-z][a-z0-9]{0,19}$")
PATH_SEGMENT = lazy(r"^[A-Za-z0-9._~-]+$")
PATH_PARAMETER = lazy(r"^\{([A-Za-z][A-Za-z0-9_]{0,63})\}$")
ATTRIBUTE_NAME = lazy(r"^[A-Za-z0-9_.-]{1,255}$")
TAG_KEY = lazy(r"^(?!aws:)[\w .:/=+@-]{1,128}$")
# Names that say "this is a secret": such values belong in Secrets Manager, not in plain text.
SECRET_NAME = lazy(r"(?i)(secret|passw(or)?d|token|credential|api_?key|private_?key|access_?key)")
ORIGIN = lazy(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
# An AZ name (us-east-1a, us-gov-west-1b) or a zone ID (use1-az4, usgw1-az1).
AZ_NAME_OR_ID = lazy(r"^([a-z]{2}(-[a-z]+)+-[0-9]+[a-z]|[a-z]+[0-9]+-az[0-9]+)$")


class NatMode(str, enum.Enum):
    """How the tasks reach the internet for their outbound calls (image pulls, CloudWatch Logs)."""

    PER_AZ = "per-az"  # one NAT gateway per AZ: an AZ outage does not cut the others off
    SINGLE = "single"  # one shared NAT gateway: cheaper, but a single point of failure
    # No NAT gateway and no Elastic IP: the tasks run in the public subnets with a public IPv4
    # address each, for outbound calls only; their security group still admits only the VPC
    # link's, so nothing on the internet can open a connection to a task (generator/template/network.py).
    NONE = "none"


class CpuArchitecture(str, enum.Enum):
    """The CPU the tasks run on, and the image the stack builds for them."""

    X86_64 = "X86_64"
    # AWS Graviton. Fargate Spot takes ARM64 tasks: "Amazon ECS now supports AWS Graviton-based Spot
    # compute with AWS Fargate" (AWS What's New, 2024-09,
    # https://aws.amazon.com/about-aws/whats-new/2024/09/amazon-ecs-graviton-based-spot-compute-fargate/),
    # and the ECS API Reference, CapacityProviderStrategyItem: "FARGATE_SPOT supports Linux tasks with
    # the ARM64 architecture on platform version 1.4.0 or later" (Fargate's LATEST Linux platform
    # version, which the services use). The developer guide's "Fargate capacity providers" page still
    # says ARM64 is not supported; it predates that announcement, so the combination is allowed.
    ARM64 = "ARM64"


class DeletionPolicy(str, enum.Enum):
    """What happens to stored data (tables, user pool) when the stack or resource is deleted."""

    RETAIN = "Retain"
    DELETE = "Delete"


class MfaMode(str, enum.Enum):
    """Cognito multi-factor authentication (TOTP software tokens)."""

    OFF = "OFF"
    OPTIONAL = "OPTIONAL"  # each user may turn it on
    ON = "ON"  # every user must set up a TOTP app at first sign-in


class ThreatProtection(str, enum.Enum):
    """Cognito threat protection (compromised credentials, adaptive authentication).

    Anything but OFF needs the user pool's Plus feature plan, which is billed per monthly active
    user; that cost is why the default is OFF.
    """

    OFF = "OFF"
    AUDIT = "AUDIT"  # detect and log risky sign-ins, block nothing
    ENFORCED = "ENFORCED"  # block or challenge risky sign-ins


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its container, its routes, its tables, its secrets and its scaling.

    A service is one of two kinds, by which of these it sets:

    - ``routes`` (or ``openapi``, routes read from an OpenAPI document): **your own container API**.
      Any routes, ``image`` and ``health_check`` required, zero or more ``tables``, ``secrets``.
    - ``path``: **the item store**, the built-in example. ``GET`` and ``PUT`` on one item path, one
      table keyed by the path's parameter, and the item-store image (built by the stack unless
      ``image`` is set). 3.0.0's services; its fields ``table_key`` and ``protected_methods``
      belong to this kind only.
    """

    name: str
    """Lower-case letters and digits, 1–20 characters, starting with a letter. Names the Cloud Map
    service and every logical id of the service (``foodstore`` -> ``FoodstoreTable``)."""
    path: str | None = None
    """Item store only: the item route, ``/<segment>/.../{idParameter}``: one or more fixed segments, then exactly
    one path parameter, last (``/foodstore/foods/{foodId}``)."""
    table_key: str | None = None
    """The DynamoDB hash key attribute (type S), 1-255 of letters, digits, '_', '-', '.'. Default
    (None): the path parameter's name; read the effective name from :attr:`key_attribute`."""
    image: str | None = None
    """The default of the service's image parameter (``repo/name:tag`` or ``...@sha256:...``).
    Default: unset, and the parameter empty: the stack builds the item-store image from the
    release's source archive in the deploying account and runs it (generator/template/image.py)."""
    port: int = DEFAULT_CONTAINER_PORT
    """Container port, 1024–65535 (the containers run as a non-root user). Default 8080."""
    cpu: int = 256
    """Fargate cpu units: 256, 512, 1024, 2048, 4096, 8192 or 16384. Default 256."""
    memory: int = 512
    """Fargate memory (MiB); must be a size Fargate accepts for ``cpu``. Default 512."""
    min_tasks: int = 1
    """Fewest running tasks, 1–10, at most ``max_tasks``: the scaling floor, which the service
    reaches at creation. Not 0: target tracking cannot scale out a service with no tasks. Default 1."""
    max_tasks: int = 4
    """Most running tasks, 1–1000, at least ``min_tasks``. Default 4."""
    cpu_target: int = 50
    """Target average CPU utilization (%) for target-tracking scaling, 10–90. Default 50."""
    protected_methods: tuple[str, ...] | None = None
    """Item store only: the methods that require a valid JWT; a subset of GET, PUT. Default (None):
    PUT only. Your own services say it per route (``auth``)."""
    environment: tuple[tuple[str, str], ...] = ()
    """Extra container environment (name -> value); may not override the variables ecsapi sets
    (PORT, AWS_REGION, DRAIN_SECONDS, each table's ``<NAME>_TABLE``; for the item store also
    TABLE_NAME, TABLE_KEY, ITEM_PATH_PREFIX). No secrets here: plain text in the task definition
    (use ``secrets``). DYNAMODB_*/RETRY_* names tune the item store's DynamoDB client and must be
    ones it reads, with values that keep a request's worst case under API Gateway's 30 s (checked
    by the container's own rules, itemstore.settings.check_overrides). Default: none."""
    log_retention_days: int | None = None
    """CloudWatch retention for this service's logs. Default: the stack's ``log_retention_days``."""
    throttle_rate_limit: int | None = None
    """Steady requests per second allowed on each of this service's routes, 1–10000. Default: the
    stack's ``throttle_rate_limit``. Set together with ``throttle_burst_limit``."""
    throttle_burst_limit: int | None = None
    """Burst of requests allowed on each of this service's routes, 1–5000. Default: the stack's."""
    drain_seconds: int = DEFAULT_DRAIN_SECONDS
    """How long a task keeps accepting and serving after SIGTERM, before gunicorn's graceful stop,
    0–120: API Gateway keeps routing to a stopped task from its cache of Cloud Map's answer
    (itemstore.contract.DEFAULT_DRAIN_SECONDS says what is known). 0 turns draining off. The task's
    stop timeout is drain + graceful timeout + margin (:attr:`stop_timeout_seconds`) and must fit
    Fargate's 120 s. Your own image need not drain, but then requests in flight on a stopped task
    fail: on SIGTERM it should keep serving for ``drain_seconds`` (its ``DRAIN_SECONDS`` variable),
    then finish what it has and exit. Default 45."""
    routes: tuple[RouteSpec, ...] = ()
    """Your own service's routes: ``{ route = "POST /orders", auth = "jwt", scopes = ["orders/write"] }``
    (:class:`RouteSpec`). Each goes to this service. Default: none (set ``routes``, ``openapi`` or ``path``)."""
    openapi: str | None = None
    """Instead of ``routes``: an OpenAPI 3 document (JSON or YAML; in a stack file, relative to it)
    whose paths and operations are the routes; an operation whose ``security`` names an oauth2,
    openIdConnect or http bearer scheme gets ``auth = "jwt"`` with that requirement's scopes."""
    health_check: HealthCheckSpec | str | None = None
    """Your own service: ``{ command = ["CMD-SHELL", "curl -f http://127.0.0.1:8080/healthz || exit 1"] }``
    (:class:`HealthCheckSpec`), or ``"none"``: no health check, so ECS counts a task healthy once it
    runs and Cloud Map (so API Gateway) may route to it before it listens. Required for your own
    services; the item store's default is its own ``python -m itemstore.healthcheck``."""
    command: tuple[str, ...] | None = None
    """Overrides the image's ``CMD`` in the task definition (one image, several services). Default:
    the image's own."""
    secrets: tuple[tuple[str, str], ...] = ()
    """Variable name -> full ARN of a Secrets Manager secret (optionally ``:json-key:stage:id``) or
    an SSM parameter; ECS puts the value into the container's environment at start. The task's
    execution role may read exactly these. Default: none."""
    kms_key: str | None = None
    """The ARN of the customer managed KMS key that encrypts ``secrets``, if any (the execution role
    may then decrypt with it). Default: none (AWS managed keys)."""
    tables: tuple[TableSpec, ...] = ()
    """Your own service's DynamoDB tables, zero or more (:class:`TableSpec`); the task role may use
    exactly these. Default: none."""
    local: LocalRun | None = None
    """How ``make local`` runs this service on your machine (:class:`LocalRun`). Default: none
    (the item store runs without it; your own service needs it to run locally)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not SERVICE_NAME.match(self.name):
            raise ConfigError(
                "name", self.name, "use 1-20 lower-case letters and digits, starting with a letter"
            )
        self._check_kind()
        if self.table_key is not None and (not isinstance(self.table_key, str) or not ATTRIBUTE_NAME.match(self.table_key)):
            raise ConfigError("table_key", self.table_key, "use 1-255 letters, digits, '_', '-' or '.'")
        if self.image is not None and (not isinstance(self.image, str) or not self.image.strip()
                                       or len(self.image) > 255 or any(c.isspace() for c in self.image)):
            raise ConfigError("image", self.image, "give an image reference such as repo/name:tag, or leave unset")
        int_in("port", self.port, 1024, 65535)
        one_of("cpu", self.cpu, tuple(FARGATE_CPU_MEMORY))
        allowed_memory = FARGATE_CPU_MEMORY[self.cpu]
        if self.memory not in allowed_memory:
            raise ConfigError(
                "memory", self.memory,
                f"with cpu {self.cpu} Fargate accepts {allowed_memory[0]}-{allowed_memory[-1]} MiB "
                f"in these steps: {', '.join(map(str, allowed_memory))}",
            )
        if self.min_tasks == 0:
            raise ConfigError(
                "min_tasks", 0,
                f"must be {MIN_MIN_TASKS}-{MAX_MIN_TASKS}: CPU target tracking cannot scale out a service that runs no tasks",
            )
        int_in("min_tasks", self.min_tasks, MIN_MIN_TASKS, MAX_MIN_TASKS)
        int_in("max_tasks", self.max_tasks, 1, MAX_TASKS)
        if self.min_tasks > self.max_tasks:
            raise ConfigError("min_tasks", self.min_tasks, f"must not exceed max_tasks ({self.max_tasks})")
        int_in("cpu_target", self.cpu_target, 10, 90)
        self._check_protected_methods()
        self._check_tables()
        environment = string_pairs("environment", self.environment, ENV_NAME, "variable names")
        reserved = self.reserved_environment
        for name, _ in environment:
            if SECRET_NAME.search(name):
                raise ConfigError(
                    f"environment.{name}", name,
                    "environment values are plain text in the task definition; put the value in Secrets "
                    f'Manager or SSM Parameter Store and name it in secrets = {{ {name} = "arn:..." }} instead',
                )
            if name in reserved:
                raise ConfigError(
                    f"environment.{name}", name,
                    f"ecsapi sets {', '.join(sorted(reserved))} itself; choose another name",
                )
        object.__setattr__(self, "environment", environment)
        if self.is_item_store and environment:
            # Imported here: with no extra environment there is nothing to check (the container's
            # defaults pass its own check: tests/containers/test_settings.py), and the default
            # stack's cold run skips the module (~8 million instructions, 1.5%).
            from itemstore.settings import SettingsError, check_overrides

            try:
                # The item store refuses at start what it cannot run with (worst case of a request
                # over API Gateway's 30 s integration timeout, unknown or invalid DynamoDB client
                # settings): refuse it here, before a deployment whose tasks would never start.
                check_overrides(dict(environment))
            except SettingsError as error:
                # One variable, or several that are only wrong together (their worst case).
                field = "environment" if "," in error.name else f"environment.{error.name}"
                raise ConfigError(field, error.value, f"{error.name}: {error.allowed}") from None
        self._check_secrets()
        self._check_container()
        if self.log_retention_days is not None:
            one_of("log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        if (self.throttle_rate_limit is None) != (self.throttle_burst_limit is None):
            raise ConfigError(
                "throttle_rate_limit" if self.throttle_rate_limit is None else "throttle_burst_limit", None,
                "set throttle_rate_limit and throttle_burst_limit together, or neither",
            )
        if self.throttle_rate_limit is not None:
            int_in("throttle_rate_limit", self.throttle_rate_limit, 1, 10000)
            int_in("throttle_burst_limit", self.throttle_burst_limit, 1, 5000)
        self._check_stop_timeout()
        self._check_local()

    @property
    def graceful_timeout_seconds(self) -> int:
        """gunicorn's graceful timeout in the task: GUNICORN_GRACEFUL_TIMEOUT from ``environment``,
        else the container's default (itemstore.contract.GRACEFUL_TIMEOUT_SECONDS)."""
        value = dict(self.environment).get(ENV_GRACEFUL_TIMEOUT)
        return GRACEFUL_TIMEOUT_SECONDS if value is None else int(value)

    @property
    def stop_timeout_seconds(self) -> int:
        """The container's StopTimeout: drain + graceful timeout + margin (itemstore.contract)."""
        return stop_timeout_seconds(self.drain_seconds, self.graceful_timeout_seconds)

    def _check_stop_timeout(self) -> None:
        int_in("drain_seconds", self.drain_seconds, 0, MAX_DRAIN_SECONDS)
        graceful = dict(self.environment).get(ENV_GRACEFUL_TIMEOUT)
        # The container refuses anything but a whole number 1-3600 (itemstore.gunicorn_conf).
        if graceful is not None and not (graceful.isdigit() and 1 <= int(graceful) <= 3600):
            raise ConfigError(f"environment.{ENV_GRACEFUL_TIMEOUT}", graceful, "must be a whole number of seconds from 1 to 3600")
        if self.stop_timeout_seconds > FARGATE_MAX_STOP_TIMEOUT_SECONDS:
            raise ConfigError(
                f"drain_seconds, environment.{ENV_GRACEFUL_TIMEOUT}",
                f"{self.drain_seconds}, {self.graceful_timeout_seconds}",
                f"after SIGTERM a task drains, then stops gracefully, then needs {STOP_MARGIN_SECONDS} s to exit: "
                f"{self.stop_timeout_seconds} s in all, over Fargate's maximum stop timeout of "
                f"{FARGATE_MAX_STOP_TIMEOUT_SECONDS} s, so ECS would kill it mid-request; shorten the drain or "
                "the graceful timeout",
            )

    @property
    def is_item_store(self) -> bool:
        """True for the built-in item store (``path``), False for your own API (``routes``/``openapi``)."""
        return self.path is not None

    def _check_kind(self) -> None:
        kinds = [field for field in ("path", "routes", "openapi") if getattr(self, field) not in (None, ())]
        if len(kinds) != 1:
            raise ConfigError(
                " / ".join(kinds) if kinds else "routes", None if not kinds else [getattr(self, k) for k in kinds],
                "give a service exactly one of: routes (your own API), openapi (routes from an OpenAPI "
                "document) or path (the built-in item store)",
            )
        if self.is_item_store:
            self._check_path()
            for field in ("tables", "command"):
                if getattr(self, field) not in (None, ()):
                    raise ConfigError(
                        field, getattr(self, field),
                        "belongs to your own services (routes or openapi); the item store (path) has its one "
                        "table and its own command",
                    )
            object.__setattr__(self, "health_check", health_check_from("health_check", self.health_check))
            return
        for field in ("table_key", "protected_methods"):
            # () is what _check_protected_methods stores for your own services, so a
            # dataclasses.replace of one must pass it back in.
            if getattr(self, field) not in (None, ()):
                raise ConfigError(
                    field, getattr(self, field),
                    "belongs to the item store (path); with routes, say auth and scopes on each route and "
                    "give tables their keys",
                )
        if self.routes not in (None, ()):
            object.__setattr__(self, "routes", self._routes_of(self.routes))
            openapi_routes: tuple[RouteSpec, ...] = ()
        else:
            if not isinstance(self.openapi, str) or not self.openapi:
                raise ConfigError("openapi", self.openapi, "give the path of an OpenAPI 3 document (JSON or YAML)")
            document = load_openapi_document("openapi", Path(self.openapi))
            openapi_routes = routes_from_openapi("openapi", document)
            object.__setattr__(self, "_openapi_document", document)
        object.__setattr__(self, "_openapi_routes", openapi_routes)
        self._check_routes()
        if self.image is None:
            raise ConfigError(
                "image", None,
                "your own service needs its image (repo/name:tag or ...@sha256:...); the image the stack builds "
                "is the item store's",
            )
        health_check = health_check_from("health_check", self.health_check)
        if health_check is None:
            raise ConfigError(
                "health_check", None,
                'say how ECS checks your container: { command = ["CMD-SHELL", "curl -f http://127.0.0.1:'
                f'{self.port}/health || exit 1"] }}, or "none" (then a task takes traffic as soon as it runs)',
            )
        object.__setattr__(self, "health_check", health_check)

    @staticmethod
    def _routes_of(value: object) -> tuple[RouteSpec, ...]:
        items = (value,) if isinstance(value, (RouteSpec, dict)) else value
        try:
            items = tuple(items)
        except TypeError:
            raise ConfigError("routes", value, 'give a list of routes, e.g. [{ route = "GET /orders" }]') from None
        routes = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                item = {"route": item}
            if isinstance(item, dict):
                unknown = sorted(set(item) - {"route", "auth", "scopes", "name"})
                if unknown:
                    raise ConfigError(f"routes[{index}].{unknown[0]}", item[unknown[0]],
                                      "unknown setting; known settings: route, auth, scopes, name")
                if "route" not in item:
                    raise ConfigError(f"routes[{index}].route", None, 'every route needs its key, e.g. "GET /orders"')
                try:
                    item = RouteSpec(**item)
                except ConfigError as error:
                    raise error.within(f"routes[{index}]") from None
            if not isinstance(item, RouteSpec):
                raise ConfigError(f"routes[{index}]", item, "must be a RouteSpec or a table of route, auth, scopes")
            routes.append(item)
        return tuple(routes)

    def _check_routes(self) -> None:
        where = "routes" if self.routes else "openapi"
        shapes: dict[str, int] = {}
        names: dict[str, int] = {}
        for index, route in enumerate(self.api_routes):
            shape = route_shape(route.route)
            if shape in shapes:
                first = self.api_routes[shapes[shape]].route
                raise ConfigError(
                    f"{where}[{index}].route", route.route,
                    f"is the same route as {first!r} to API Gateway (variable names do not tell routes apart); "
                    "keep one",
                )
            shapes[shape] = index
            if route.logical_name in names:
                raise ConfigError(
                    f"{where}[{index}].name", route.logical_name,
                    f"{self.api_routes[names[route.logical_name]].route!r} has the same logical id part; set "
                    "name on one of them",
                )
            names[route.logical_name] = index

    def _check_protected_methods(self) -> None:
        if not self.is_item_store:
            object.__setattr__(self, "protected_methods", ())
            return
        given = ("PUT",) if self.protected_methods is None else self.protected_methods
        methods = tuple(given) if not isinstance(given, str) else (given,)
        for method in methods:
            one_of("protected_methods", method, ITEM_METHODS)
        if len(set(methods)) != len(methods):
            raise ConfigError("protected_methods", self.protected_methods, "list each method once")
        object.__setattr__(self, "protected_methods", tuple(m for m in ITEM_METHODS if m in methods))

    def _check_tables(self) -> None:
        items = (self.tables,) if isinstance(self.tables, (TableSpec, dict)) else self.tables
        tables = []
        for index, item in enumerate(tuple(items)):
            if isinstance(item, dict):
                try:
                    item = TableSpec(**item)
                except TypeError as error:
                    raise ConfigError(f"tables[{index}]", item,
                                      "known settings: name, partition_key, sort_key, partition_key_type, "
                                      f"sort_key_type ({error})") from None
                except ConfigError as error:
                    raise error.within(f"tables[{index}]") from None
            if not isinstance(item, TableSpec):
                raise ConfigError(f"tables[{index}]", item, "must be a TableSpec or a [[services.tables]] table")
            if any(table.name == item.name for table in tables):
                raise ConfigError(f"tables[{index}].name", item.name, "table names must be unique within the service")
            tables.append(item)
        object.__setattr__(self, "tables", tuple(tables))

    @property
    def reserved_environment(self) -> frozenset[str]:
        """The variables ecsapi sets in this service's task definition."""
        if self.is_item_store:
            return RESERVED_ENVIRONMENT
        return frozenset({ENV_PORT, ENV_REGION, ENV_DRAIN_SECONDS, *(t.environment_name for t in self.tables)})

    def _check_secrets(self) -> None:
        secrets = string_pairs("secrets", self.secrets, ENV_NAME, "variable names", max_length=2048)
        environment = dict(self.environment)
        partitions = set()
        for name, arn in secrets:
            if name in environment:
                raise ConfigError(f"secrets.{name}", name, "is also in environment; a variable comes from one of them")
            if name in self.reserved_environment:
                raise ConfigError(f"secrets.{name}", name,
                                  f"ecsapi sets {', '.join(sorted(self.reserved_environment))} itself; choose another name")
            partitions.add(secret_source(f"secrets.{name}", arn).partition)
        object.__setattr__(self, "secrets", secrets)
        if self.kms_key is not None:
            if not secrets:
                raise ConfigError("kms_key", self.kms_key, "names the key of the service's secrets: set secrets too")
            partitions.add(kms_key_partition("kms_key", self.kms_key))
        if len(partitions) > 1:
            # A stack runs in one partition; ARNs of another cannot be read from it.
            raise ConfigError(
                "secrets", dict(secrets),
                f"the ARNs name several partitions ({', '.join(sorted(partitions))}); a stack reads from its own only",
            )

    def _check_container(self) -> None:
        if self.command is not None:
            object.__setattr__(self, "command", strings("command", self.command, "the program and its arguments",
                                                        allow_empty=False))

    def _check_local(self) -> None:
        local = self.local
        if local is None:
            return
        if isinstance(local, dict):
            unknown = sorted(set(local) - {"command", "environment", "secrets"})
            if unknown:
                raise ConfigError(f"local.{unknown[0]}", local[unknown[0]],
                                  "unknown setting; known settings: command, environment, secrets")
            if "command" not in local:
                raise ConfigError("local.command", None, 'give the command that runs the service, e.g. ["python3", "-m", "orders"]')
            try:
                local = LocalRun(**local)
            except ConfigError as error:
                raise error.within("local") from None
        if not isinstance(local, LocalRun):
            raise ConfigError("local", local, "must be a LocalRun or a [services.local] table")
        secret_names = {name for name, _ in self.secrets}
        for name, _ in local.secrets:
            if name not in secret_names:
                raise ConfigError(f"local.secrets.{name}", name,
                                  f"is not one of the service's secrets ({', '.join(sorted(secret_names)) or 'none'})")
        object.__setattr__(self, "local", local)

    @property
    def api_routes(self) -> tuple[RouteSpec, ...]:
        """Every route of the service: ``routes``, the OpenAPI document's, or the item store's GET and
        PUT on ``path`` (named ``Get`` and ``Put``: 3.0.0's logical ids ``<Name>GetRoute``)."""
        if self.is_item_store:
            return tuple(
                RouteSpec(route=self.route_key(method), auth="jwt" if method in self.protected_methods else "none",
                          name=method.capitalize())
                for method in ITEM_METHODS
            )
        return self.routes or self.__dict__.get("_openapi_routes", ())

    @property
    def openapi_document(self) -> dict | None:
        """The OpenAPI document the routes came from (``openapi``), parsed; else None."""
        return self.__dict__.get("_openapi_document")

    @property
    def container_health_check(self) -> HealthCheckSpec | None:
        """The health check ECS runs: the item store's own, the service's, or None for ``"none"``."""
        if self.health_check is None:  # the item store's default
            return HealthCheckSpec(command=HEALTH_CHECK_COMMAND)
        return None if self.health_check == NO_HEALTH_CHECK else self.health_check

    @property
    def secret_sources(self) -> tuple[tuple[str, SecretSource], ...]:
        """(variable name, where its value comes from), sorted by name."""
        return tuple((name, secret_source(f"secrets.{name}", arn)) for name, arn in self.secrets)

    def _check_path(self) -> None:
        allowed = "use /segment/.../{idParameter}: fixed segments, then exactly one {parameter}, last"
        if not isinstance(self.path, str) or not self.path.startswith("/") or self.path.endswith("/"):
            raise ConfigError("path", self.path, allowed)
        segments = self.path[1:].split("/")
        parameters = [s for s in segments if "{" in s or "}" in s]
        if len(parameters) != 1 or len(segments) < 2 or not PATH_PARAMETER.match(segments[-1]):
            raise ConfigError("path", self.path, allowed)
        for segment in segments[:-1]:
            if not PATH_SEGMENT.match(segment):
                raise ConfigError("path", self.path, f"segment {segment!r} may hold only A-Z a-z 0-9 . _ ~ -")

    @property
    def id_parameter(self) -> str:
        """The path parameter's name: ``foodId`` for ``/foodstore/foods/{foodId}``."""
        return PATH_PARAMETER.match(self.path.rsplit("/", 1)[1]).group(1)

    @property
    def key_attribute(self) -> str:
        """The table's hash key: ``table_key``, or else the path parameter (derived on every read, so
        ``dataclasses.replace(spec, path=...)`` never keeps a stale key)."""
        return self.table_key if self.table_key is not None else self.id_parameter

    @property
    def path_prefix(self) -> str:
        """The fixed part of the path: ``/foodstore/foods``."""
        return self.path.rsplit("/", 1)[0]

    def route_key(self, method: str) -> str:
        """The HTTP API route key of ``method`` on this service: ``GET /foodstore/foods/{foodId}``."""
        return f"{method} {self.path}"


DEFAULT_SERVICES = (
    ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}"),
    ServiceSpec(name="petstore", path="/petstore/pets/{petId}"),
)


# A subnet's CidrBlock is create-only ("AWS::EC2::Subnet" resource schema, createOnlyProperties),
# and CloudFormation creates a replacement before it deletes the old resource, so a subnet that
# moved to a block another subnet still holds fails the update with a CIDR conflict. So every AZ
# index has fixed blocks whatever az_count is: AZs 1-3 take public blocks 0-2 and private blocks
# 3-5 (the blocks 2.0.0 gave a 3-AZ stack, so the default stack keeps its subnets), AZs 4-6 the
# next six in the same way.
SUBNET_SLOT_GROUP = 3


def subnet_slots(index: int) -> tuple[int, int]:
    """(public, private) block numbers, counted in ``vpc_cidr`` at ``subnet_prefix_length``, of the
    ``index``-th AZ (from 0); the same for that AZ whatever ``az_count`` is."""
    group, position = divmod(index, SUBNET_SLOT_GROUP)
    base = 2 * SUBNET_SLOT_GROUP * group
    return base + position, base + SUBNET_SLOT_GROUP + position


@dataclass(frozen=True)
class StackConfig:
    """The whole stack. ``StackConfig()`` is the default: food store and pet store."""

    services: tuple[ServiceSpec, ...] = DEFAULT_SERVICES
    """The services, 1 or more; names unique, and no two paths that differ only in the parameter's
    name (``/a/{x}`` and ``/a/{y}`` are one route). A path may extend another's fixed part
    (``/a/{x}`` beside ``/a/b/{y}``): a path variable matches one segment, so each request matches
    one route fully, and API Gateway picks the full match."""
    az_count: int = 3
    """Availability zones, 2–6; each gets a public and a private subnet. Default 3."""
    availability_zones: tuple[str, ...] | None = None
    """The AZs to place the subnets in, exactly ``az_count`` of them, by name (``us-east-1a``) or,
    the same in every account, by zone ID (``use1-az4``); the default of the stack's
    ``AvailabilityZones`` parameter. Default (None): the stack chooses, at deploy time, AZs whose
    zone IDs AWS documents as supporting HTTP API VPC links and Fargate
    (generator/runs_in_aws/availability_zones.py)."""
    vpc_cidr: str = "10.0.0.0/16"
    """The VPC's IPv4 block, /16 to /24. Default 10.0.0.0/16."""
    subnet_prefix_length: int = 20
    """Size of every subnet (/N), 16–28; ``vpc_cidr`` must hold the blocks :func:`subnet_slots` gives
    the stack's AZs (5 blocks for 2 AZs, 6 for 3, 10 to 12 for 4 to 6). Default /20."""
    nat_mode: NatMode = NatMode.PER_AZ
    """``per-az`` (a NAT gateway per AZ, highly available), ``single`` (one, cheaper) or ``none`` (no
    NAT: the tasks run in the public subnets with a public IPv4 address each, reachable only from
    the VPC link; the cheapest). Default per-az."""
    data_deletion_policy: DeletionPolicy = DeletionPolicy.RETAIN
    """What happens to tables, user pool, key and log groups: ``Retain`` keeps them when the stack
    is deleted or they are replaced (delete them by hand), though a failed first create still
    deletes what it made (generator/template/retention.py); ``Delete`` removes them. Default Retain."""
    cpu_architecture: CpuArchitecture = CpuArchitecture.X86_64
    """``X86_64`` or ``ARM64`` (Graviton, about 20% cheaper per vCPU and GB hour): the tasks' runtime
    platform, and the CodeBuild environment that builds the stack's image. Default X86_64."""
    container_insights: bool = True
    """CloudWatch Container Insights on the cluster: per-service and per-task CPU, memory and
    network metrics, billed as custom metrics (``ecsapi describe`` prices them). Default on."""
    fargate_spot_percent: int = 0
    """Share of tasks (by weight) on Fargate Spot, 0–100; Spot tasks can be stopped at two minutes'
    notice. Default 0 (all on-demand)."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed to call the API (``https://app.example.com``), besides the test
    page's own origin when ``test_page`` is on; never ``*``. Default: none."""
    tags: tuple[tuple[str, str], ...] = ()
    """Tags applied to every taggable resource (key -> value). Default: none."""
    log_retention_days: int = 30
    """CloudWatch Logs retention for every log group (a value CloudWatch accepts). Default 30."""
    throttle_rate_limit: int = 100
    """Stage-wide steady requests per second per route, 1–10000; beyond it API Gateway answers 429
    before a task sees the request. Default 100."""
    throttle_burst_limit: int = 200
    """Stage-wide burst per route, 1–5000. Default 200."""
    vpc_flow_logs: bool = False
    """Record the VPC's accepted and rejected traffic to CloudWatch Logs (billed per GB). Default off."""
    customer_managed_key: bool = False
    """Encrypt tables and log groups with a KMS key the stack creates (rotation on) instead of AWS
    managed keys: you control and audit the key policy, for about $1 a month plus requests.
    Default off."""
    mfa: MfaMode = MfaMode.OFF
    """Cognito MFA with TOTP apps: OFF, OPTIONAL or ON. Default OFF."""
    access_token_minutes: int = 60
    """Validity of access tokens, 5–1440 minutes. Default 60."""
    id_token_minutes: int = 60
    """Validity of ID tokens, 5–1440 minutes. Default 60."""
    refresh_token_days: int = 30
    """Validity of refresh tokens, 1–3650 days. Default 30."""
    threat_protection: ThreatProtection = ThreatProtection.OFF
    """Cognito threat protection: OFF, AUDIT or ENFORCED (not OFF selects the Plus plan, billed
    per active user). Default OFF."""
    auth: AuthSpec = AuthSpec()
    """Who issues the tokens of ``jwt`` routes (:class:`AuthSpec`): the stack's own Cognito user pool
    (the default), or ``issuer`` + ``audiences`` for any OpenID Connect issuer, in which case the
    stack creates no Cognito resources."""
    test_page: bool | None = None
    """Serve the API test page from the stack: a private S3 bucket behind a CloudFront
    distribution, the page written into it at create and update, its URL the ``APITestPage``
    output and its origin the API's CORS origin. Off: no bucket, distribution or function, and
    CORS admits only ``cors_origins``. The page signs users up with the stack's Cognito pool, so it
    needs it. Default (None): on with Cognito, off with an external issuer; read as a bool after
    construction."""
    detailed_metrics: bool = False
    """Route-level API metrics: every route's Count, 4xx, 5xx, DataProcessed, Latency and
    IntegrationLatency, shown per route on the dashboard; with ``alarms`` each service then gets a
    5xx alarm of its own routes, which its deployments roll back on. Billed as CloudWatch custom
    metrics, six per route in each hour the route is called (``ecsapi describe`` shows the cost).
    Default off."""
    dashboard: bool = True
    """One CloudWatch dashboard of the API, each service, its table and the stack's functions.
    Default on (about $3 a month beyond an account's three free dashboards)."""
    alarms: bool = True
    """CloudWatch alarms on API errors and latency, task counts, scaling and the tables, published
    to an SNS topic (the ``AlarmEmail`` parameter subscribes an address); the ECS services roll a
    deployment back when their 5xx alarm fires. Default on ($0.10 per alarm metric a month)."""
    alarm_5xx_percent: int = 5
    """Alarm when more than this share (%) of requests answer 5xx, 1-100. Default 5."""
    alarm_5xx_minutes: int = 3
    """... for this many consecutive minutes, 1-60; also how long a deployment's errors take to
    roll it back. Default 3."""
    alarm_latency_percent: int = 50
    """Alarm when the API's p99 integration latency stays above this share (%) of the 30 s
    integration timeout for five minutes, 10-100. Default 50 (15 s)."""
    domain: DomainSpec | None = None
    """The API on a domain of your own (the ``[domain]`` table; generator/model/domain.py): a
    Regional custom domain mapped to the stage, its certificate and DNS records, and optionally the
    test page on a name of its own. Every URL the stack names follows it: outputs, the page's
    config.json, CORS, the page's CSP, the OpenAPI servers. Default: none, the API at its
    ``execute-api`` endpoint."""

    def __post_init__(self) -> None:
        services = tuple(self.services) if not isinstance(self.services, ServiceSpec) else (self.services,)
        if not services:
            raise ConfigError("services", list(services), "give at least one service")
        for index, service in enumerate(services):
            if not isinstance(service, ServiceSpec):
                raise ConfigError(f"services[{index}]", service, "must be a ServiceSpec")
        object.__setattr__(self, "services", services)
        self._check_unique_services()
        int_in("az_count", self.az_count, 2, 6)
        self._check_availability_zones()
        self._check_cidr_plan()
        object.__setattr__(self, "nat_mode", as_enum("nat_mode", self.nat_mode, NatMode))
        object.__setattr__(
            self, "data_deletion_policy", as_enum("data_deletion_policy", self.data_deletion_policy, DeletionPolicy)
        )
        object.__setattr__(
            self, "cpu_architecture", as_enum("cpu_architecture", self.cpu_architecture, CpuArchitecture)
        )
        flag("container_insights", self.container_insights)
        int_in("fargate_spot_percent", self.fargate_spot_percent, 0, 100)
        origins = (self.cors_origins,) if isinstance(self.cors_origins, str) else tuple(self.cors_origins)
        for index, origin in enumerate(origins):
            if not isinstance(origin, str) or not ORIGIN.match(origin):
                raise ConfigError(
                    f"cors_origins[{index}]", origin, "give an origin such as https://app.example.com (no path, no '*')"
                )
        object.__setattr__(self, "cors_origins", tuple(sorted(set(origins))))
        object.__setattr__(self, "tags", string_pairs("tags", self.tags, TAG_KEY, "tag keys"))
        one_of("log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        int_in("throttle_rate_limit", self.throttle_rate_limit, 1, 10000)
        int_in("throttle_burst_limit", self.throttle_burst_limit, 1, 5000)
        flag("vpc_flow_logs", self.vpc_flow_logs)
        flag("customer_managed_key", self.customer_managed_key)
        object.__setattr__(self, "mfa", as_enum("mfa", self.mfa, MfaMode))
        int_in("access_token_minutes", self.access_token_minutes, 5, 1440)
        int_in("id_token_minutes", self.id_token_minutes, 5, 1440)
        int_in("refresh_token_days", self.refresh_token_days, 1, 3650)
        object.__setattr__(
            self, "threat_protection", as_enum("threat_protection", self.threat_protection, ThreatProtection)
        )
        self._check_auth()
        flag("detailed_metrics", self.detailed_metrics)
        flag("dashboard", self.dashboard)
        flag("alarms", self.alarms)
        int_in("alarm_5xx_percent", self.alarm_5xx_percent, 1, 100)
        int_in("alarm_5xx_minutes", self.alarm_5xx_minutes, 1, 60)
        int_in("alarm_latency_percent", self.alarm_latency_percent, 10, 100)
        self._check_domain()

    def _check_domain(self) -> None:
        if self.domain is None:
            return
        if not isinstance(self.domain, DomainSpec):
            raise ConfigError("domain", self.domain, "must be a DomainSpec (a [domain] table in a stack file)")
        if self.domain.page_name is not None and not self.test_page:
            raise ConfigError("domain.page_name", self.domain.page_name,
                              "names the test page, which test_page = false turns off; turn it on or unset page_name")
        if self.domain.page_origin is not None and self.domain.page_origin in self.cors_origins:
            raise ConfigError("cors_origins", list(self.cors_origins),
                              f"the API admits the test page's own origin {self.domain.page_origin} already "
                              "(domain.page_name); remove it from cors_origins")

    def _check_unique_services(self) -> None:
        seen_names: dict[str, int] = {}
        seen_prefixes: dict[str, int] = {}
        for index, service in enumerate(self.services):
            if service.name in seen_names:
                raise ConfigError(
                    f"services[{index}].name", service.name,
                    f"names must be unique; services[{seen_names[service.name]}] already uses it",
                )
            seen_names[service.name] = index
            if not service.is_item_store:
                continue
            # Two routes /a/{x} and /a/{y} are the same route to API Gateway. /a/{x} beside /a/b/{y}
            # is no conflict: a (non-greedy) path variable matches one segment, and API Gateway
            # routes a request to the route it fully matches ("Create routes for HTTP APIs in API
            # Gateway": routing API requests, most specific match first; only {proxy+} is greedy).
            if service.path_prefix in seen_prefixes:
                raise ConfigError(
                    f"services[{index}].path", service.path,
                    f"paths must be unique; services[{seen_prefixes[service.path_prefix]}] already serves "
                    f"{service.path_prefix}/{{...}}",
                )
            seen_prefixes[service.path_prefix] = index
        self._check_routes()

    def _check_routes(self) -> None:
        """Route keys are unique across the whole API, one ``$default`` at most, within the quotas."""
        seen: dict[str, tuple[int, int]] = {}
        total = 0
        for index, service in enumerate(self.services):
            where = "path" if service.is_item_store else "routes" if service.routes else "openapi"
            for position, route in enumerate(service.api_routes):
                total += 1
                shape = route_shape(route.route)
                if shape in seen:
                    other, other_position = seen[shape]
                    first = self.services[other].api_routes[other_position].route
                    field = f"services[{index}].path" if service.is_item_store else f"services[{index}].{where}[{position}].route"
                    raise ConfigError(
                        field, route.route,
                        f"services[{other}] ({self.services[other].name}) already has {first!r}, the same route to "
                        "API Gateway; each route goes to one service" + (
                            " (only one service may take $default)" if route.route == DEFAULT_ROUTE else ""
                        ),
                    )
                seen[shape] = (index, position)
        if total > MAX_ROUTES_PER_API:
            raise ConfigError(
                "services", f"{total} routes",
                f"API Gateway's quota is {MAX_ROUTES_PER_API} routes per HTTP API (\"Quotas for configuring and "
                "running an HTTP API\"; raised per API only through Service Quotas after the API exists); merge "
                "routes with {proxy+} or split the API",
            )
        if len(self.services) > MAX_INTEGRATIONS_PER_API:
            raise ConfigError(
                "services", len(self.services),
                f"an HTTP API takes at most {MAX_INTEGRATIONS_PER_API} integrations, one per service (a quota AWS does not raise)",
            )

    def _check_auth(self) -> None:
        auth = self.auth
        if isinstance(auth, dict):
            try:
                auth = AuthSpec(**auth)
            except TypeError:
                unknown = sorted(set(auth) - {"issuer", "audiences", "machine_client"})
                raise ConfigError(f"auth.{unknown[0]}" if unknown else "auth", auth,
                                  "known settings: issuer, audiences, machine_client") from None
            except ConfigError as error:
                raise error.within("auth") from None
        if not isinstance(auth, AuthSpec):
            raise ConfigError("auth", auth, "must be an AuthSpec or an [auth] table")
        object.__setattr__(self, "auth", auth)
        if self.test_page is None:
            object.__setattr__(self, "test_page", auth.uses_cognito)
        flag("test_page", self.test_page)
        if self.test_page and not auth.uses_cognito:
            raise ConfigError(
                "test_page", True,
                "the test page signs users up and in with the stack's Cognito user pool, which an external "
                "issuer replaces; set test_page = false",
            )
        scopes = sorted({scope for service in self.services for route in service.api_routes for scope in route.scopes})
        if auth.uses_cognito:
            for index, service in enumerate(self.services):
                for position, route in enumerate(service.api_routes):
                    for scope in route.scopes:
                        if cognito_scope_parts(scope) is None:
                            where = "routes" if service.routes else "openapi"
                            raise ConfigError(
                                f"services[{index}].{where}[{position}].scopes", scope,
                                "Cognito's custom scopes are resource-server/scope-name (orders/write): the part "
                                "before the last '/' names the resource server the stack creates",
                            )
            if auth.machine_client and not scopes:
                raise ConfigError(
                    "auth.machine_client", True,
                    "a client-credentials client must be allowed at least one custom scope (Cognito refuses one "
                    "without); give some jwt route scopes = [\"resource-server/name\"]",
                )

    @property
    def custom_scopes(self) -> tuple[str, ...]:
        """Every scope a route names, sorted."""
        return tuple(sorted({s for service in self.services for route in service.api_routes for s in route.scopes}))

    def _check_availability_zones(self) -> None:
        if self.availability_zones is None:
            return
        zones = (self.availability_zones,) if isinstance(self.availability_zones, str) else tuple(self.availability_zones)
        for index, zone in enumerate(zones):
            if not isinstance(zone, str) or not AZ_NAME_OR_ID.match(zone):
                raise ConfigError(
                    f"availability_zones[{index}]", zone, "give an AZ name such as us-east-1a or a zone ID such as use1-az4"
                )
        if len(set(zones)) != len(zones):
            raise ConfigError("availability_zones", list(zones), "name each AZ once")
        if len(zones) != self.az_count:
            raise ConfigError(
                "availability_zones", list(zones),
                f"give exactly az_count ({self.az_count}) AZs, or leave unset to let the stack choose",
            )
        object.__setattr__(self, "availability_zones", zones)

    def _check_cidr_plan(self) -> None:
        try:
            network = ipaddress.IPv4Network(self.vpc_cidr)
        except (ValueError, TypeError):
            raise ConfigError("vpc_cidr", self.vpc_cidr, "give an IPv4 network such as 10.0.0.0/16") from None
        if not 16 <= network.prefixlen <= 24:
            raise ConfigError("vpc_cidr", self.vpc_cidr, "the prefix length must be /16 to /24")
        int_in("subnet_prefix_length", self.subnet_prefix_length, max(16, network.prefixlen), 28)
        available = 2 ** (self.subnet_prefix_length - network.prefixlen)
        needed = max(subnet_slots(self.az_count - 1)) + 1
        if needed > available:
            raise ConfigError(
                "subnet_prefix_length", self.subnet_prefix_length,
                f"{self.az_count} AZs need {needed} subnets' worth of /{self.subnet_prefix_length} blocks (every AZ "
                f"has fixed blocks, so adding or removing one moves no subnet) but {self.vpc_cidr} holds only "
                f"{available}; use a longer prefix length or fewer AZs",
            )

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """(public, private) subnet blocks, one each per AZ, each AZ in its fixed slots of ``vpc_cidr``."""
        blocks = list(ipaddress.IPv4Network(self.vpc_cidr).subnets(new_prefix=self.subnet_prefix_length))
        slots = [subnet_slots(index) for index in range(self.az_count)]
        public = [str(blocks[slot]) for slot, _ in slots]
        private = [str(blocks[slot]) for _, slot in slots]
        return public, private

