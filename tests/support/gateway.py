"""The local gateway as its tests run it (tests/local/gateway): the template's user pool on moto,
one task per service under the venv's gunicorn, ``python -m ecsapi_local.gateway`` on a free
loopback port, and the resolution the gateway reads, all built by the emulator's own code
(ecsapi_local). The fixtures that start and stop them live in tests/local/gateway/conftest.py.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ecsapi_local.containers import image_command, local_argv
from ecsapi_local.gateway import LocalResolution
from generator import StackConfig
from tests.support.containers import Gunicorn, Service
from tests.support.moto import PASSWORD, Moto
from tests.support.processes import REGION, REPO, LocalProcess, LoopbackServer, boto_client

# The page's origin in these tests (added to CORS as `make local` adds the local page's).
PAGE_ORIGIN = "http://127.0.0.1:5173"


@dataclass
class Cognito:
    """The template's user pool and app client, made on moto by the emulator's provision()."""

    moto: Moto
    pool_id: str
    client_id: str

    @functools.cached_property
    def idp(self):
        return boto_client("cognito-idp", self.moto.url, read_timeout=10, connect_timeout=2)

    @property
    def jwks_url(self) -> str:
        return f"{self.moto.url}/{self.pool_id}/.well-known/jwks.json"

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def tokens(self, email: str) -> dict:
        """A new confirmed user's AuthenticationResult (AccessToken, IdToken, ...) from InitiateAuth."""
        self.idp.sign_up(ClientId=self.client_id, Username=email, Password=PASSWORD,
                         UserAttributes=[{"Name": "email", "Value": email}])
        self.idp.admin_confirm_sign_up(UserPoolId=self.pool_id, Username=email)
        return self.idp.initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})["AuthenticationResult"]


class Task(Gunicorn):
    """One task of a service: the image's command under the venv's gunicorn, with the environment
    the emulator gives it (``ecsapi_local.containers``), not the containers tests' own.

    Stopped as the emulator stops its tasks when the stack stops: SIGINT, gunicorn's quick stop.
    Its environment carries the template's drain (DRAIN_SECONDS), so a SIGTERM would keep it
    serving that long and stop() would wait for it.
    """

    stop_signal = signal.SIGINT

    def __init__(self, name: str, port: int, env: dict[str, str], log_path: Path) -> None:
        LocalProcess.__init__(self, log_path)
        self.name = f"task {name}"
        self.port = port
        self.env = env
        self.argv = local_argv(image_command())


class GatewayProcess(LoopbackServer):
    """``python -m ecsapi_local.gateway`` on a free loopback port."""

    name = "gateway"

    def __init__(self, workdir: Path, template: dict, resolution: LocalResolution, *extra: str) -> None:
        super().__init__(workdir / "gateway.log")
        self.template_path = workdir / "template.json"
        self.resolution_path = workdir / "resolution.json"
        self.template_path.write_text(json.dumps(template))
        self.resolution_path.write_text(resolution.to_json())
        self.extra = extra

    def start(self) -> GatewayProcess:
        self._spawn([sys.executable, "-m", "ecsapi_local.gateway", "--template", str(self.template_path),
                     "--resolution", str(self.resolution_path), "--bind", f"127.0.0.1:{self.port}", *self.extra],
                    env=dict(os.environ), cwd=REPO)
        self._wait_ready(lambda: "local gateway listening on" in self.log(), timeout=30)
        return self

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 15.0):
        return super().request(method, path, body, headers, timeout)  # the gateway waits on the upstream too


@dataclass
class EmulatedApi:
    """A configuration's template emulated for the gateway: tables, tasks, IdP and gateway."""

    config: StackConfig
    template: dict
    cognito: Cognito
    containers: dict[str, Task]  # service name -> its task
    gateway: GatewayProcess
    services: dict[str, Service] = field(default_factory=dict)

    def bearer(self, token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    def local_processes(self) -> list[LocalProcess]:
        """Its servers, whose logs a failed test's report shows."""
        return [self.gateway, *self.containers.values(), self.cognito.moto]


def resolution(**changes) -> LocalResolution:
    """A resolution for a gateway built in-process: fixed physical ids, upstreams on ports nothing
    listens on; ``changes`` replace any field."""
    values = dict(
        region="eu-west-1",
        physical_ids={"UserPool": "eu-west-1_Pool", "UserPoolClient": "client123"},
        upstreams={"FoodstoreDiscoveryService": "http://127.0.0.1:9001", "PetstoreDiscoveryService": "http://127.0.0.1:9002"},
        jwks_url="http://127.0.0.1:9000/eu-west-1_Pool/.well-known/jwks.json",
        page_origins=(PAGE_ORIGIN,),
    )
    values.update(changes)
    return LocalResolution(**values)
