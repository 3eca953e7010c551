"""Fixtures for the local gateway's tests: real servers on free loopback ports, the emulated stack
built by the emulator's own code (ecsapi_local), not a copy of it.

- the template is read back with ``ecsapi_local.template_reader``; its tables (on dynalite) and its
  user pool and app client (on moto in server mode) are made by ``ecsapi_local.resources.provision``,
  as ``make local`` makes them; tokens come from InitiateAuth, the JWKS from moto's
  ``/<pool>/.well-known/jwks.json``.
- one task per service: the image's command under the venv's gunicorn with the environment
  ``ecsapi_local.containers`` gives it (the task definition's, resolved), as ``make local`` runs it.
- the gateway runs as ``python -m ecsapi_local.gateway`` under gunicorn with the LocalResolution
  ``ecsapi_local.run.gateway_resolution`` makes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from ecsapi_local.containers import container_environment
from ecsapi_local.resources import client, provision
from ecsapi_local.run import gateway_resolution
from ecsapi_local.template_reader import read_template
from generator import StackConfig, build_template
from generator.model.config_file import load_config
from generator.tooling.render import template_json
from tests.support.containers import Service
from tests.support.gateway import PAGE_ORIGIN, Cognito, EmulatedApi, GatewayProcess, Task
from tests.support.processes import (
    REGION,
    REPO,
    Dynalite,
    LocalProcess,
    LoopbackServer,
    free_port,
    http_request,
    stop_all,
)

HERE = Path(__file__).resolve().parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
# Service's image folder, for its url() only: every service's task runs the same image command.
BASE_IMAGE = "food"


@pytest.fixture(scope="session", autouse=True)
def _aws_test_environment(aws_test_environment):
    """Every gateway test runs with the dummy credentials (tests.support.plugin)."""


@pytest.fixture(scope="session")
def dynalite(tmp_path_factory):
    root = tmp_path_factory.mktemp("dynalite")
    server = Dynalite(root / "data", root / "dynalite.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def start_stack(tmp_path_factory, moto, dynalite):
    """start_stack(config, *gateway_args, upstreams=None) -> an EmulatedApi; stopped at session end.

    With ``upstreams`` (Cloud Map service logical id -> URL) no tasks are started."""
    processes: list[LocalProcess] = []

    def start(config: StackConfig, *gateway_args: str, upstreams: dict[str, str] | None = None) -> EmulatedApi:
        workdir = tmp_path_factory.mktemp("stack")
        template_path = workdir / "template.json"
        template_path.write_text(template_json(build_template(config)))
        stack = read_template(template_path)
        provisioned = provision(stack, f"gateway-{workdir.name}", REGION, client("dynamodb", dynalite.url, REGION),
                                client("cognito-idp", moto.url, REGION), lambda line: None)
        cognito = Cognito(moto, provisioned.pool_id, provisioned.client_id)
        tasks: dict[str, Task] = {}
        if upstreams is None:  # else the test points the integrations elsewhere: no tasks needed
            for container in stack.containers:
                port = free_port()
                env = container_environment(container, provisioned.resolver, port, dynalite.url, dict(os.environ))
                tasks[container.name] = Task(container.name, port, env, workdir / f"{container.name}.log")
                processes.append(tasks[container.name].start())
        resolution = gateway_resolution(
            provisioned, REGION,
            upstreams=upstreams if upstreams is not None else {
                c.discovery_id: f"http://127.0.0.1:{tasks[c.name].port}" for c in stack.containers},
            cognito_url=moto.url, page_origins=(PAGE_ORIGIN,))
        gateway = GatewayProcess(workdir, stack.template, resolution, *gateway_args)
        processes.append(gateway.start())
        services = {spec.name: Service(spec, BASE_IMAGE) for spec in config.services}
        return EmulatedApi(config, stack.template, cognito, tasks, gateway, services)

    yield start
    stop_all(processes)


@pytest.fixture(scope="session")
def stack(start_stack) -> EmulatedApi:
    """The default configuration, emulated."""
    return start_stack(StackConfig())


@pytest.fixture(scope="session")
def tokens(stack) -> dict:
    """A signed-in user's tokens from the stack's user pool (AccessToken, IdToken, RefreshToken)."""
    return stack.cognito.tokens(f"user-{int(time.time() * 1000)}@example.com")


@pytest.fixture(scope="session")
def three_services_config() -> StackConfig:
    return load_config(REPO / "stacks" / "three-services.toml")


class Echo(LoopbackServer):
    """tests/local/gateway/echo_app.py under gunicorn: answers with what it received."""

    name = "echo"

    def start(self) -> Echo:
        self._spawn([str(GUNICORN), "--bind", f"127.0.0.1:{self.port}", "--worker-class", "gthread",
                     "--threads", "4", "--no-control-socket", "--chdir", str(HERE), "echo_app:app"], env=dict(os.environ))
        self._wait_ready(self._answers, timeout=20)
        return self

    def _answers(self) -> bool:
        try:
            return http_request(self.port, "GET", "/ready", timeout=1)[0] == 200
        except OSError:
            return False


@pytest.fixture(scope="session")
def echo(tmp_path_factory):
    server = Echo(tmp_path_factory.mktemp("echo") / "echo.log").start()
    yield server
    server.stop()
