"""``make local``: the whole API on 127.0.0.1, read from the rendered template.

The configuration is rendered with the generator into the work folder (build/local by default) and
the template read back (ecsapi_local.template_reader). Then, each component in its own process group,
every line it prints prefixed with its name (ecsapi_local.supervisor):

- dynamodb: dynalite, storing under the data folder (kept across restarts), with the template's
  tables created on it;
- cognito: moto in server mode, with the template's user pool and app client created on it (moto
  keeps them in memory: users do not survive a restart);
- one gunicorn per ECS service, running the image's command with its task definition's environment;
- api: the local gateway (ecsapi_local.gateway), serving the template's HTTP API with each
  Cloud Map service pointing at its container;
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
PORTS = {"page": 8000, "api": 8001, "cognito": 8002, "dynamodb": 8003, "containers": 8010}
PORT_HELP = {"page": "the test page's port", "api": "the local API gateway's port", "cognito": "moto's (Cognito) port",
             "dynamodb": "dynalite's (DynamoDB) port",
             "containers": "the first service's port; the others take the next ones, one per service"}
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
    return root


def options(argv: list[str] | None) -> Options:
    args = parser().parse_args(argv)
    ports = {name: getattr(args, f"{name}_port") for name in PORTS}
    return Options(args.config, args.work, args.data or args.work / "data", args.region, ports, args.dynalite)


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


def planned_ports(opts: Options, stack: EmulatedStack) -> dict[str, int]:
    """Every port the stack will listen on, by component name."""
    planned = {name: port for name, port in opts.ports.items() if name != "containers"}
    for index, container in enumerate(stack.containers):
        planned[container_label(container.name)] = opts.ports["containers"] + index
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
    return Component("cognito", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                     env=env, ready=lambda: _http_ok(f"{opts.cognito_url}moto-api/"), ready_seconds=60)


def containers(opts: Options, stack: EmulatedStack, provisioned: Provisioned, ports: dict[str, int]) -> list[Component]:
    from ecsapi_local.containers import container_environment, image_command, local_argv

    argv = local_argv(image_command())
    made = []
    for container in stack.containers:
        port = ports[container_label(container.name)]
        env = container_environment(container, provisioned.resolver, port, opts.dynamodb_url, _base_environment())
        made.append(Component(container.name, argv, env=env, cwd=opts.work,
                              ready=lambda port=port: _healthy(port), ready_seconds=60))
    return made


def gateway_resolution(provisioned: Provisioned, region: str, upstreams: dict[str, str], cognito_url: str,
                       page_origins: tuple[str, ...]) -> LocalResolution:
    """What the local gateway needs to serve the template's API here (its LocalResolution):
    ``upstreams`` maps each Cloud Map service's logical id to the URL of the task serving it;
    ``cognito_url`` is moto's; ``page_origins`` join the API's CORS origins."""
    from ecsapi_local.gateway import LocalResolution

    return LocalResolution(
        region=region,
        physical_ids=dict(provisioned.resolver.physical_ids),
        upstreams=upstreams,
        jwks_url=f"{cognito_url.rstrip('/')}/{provisioned.pool_id}/.well-known/jwks.json",
        page_origins=page_origins,
    )


def gateway(opts: Options, stack: EmulatedStack, provisioned: Provisioned, ports: dict[str, int]) -> Component:
    resolution = gateway_resolution(
        provisioned, opts.region,
        upstreams={c.discovery_id: f"http://127.0.0.1:{ports[container_label(c.name)]}" for c in stack.containers},
        cognito_url=opts.cognito_url,
        page_origins=(opts.page_url.rstrip("/"), f"http://localhost:{opts.ports['page']}"),
    )
    path = opts.work / "resolution.json"
    path.write_text(resolution.to_json())
    port = opts.ports["api"]
    return Component("api", [sys.executable, "-m", "ecsapi_local.gateway", "--template", str(stack.template_path),
                             "--resolution", str(path), "--bind", f"127.0.0.1:{port}"],
                     env=_base_environment(), ready=lambda: answers(port), ready_seconds=30)


def page(opts: Options, stack: EmulatedStack, provisioned: Provisioned) -> Component:
    config = stack.page_config(provisioned.resolver, opts.api_url, opts.cognito_url)
    path = opts.work / "config.json"
    path.write_text(json.dumps(config, indent=2) + "\n")
    port = opts.ports["page"]
    return Component("page", [sys.executable, "-m", "ecsapi_local.site", "--config", str(path),
                              "--bind", f"127.0.0.1:{port}"],
                     env=_base_environment(), ready=lambda: answers(port), ready_seconds=30)


# --- the run -------------------------------------------------------------------------------------

def prepare(opts: Options) -> tuple[EmulatedStack, dict[str, int], Path]:
    """Everything that can fail before a process starts: prerequisites, configuration, ports."""
    from generator.model.errors import ConfigError

    executable = find_dynalite(opts)
    opts.work.mkdir(parents=True, exist_ok=True)
    try:
        stack = read_template(render(opts.config, opts.work))
    except ConfigError as error:
        raise NotStarted(f"configuration error in {opts.config}: {error}") from None
    except TemplateError as error:
        raise NotStarted(str(error)) from None
    ports = planned_ports(opts, stack)
    check_ports(ports)
    return stack, ports, executable


def start(supervisor: Supervisor, opts: Options, stack: EmulatedStack, ports: dict[str, int],
          dynalite_executable: Path) -> None:
    say = supervisor.say
    say(f"template {stack.template_path} ({len(stack.containers)} services, {len(stack.tables)} tables)")
    supervisor.start_all([dynalite(opts, dynalite_executable), moto(opts)])

    provisioned = provision(stack, STACK_NAME, opts.region, client("dynamodb", opts.dynamodb_url, opts.region),
                            client("cognito-idp", opts.cognito_url, opts.region), say)
    supervisor.start_all(containers(opts, stack, provisioned, ports))
    supervisor.start(gateway(opts, stack, provisioned, ports))
    supervisor.start(page(opts, stack, provisioned))
    print_urls(say, opts, stack, provisioned.pool_id, provisioned.client_id)


def print_urls(say, opts: Options, stack: EmulatedStack, pool_id: str, client_id: str) -> None:
    say("ready. Open the test page, sign up, sign in, GET and PUT items:")
    say(f"  test page  {opts.page_url}")
    say(f"  API        {opts.api_url}")
    for route in stack.routes:
        if route.method == "GET":
            say(f"               {route.container}: {opts.api_url}{route.path}")
    say(f"  Cognito    {opts.cognito_url}  (moto: user pool {pool_id}, app client {client_id}; users are "
        "not kept across restarts)")
    say(f"  DynamoDB   {opts.dynamodb_url}  (dynalite: data in {opts.data}; `make local-reset` wipes it)")
    say("Ctrl-C stops everything.")


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    try:
        stack, ports, dynalite_executable = prepare(opts)
    except NotStarted as error:
        print(f"local: {error}; nothing was started", file=sys.stderr)
        return EXIT_NOT_STARTED
    except KeyboardInterrupt:  # Ctrl-C while rendering: nothing runs yet
        return EXIT_NOT_STARTED
    supervisor = Supervisor(name_width=max(10, *(len(c.name) for c in stack.containers)))
    supervisor.handle_signals()
    try:
        start(supervisor, opts, stack, ports, dynalite_executable)
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
