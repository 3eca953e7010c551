"""``make local``: the whole API on 127.0.0.1, read from the rendered template.

The configuration is rendered with the generator into the work folder (build/local by default) and
the template read back (ecsapi_local.template_reader). Then, each component in its own process group,
every line it prints prefixed with its name (ecsapi_local.supervisor):

- dynamodb: dynalite, storing under the data folder (kept across restarts), with the template's
  tables created on it;
- cognito: moto in server mode behind a thin layer that refuses, verifies and revokes as Cognito
  does where moto does not (ecsapi_local.cognito), with the template's user pool and app client
  created on it (moto keeps them in memory: users do not survive a restart);
- each ECS service as N tasks (``--tasks``, default the service's min_tasks), each on its own port,
  registered in the local Cloud Map once healthy (ecsapi_local.tasks, ecsapi_local.cloudmap): the
  item store's as a gunicorn running the image's command with its task definition's environment,
  your own services' as their ``local.command`` with the task definition's environment, local
  tables and local secret values, healthy by the task definition's health check
  (ecsapi_local.own_services); ``--skip SERVICE`` leaves one out (its routes answer 503);
- api: the local gateway (ecsapi_local.gateway), serving the template's HTTP API and spreading each
  service's requests over its registered tasks, with API Gateway's discovery cache emulated
  (``--discovery-cache-seconds``);
- a control endpoint on 127.0.0.1 (``--control-port``): ``make local-deploy SERVICE=foodstore``
  replaces every task of a service in ECS's order, ``make local-scale-in SERVICE=foodstore`` stops one
  (ecsapi_local.control);
- page: the test page, with a config.json pointing at the gateway and at moto.

Exit status: 0 after Ctrl-C or SIGTERM, 1 when a component failed (or exited on its own), 2 when
nothing was started (a port in use, a missing prerequisite, bad configuration).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ecsapi_local.intrinsics import TemplateError
from ecsapi_local.own_services import Plan
from ecsapi_local.resources import CLEARED_ENVIRONMENT, Provisioned, client, provision
from ecsapi_local.supervisor import Component, StartError, Stopped, Supervisor, answers, port_free
from ecsapi_local.template_reader import EmulatedStack, read_template, render

if TYPE_CHECKING:  # the gateway (urllib3, werkzeug) loads in its own process, not in the supervisor's
    from ecsapi_local.gateway import LocalResolution

STACK_NAME = "ecsapi-local"
DEFAULT_REGION = "us-east-1"
DEFAULT_WORK = Path("build/local")
EXIT_FAILED = 1
EXIT_NOT_STARTED = 2
# The components and their default ports; each can be set with --NAME-port or ECSAPI_LOCAL_NAME_PORT.
# The containers take consecutive ports from --containers-port, one per service, in template order.
PORTS = {"page": 8000, "api": 8001, "cognito": 8002, "dynamodb": 8003, "control": 8004, "containers": 8010}
PORT_HELP = {"page": "the test page's port", "api": "the local API gateway's port", "cognito": "moto's (Cognito) port",
             "dynamodb": "dynalite's (DynamoDB) port",
             "control": "the control endpoint's port (make local-deploy, make local-scale-in)",
             "containers": "the first task's port; the others take the next free ones, one per task"}
# How long the local gateway keeps sending requests to a deregistered task, as API Gateway does from
# its cache of Cloud Map's answer. AWS documents no duration; 30 s is the window peers report
# (itemstore.contract.DEFAULT_DRAIN_SECONDS), inside the containers' default 45 s drain.
DEFAULT_DISCOVERY_CACHE_SECONDS = 30.0
# moto derives user pool and client ids from their names and settings instead of drawing random
# ones (moto's CognitoIdpBackend documents both variables), so the page's config.json names the
# same ids after a restart.
MOTO_ENVIRONMENT = {"MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
                    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH"}


class NotStarted(Exception):
    """Something to fix before anything can start; the message says what and how."""


@dataclass(frozen=True)
class Options:
    config: Path | None
    work: Path
    data: Path
    region: str
    ports: dict[str, int]
    dynalite: Path | None = None
    """The dynalite to run (None: the emulator's own, installed into the cache folder on first use)."""
    tasks: int | None = None
    """Tasks per service. None: each service's min_tasks (from the template)."""
    drain_seconds: int | None = None
    """The tasks' DRAIN_SECONDS. None: the task definition's."""
    discovery_cache_seconds: float = DEFAULT_DISCOVERY_CACHE_SECONDS
    skip: tuple[str, ...] = ()
    """Services not started (--skip): their routes answer 503."""
    jwks: str | None = None
    """A JWKS URL or file for the gateway's token checks (--jwks); None: the local Cognito's, or the
    issuer's through OIDC discovery."""

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['page']}/"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def cognito_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['cognito']}/"

    @property
    def dynamodb_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['dynamodb']}"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m ecsapi_local",
        description="Run the whole API on 127.0.0.1, read from the rendered template. Ctrl-C stops it.")
    root.add_argument("--config", type=Path, metavar="FILE", default=os.environ.get("CONFIG") or None,
                      help="stack configuration in TOML (default: $CONFIG, else the built-in default stack)")
    root.add_argument("--work", type=Path, default=DEFAULT_WORK,
                      help=f"where the rendered template and local settings go (default: {DEFAULT_WORK})")
    root.add_argument("--data", type=Path, help="dynalite's folder, kept across restarts (default: WORK/data)")
    root.add_argument("--region", default=DEFAULT_REGION, help=f"the region the stack pretends to be in "
                      f"(default: {DEFAULT_REGION})")
    root.add_argument("--dynalite", type=Path, metavar="PATH",
                      default=os.environ.get("ECSAPI_LOCAL_DYNALITE") or None,
                      help="the dynalite to run (default: $ECSAPI_LOCAL_DYNALITE, else the emulator's own, "
                           "installed with npm into the cache folder on first use)")
    for name, default in PORTS.items():
        variable = f"ECSAPI_LOCAL_{name.upper()}_PORT"
        # A string default goes through type=int too, so a bad variable is refused like a bad flag.
        root.add_argument(f"--{name}-port", type=int, metavar="PORT", default=os.environ.get(variable) or default,
                          help=f"{PORT_HELP[name]} (default: ${variable}, else {default})")
    root.add_argument("--tasks", type=int, metavar="N", help="tasks per service, 1-10 (default: each service's "
                      "min_tasks)")
    root.add_argument("--drain-seconds", type=int, metavar="S", help="how long a task keeps serving after SIGTERM "
                      "(default: the task definition's DRAIN_SECONDS)")
    root.add_argument("--discovery-cache-seconds", type=float, metavar="S", default=DEFAULT_DISCOVERY_CACHE_SECONDS,
                      help="how long the gateway still sends requests to a deregistered task, as API Gateway's "
                      f"cache of Cloud Map does (default: {DEFAULT_DISCOVERY_CACHE_SECONDS:g})")
    root.add_argument("--skip", action="append", default=[], metavar="SERVICE",
                      help="do not start SERVICE (repeatable); its routes answer 503 as API Gateway answers for an "
                           "integration with nothing behind it")
    root.add_argument("--jwks", metavar="URL|FILE",
                      help="check tokens against this JWKS (a URL or a file) instead of the issuer's own, for an "
                           "issuer this machine cannot reach (default: the local Cognito's, else OIDC discovery)")
    return root


def options(argv: list[str] | None) -> Options:
    args = parser().parse_args(argv)
    ports = {name: getattr(args, f"{name}_port") for name in PORTS}
    if args.tasks is not None and not 1 <= args.tasks <= 10:
        parser().error(f"--tasks {args.tasks}: give 1 to 10")
    if args.drain_seconds is not None and not 0 <= args.drain_seconds <= 120:
        parser().error(f"--drain-seconds {args.drain_seconds}: give 0 to 120")
    if args.discovery_cache_seconds < 0:
        parser().error(f"--discovery-cache-seconds {args.discovery_cache_seconds:g}: give 0 or more")
    return Options(args.config, args.work, args.data or args.work / "data", args.region, ports, args.dynalite,
                   args.tasks, args.drain_seconds, args.discovery_cache_seconds, tuple(dict.fromkeys(args.skip)),
                   args.jwks)


# --- before anything starts ------------------------------------------------------------------------

def find_dynalite(opts: Options) -> Path:
    """The dynalite to run (installed on first use: ecsapi_local.dynalite)."""
    from ecsapi_local.dynalite import Unavailable, find

    try:
        return find(opts.dynalite, say=lambda line: print(f"local: {line}", flush=True))
    except Unavailable as error:
        raise NotStarted(str(error)) from None


def container_label(name: str) -> str:
    """How ports and checks name a service's container (a service may be called "api" or "page")."""
    return f"{name} container"


def task_counts(opts: Options, stack: EmulatedStack) -> dict[str, int]:
    """Tasks per service at start: --tasks, else each service's min_tasks; none for a skipped one."""
    return {c.name: 0 if c.name in opts.skip else opts.tasks or c.min_tasks for c in stack.containers}


def planned_ports(opts: Options, stack: EmulatedStack) -> dict[str, int]:
    """Every port the stack will listen on at start, by component name (tasks: consecutive ports)."""
    planned = {name: port for name, port in opts.ports.items() if name != "containers"}
    port = opts.ports["containers"]
    for container in stack.containers:
        for number in range(task_counts(opts, stack)[container.name]):
            suffix = "" if number == 0 else f" task {number + 1}"
            planned[container_label(container.name) + suffix] = port
            port += 1
    return planned


def check_ports(planned: dict[str, int]) -> None:
    seen: dict[int, str] = {}
    for name, port in planned.items():
        if not 1 <= port <= 65535:
            raise NotStarted(f"port {port} ({name}) is not a port number (1-65535)")
        if port in seen:
            raise NotStarted(f"port {port} is given to both {seen[port]} and {name}: choose different ports")
        seen[port] = name
    for name, port in planned.items():
        if not port_free(port):
            option = f"--{name}-port / ECSAPI_LOCAL_{name.upper()}_PORT" if name in PORTS else \
                "--containers-port / ECSAPI_LOCAL_CONTAINERS_PORT"
            raise NotStarted(f"port {port} on 127.0.0.1 is already in use (wanted for {name}): stop what "
                             f"listens there, or choose another port with {option}")


# --- the components ---------------------------------------------------------------------------------

def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _healthy(port: int) -> bool:
    from itemstore.contract import HEALTH_PATH

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", HEALTH_PATH)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _base_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CLEARED_ENVIRONMENT}


def dynalite(opts: Options, executable: Path) -> Component:
    path = opts.data / "dynamodb"
    path.mkdir(parents=True, exist_ok=True)
    port = opts.ports["dynamodb"]
    return Component("dynamodb", [str(executable), "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
                     env=_base_environment(), ready=lambda: answers(port), ready_seconds=30)


def moto(opts: Options) -> Component:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(MOTO_ENVIRONMENT)
    port = opts.ports["cognito"]
    # moto behind the layer that answers as Cognito where moto does not (ecsapi_local/cognito.py).
    return Component("cognito", [sys.executable, "-m", "ecsapi_local.cognito", "-H", "127.0.0.1", "-p", str(port)],
                     env=env, ready=lambda: _http_ok(f"{opts.cognito_url}moto-api/"), ready_seconds=60)


def local_ecs(supervisor: Supervisor, opts: Options, stack: EmulatedStack, provisioned: Provisioned,
              plan: Plan):
    """The local ECS: every service's tasks are made by one factory from its task definition."""
    import signal

    from itemstore.contract import ENV_DRAIN_SECONDS

    from ecsapi_local.cloudmap import Registry
    from ecsapi_local.containers import container_environment, image_command, local_argv
    from ecsapi_local.own_services import HealthCheck, task_environment
    from ecsapi_local.tasks import LocalEcs, Ports

    argv = local_argv(image_command())
    by_name = {c.name: c for c in stack.containers}

    def make_task(service: str, task_id: str, port: int) -> Component:
        own = plan.own.get(service)
        if own is not None:
            env = task_environment(own, by_name[service], provisioned.resolver, port, opts.dynamodb_url, opts.region,
                                   _base_environment())
            if opts.drain_seconds is not None:
                env[ENV_DRAIN_SECONDS] = str(opts.drain_seconds)
            check = HealthCheck(task_id, own.health_check, env, own.container_port, port, own.cwd)
            # Your own program's stop is SIGTERM, as ECS stops a container.
            return Component(task_id, list(own.argv), env=env, cwd=own.cwd, ready=check,
                             ready_seconds=check.ready_seconds)
        env = container_environment(by_name[service], provisioned.resolver, port, opts.dynamodb_url,
                                    _base_environment())
        if opts.drain_seconds is not None:
            env[ENV_DRAIN_SECONDS] = str(opts.drain_seconds)
        # The stack's own stop is SIGINT, gunicorn's quick stop: Ctrl-C should not wait for drains.
        return Component(task_id, argv, env=env, cwd=opts.work, ready=lambda: _healthy(port), ready_seconds=60,
                         stop_signal=signal.SIGINT)

    ecs = LocalEcs(supervisor, Registry(registry_path(opts)), make_task, Ports(opts.ports["containers"]))
    for container in stack.containers:
        ecs.add_service(container.name, container.discovery_id, container.port)
    return ecs


def registry_path(opts: Options) -> Path:
    return opts.work / "cloudmap.json"


def gateway_resolution(provisioned: Provisioned, region: str, upstreams: dict[str, str], cognito_url: str,
                       page_origins: tuple[str, ...]) -> LocalResolution:
    """What the local gateway needs to serve the template's API here (its LocalResolution):
    ``upstreams`` maps each Cloud Map service's logical id to the URL of the task serving it;
    ``cognito_url`` is moto's (whose JWKS checks the stack's Cognito tokens; with an external issuer
    none, and the gateway finds the issuer's keys by OIDC discovery); ``page_origins`` join the API's
    CORS origins."""
    from ecsapi_local.gateway import LocalResolution

    return LocalResolution(
        region=region,
        physical_ids=dict(provisioned.resolver.physical_ids),
        upstreams=upstreams,
        jwks_url=None if provisioned.pool_id is None else
        f"{cognito_url.rstrip('/')}/{provisioned.pool_id}/.well-known/jwks.json",
        page_origins=page_origins,
    )


def gateway(opts: Options, stack: EmulatedStack, provisioned: Provisioned, ports: dict[str, int]) -> Component:
    resolution = gateway_resolution(
        provisioned, opts.region,
        # With the registry these only name each Cloud Map service (its first task's address).
        # A skipped service has no task: a name that resolves nowhere stands for it (never connected to).
        upstreams={c.discovery_id: f"http://127.0.0.1:{ports[container_label(c.name)]}"
                   if container_label(c.name) in ports else f"http://{c.name}.skipped.invalid"
                   for c in stack.containers},
        cognito_url=opts.cognito_url,
        page_origins=(opts.page_url.rstrip("/"), f"http://localhost:{opts.ports['page']}"),
    )
    path = opts.work / "resolution.json"
    path.write_text(resolution.to_json())
    port = opts.ports["api"]
    return Component("api", [sys.executable, "-m", "ecsapi_local.gateway", "--template", str(stack.template_path),
                             "--resolution", str(path), "--bind", f"127.0.0.1:{port}",
                             "--registry", str(registry_path(opts)),
                             "--discovery-cache-seconds", f"{opts.discovery_cache_seconds:g}",
                             *(["--jwks", opts.jwks] if opts.jwks else [])],
                     env=_base_environment(), ready=lambda: answers(port), ready_seconds=30)


def page(opts: Options, stack: EmulatedStack, provisioned: Provisioned, config) -> Component:
    from generator.model.page import services_of

    # The services as the deployed page lists them (generator/template/site.py), from the same code.
    config = stack.page_config(provisioned.resolver, opts.api_url, opts.cognito_url, services_of(config))
    path = opts.work / "config.json"
    path.write_text(json.dumps(config, indent=2) + "\n")
    port = opts.ports["page"]
    return Component("page", [sys.executable, "-m", "ecsapi_local.site", "--config", str(path),
                              "--bind", f"127.0.0.1:{port}"],
                     env=_base_environment(), ready=lambda: answers(port), ready_seconds=30)


# --- the run -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prepared:
    """What :func:`prepare` found: the template read back, the configuration, what runs, the ports."""

    stack: EmulatedStack
    config: object  # StackConfig
    plan: Plan
    ports: dict[str, int]
    dynalite: Path


def load_config(opts: Options):
    """The StackConfig ``--config`` names (the built-in default without one)."""
    from generator.model.config import StackConfig
    from generator.model.config_file import load_config_file

    return load_config_file(opts.config)[0] if opts.config else StackConfig()


def prepare(opts: Options) -> Prepared:
    """Everything that can fail before a process starts: prerequisites, configuration, what each
    service runs, ports."""
    from ecsapi_local.own_services import LocalRunError, plan_services
    from generator.model.errors import ConfigError

    executable = find_dynalite(opts)
    opts.work.mkdir(parents=True, exist_ok=True)
    try:
        stack = read_template(render(opts.config, opts.work))
        config = load_config(opts)
    except ConfigError as error:
        raise NotStarted(f"configuration error in {opts.config}: {error}") from None
    except TemplateError as error:
        raise NotStarted(str(error)) from None
    config_dir = opts.config.resolve().parent if opts.config else Path.cwd()
    try:
        plan = plan_services(stack, config, config_dir, opts.skip)
    except LocalRunError as error:
        raise NotStarted(str(error)) from None
    ports = planned_ports(opts, stack)
    check_ports(ports)
    return Prepared(stack, config, plan, ports, executable)


def start(supervisor: Supervisor, opts: Options, prepared: Prepared) -> None:
    stack, ports = prepared.stack, prepared.ports
    say = supervisor.say
    say(f"template {stack.template_path} ({len(stack.containers)} services, {len(stack.tables)} tables)")
    for name in prepared.plan.skipped:
        say(f"{name}: skipped (--skip); its routes answer 503")
    # moto runs even with an external issuer: the provisioning step talks to one IdP endpoint, and
    # it costs a second of start-up.
    supervisor.start_all([dynalite(opts, prepared.dynalite), moto(opts)])

    provisioned = provision(stack, STACK_NAME, opts.region, client("dynamodb", opts.dynamodb_url, opts.region),
                            client("cognito-idp", opts.cognito_url, opts.region), say)
    from ecsapi_local import control

    ecs = local_ecs(supervisor, opts, stack, provisioned, prepared.plan)
    counts = task_counts(opts, stack)
    ecs.start_services({container.name: counts[container.name] for container in stack.containers
                        if counts[container.name]})
    supervisor.start(gateway(opts, stack, provisioned, ports))
    if stack.uses_cognito:
        supervisor.start(page(opts, stack, provisioned, prepared.config))
    control.serve(ecs, opts.ports["control"])
    print_urls(say, opts, stack, provisioned)


def print_urls(say, opts: Options, stack: EmulatedStack, provisioned: Provisioned) -> None:
    say("ready. Open the test page, sign up, sign in, call the routes:" if stack.uses_cognito else "ready:")
    if stack.uses_cognito:
        say(f"  test page  {opts.page_url}")
    say(f"  API        {opts.api_url}")
    for route in stack.routes:
        say(f"               {route.container}: {route.key}{'  (jwt)' if route.authorized else ''}")
    if stack.uses_cognito:
        machine = {k: v for k, v in provisioned.client_ids.items() if k != stack.client_id}
        say(f"  Cognito    {opts.cognito_url}  (moto: user pool {provisioned.pool_id}, app client "
            f"{provisioned.client_id}; users are not kept across restarts)")
        for logical_id, client_id in machine.items():
            say(f"             machine client {client_id} ({logical_id}): POST {opts.cognito_url}oauth2/token "
                "with grant_type=client_credentials")
    say(f"  DynamoDB   {opts.dynamodb_url}  (dynalite: data in {opts.data}; `make local-reset` wipes it)")
    say(f"  Deploy     make local-deploy SERVICE={stack.containers[0].name}   (a rolling replace of its tasks; "
        f"make local-scale-in stops one; control port {opts.ports['control']})")
    say("Ctrl-C stops everything.")


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    try:
        prepared = prepare(opts)
        stack = prepared.stack
    except NotStarted as error:
        print(f"local: {error}; nothing was started", file=sys.stderr)
        return EXIT_NOT_STARTED
    except KeyboardInterrupt:  # Ctrl-C while rendering: nothing runs yet
        return EXIT_NOT_STARTED
    supervisor = Supervisor(name_width=max(10, *(len(c.name) + 3 for c in stack.containers)))
    supervisor.handle_signals()
    try:
        start(supervisor, opts, prepared)
    except Stopped:
        supervisor.stop()
        return 0
    except StartError as error:
        supervisor.say(f"{error}; stopping the stack")
        supervisor.stop()
        return EXIT_FAILED
    except Exception as error:  # a server refused a table or the pool: say so, leave nothing running
        supervisor.say(f"could not set up the stack: {type(error).__name__}: {error}; stopping the stack")
        supervisor.stop()
        return EXIT_FAILED
    return supervisor.wait()
