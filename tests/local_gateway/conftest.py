"""Fixtures for the local gateway's tests: real servers on free loopback ports.

- moto in server mode is the Cognito IdP: the user pool and app client are made from the generated
  template's Cognito resources; tokens come from InitiateAuth; the JWKS from moto's
  ``/<pool>/.well-known/jwks.json``.
- dynalite and one gunicorn per service (the image's command, the task definition's environment,
  both read from the template) are the containers, reusing tests/containers' process classes.
- the gateway runs as ``python -m ecsapi_local.gateway`` under gunicorn, as `make local` runs it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from ecsapi_local.gateway import LocalResolution
from generator import StackConfig, build_template
from generator.model.config_file import load_config
from generator.template.names import logical_id
from tests.support.containers import Dockerfile, Gunicorn, Service
from tests.support.moto import Moto
from tests.support.processes import (
    CONTAINERS,
    REGION,
    Dynalite,
    LocalProcess,
    LoopbackServer,
    free_port,
    http_request,
)

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
PASSWORD = "Correct-Horse-9-battery"
# The page's origin in these tests (added to CORS as `make local` adds the local page's).
PAGE_ORIGIN = "http://127.0.0.1:5173"
# Every service image runs the same itemstore command; the task definition's environment makes the
# service what it is (TABLE_KEY, ITEM_PATH_PREFIX), so one Dockerfile serves any configured service.
BASE_IMAGE = "food"



def template_of(config: StackConfig) -> dict:
    """The generated template as the CLI writes it (JSON), read back."""
    return json.loads(build_template(config).to_json())


def boto(service: str, endpoint: str):
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION).client(
        service, endpoint_url=endpoint, config=Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1}))


# Properties of AWS::Cognito::UserPool / UserPoolClient that CreateUserPool / CreateUserPoolClient
# take under the same name and shape (Amazon Cognito API reference).
POOL_PROPERTIES = ("UsernameAttributes", "UsernameConfiguration", "AutoVerifiedAttributes", "Policies",
                   "AccountRecoverySetting", "AdminCreateUserConfig", "MfaConfiguration",
                   "VerificationMessageTemplate", "DeletionProtection")
CLIENT_PROPERTIES = ("GenerateSecret", "ExplicitAuthFlows", "EnableTokenRevocation", "PreventUserExistenceErrors",
                     "AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits")


@dataclass
class Cognito:
    """The template's user pool and app client, made on moto."""

    moto: Moto
    pool_id: str
    client_id: str

    @property
    def idp(self):
        return boto("cognito-idp", self.moto.url)

    @property
    def jwks_url(self) -> str:
        return f"{self.moto.url}/{self.pool_id}/.well-known/jwks.json"

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def tokens(self, email: str) -> dict:
        """A new confirmed user's AuthenticationResult (AccessToken, IdToken, ...) from InitiateAuth."""
        self.idp.sign_up(ClientId=self.client_id, Username=email, Password=PASSWORD)
        self.idp.admin_confirm_sign_up(UserPoolId=self.pool_id, Username=email)
        return self.idp.initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})["AuthenticationResult"]


def create_cognito(moto: Moto, template: dict) -> Cognito:
    resources = template["Resources"]
    [pool_id] = [k for k, v in resources.items() if v["Type"] == "AWS::Cognito::UserPool"]
    [client_id] = [k for k, v in resources.items() if v["Type"] == "AWS::Cognito::UserPoolClient"]
    pool_props, client_props = resources[pool_id]["Properties"], resources[client_id]["Properties"]
    idp = boto("cognito-idp", moto.url)
    pool = idp.create_user_pool(PoolName="local-gateway-test-users",
                                **{k: pool_props[k] for k in POOL_PROPERTIES if k in pool_props})["UserPool"]
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="local-gateway-test-web",
                                         **{k: client_props[k] for k in CLIENT_PROPERTIES if k in client_props})
    return Cognito(moto=moto, pool_id=pool["Id"], client_id=client["UserPoolClient"]["ClientId"])


class GatewayProcess(LocalProcess):
    """``python -m ecsapi_local.gateway`` on a free loopback port."""

    name = "gateway"

    def __init__(self, workdir: Path, template: dict, resolution: LocalResolution, *extra: str) -> None:
        super().__init__(workdir / "gateway.log")
        self.port = free_port()
        self.template_path = workdir / "template.json"
        self.resolution_path = workdir / "resolution.json"
        self.template_path.write_text(json.dumps(template))
        self.resolution_path.write_text(resolution.to_json())
        self.extra = extra

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GatewayProcess:
        self._spawn([sys.executable, "-m", "ecsapi_local.gateway", "--template", str(self.template_path),
                     "--resolution", str(self.resolution_path), "--bind", f"127.0.0.1:{self.port}", *self.extra],
                    env=dict(os.environ), cwd=REPO)
        self._wait_ready(lambda: "local gateway listening on" in self.log(), timeout=30)
        return self

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 15.0):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        return http_request(self.port, method, path, body, headers, timeout)


@dataclass
class LocalStack:
    """A configuration's template served locally: tables, containers, IdP and gateway."""

    config: StackConfig
    template: dict
    cognito: Cognito
    containers: dict[str, Gunicorn]  # service name -> its container
    gateway: GatewayProcess
    services: dict[str, Service] = field(default_factory=dict)

    def bearer(self, token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    def local_processes(self) -> list[LocalProcess]:
        """Its servers, whose logs a failed test's report shows."""
        return [self.gateway, *self.containers.values(), self.cognito.moto]


def task_environment(template: dict, service_name: str, table_name: str) -> dict[str, str]:
    """The container environment the service's task definition gives, its references resolved locally."""
    definition = template["Resources"][logical_id(service_name, "TaskDefinition")]["Properties"]
    [container] = definition["ContainerDefinitions"]
    env = {}
    for variable in container.get("Environment", []):
        value = variable["Value"]
        if isinstance(value, dict):
            ref = value.get("Ref")
            value = REGION if ref == "AWS::Region" else table_name if ref == logical_id(service_name, "Table") else None
            assert value is not None, f"{service_name}: no local value for {variable}"
        env[variable["Name"]] = value
    env.pop("PORT", None)  # the container listens on a free loopback port instead
    return env


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
def base_dockerfile() -> Dockerfile:
    return Dockerfile.parse(CONTAINERS / BASE_IMAGE / "Dockerfile")


@pytest.fixture(scope="session")
def start_stack(tmp_path_factory, moto, dynalite, base_dockerfile):
    """start_stack(config, *gateway_args, upstreams=None) -> a LocalStack; stopped at session end.

    With ``upstreams`` (Cloud Map service logical id -> URL) no containers are started."""
    processes: list[LocalProcess] = []

    def start(config: StackConfig, *gateway_args: str, upstreams: dict[str, str] | None = None) -> LocalStack:
        workdir = tmp_path_factory.mktemp("stack")
        template = template_of(config)
        cognito = create_cognito(moto, template)
        containers, services = {}, {}
        for spec in config.services:
            service = Service(spec, BASE_IMAGE)
            services[spec.name] = service
            if upstreams is not None:
                continue  # the test points the integrations elsewhere: no containers needed
            table = f"{service.table_name}-{workdir.name}"
            dynalite.create_table(table, spec)
            env = task_environment(template, spec.name, table)
            container = Gunicorn(service, base_dockerfile, workdir / f"{spec.name}.log",
                                 env={**env, "DYNAMODB_ENDPOINT_URL": dynalite.url}, home=workdir)
            processes.append(container.start())
            containers[spec.name] = container
        resolution = LocalResolution(
            region=REGION,
            physical_ids={"UserPool": cognito.pool_id, "UserPoolClient": cognito.client_id},
            upstreams=upstreams if upstreams is not None else {
                logical_id(name, "DiscoveryService"): f"http://127.0.0.1:{c.port}" for name, c in containers.items()},
            jwks_url=cognito.jwks_url,
            page_origins=(PAGE_ORIGIN,),
        )
        gateway = GatewayProcess(workdir, template, resolution, *gateway_args)
        processes.append(gateway.start())
        return LocalStack(config, template, cognito, containers, gateway, services)

    yield start
    for process in reversed(processes):
        process.stop()


@pytest.fixture(scope="session")
def stack(start_stack) -> LocalStack:
    """The default configuration served locally."""
    return start_stack(StackConfig())


@pytest.fixture(scope="session")
def tokens(stack) -> dict:
    """A signed-in user's tokens from the stack's user pool (AccessToken, IdToken, RefreshToken)."""
    return stack.cognito.tokens(f"user-{int(time.time() * 1000)}@example.com")


@pytest.fixture(scope="session")
def three_services_config() -> StackConfig:
    return load_config(REPO / "stacks" / "three-services.toml")


class Echo(LoopbackServer):
    """tests/local_gateway/echo_app.py under gunicorn: answers with what it received."""

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
