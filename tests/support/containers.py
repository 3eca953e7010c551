"""The item-store containers as the tests run them: the services as the generator defines them,
their Dockerfiles parsed, and one service's image command under the venv's gunicorn.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from itemstore.contract import HEALTH_PATH

from generator.model.config import DEFAULT_SERVICES, ServiceSpec
from generator.tooling.assets import SERVICE_DOCKERFILES
from tests.support.processes import AWS_CLEARED, AWS_TEST_ENV, CONTAINERS, LoopbackServer, http_request

# The venv's gunicorn stands in for the image's `gunicorn` (both from containers/requirements.txt).
GUNICORN = Path(sys.executable).parent / "gunicorn"


# --- the services, as the generator defines them -------------------------------------------------

@dataclass(frozen=True)
class Service:
    spec: ServiceSpec  # the generator's service: name, path, table key
    image: str         # directory under containers/: food

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def table_key(self) -> str:
        return self.spec.key_attribute

    @property
    def prefix(self) -> str:
        return self.spec.path_prefix

    @property
    def table_name(self) -> str:
        return f"test-{self.name}"

    @property
    def dockerfile(self) -> Path:
        return CONTAINERS / self.image / "Dockerfile"

    def url(self, item_id: str) -> str:
        return f"{self.prefix}/{item_id}"


# The folder of each service's Dockerfile, from the one place that maps services to Dockerfiles.
IMAGE_OF = {name: Path(dockerfile).parent.name for name, dockerfile in SERVICE_DOCKERFILES.items()}


SERVICES = tuple(Service(spec, IMAGE_OF[spec.name]) for spec in DEFAULT_SERVICES)

# --- Dockerfiles -----------------------------------------------------------------------------------

@dataclass
class Dockerfile:
    """The instructions of a Dockerfile that the tests check (one stage, JSON-form commands)."""

    path: Path
    instructions: list[tuple[str, str]]

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        instructions, pending = [], ""
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not pending and (not line or line.startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line, pending = pending + line, ""
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
        return cls(path, instructions)

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def one(self, keyword: str) -> str:
        found = self.all(keyword)
        assert len(found) == 1, f"{self.path}: expected one {keyword}, found {found}"
        return found[0]

    @property
    def cmd(self) -> list[str]:
        return json.loads(self.one("CMD"))

    @property
    def env(self) -> dict[str, str]:
        env = {}
        for rest in self.all("ENV"):
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
        return env

    @property
    def healthcheck(self) -> list[str]:
        _, _, command = self.one("HEALTHCHECK").partition("CMD ")
        return ["CMD", *json.loads(command)]


def gunicorn_argv(dockerfile: Dockerfile) -> list[str]:
    """The image's CMD, with the venv's gunicorn in place of the image's."""
    cmd = dockerfile.cmd
    assert cmd[0] == "gunicorn", cmd
    return [str(GUNICORN), *cmd[1:]]


class Gunicorn(LoopbackServer):
    """One service's image command, run by the venv's gunicorn on a free loopback port."""

    def __init__(self, service: Service, dockerfile: Dockerfile, log_path: Path, env: dict[str, str],
                 home: Path) -> None:
        super().__init__(log_path)
        self.name = f"gunicorn {service.name}"
        self.service = service
        self.argv = gunicorn_argv(dockerfile)
        # The image's environment, then the task definition's, then the test's.
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in AWS_CLEARED},
            **dockerfile.env,
            "PYTHONPATH": str(CONTAINERS),
            "HOME": str(home),
            **AWS_TEST_ENV,
            "TABLE_NAME": service.table_name,
            "PORT": str(self.port),
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "4",
            # stop() sends SIGTERM; the drain tests set their own DRAIN_SECONDS.
            "DRAIN_SECONDS": "0",
            **env,
        }
        # The config module binds 0.0.0.0:$PORT, right in a container; here gunicorn's own
        # GUNICORN_CMD_ARGS keeps it on loopback while argv stays exactly the image's CMD.
        self.env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self._spawn(self.argv, env=self.env, cwd=self.log_path.parent)
        self._wait_ready(self._healthy, timeout=20)
        return self

    def _healthy(self) -> bool:
        try:
            return http_request(self.port, "GET", HEALTH_PATH, timeout=1)[0] == 200
        except OSError:
            return False
