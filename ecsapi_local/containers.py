"""How a service's task runs on loopback: the image's own command (the CMD of the Dockerfile the
stack's image build builds) under this virtualenv's gunicorn, with the task definition's
environment, plus what makes it local: its own port on 127.0.0.1, dynalite's endpoint and dummy
credentials.

The Dockerfile is package data (``ecsapi_local/image/Dockerfile``, in a checkout a link to the
one the build builds), and the container code is the ``itemstore`` package this interpreter
imports: the checkout's ``containers/itemstore`` in a development virtualenv, the wheel's copy in
an install.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ecsapi_local.intrinsics import Resolver
from ecsapi_local.resources import CLEARED_ENVIRONMENT, ISOLATED_ENVIRONMENT
from ecsapi_local.template_reader import Container

# The venv's gunicorn stands in for the image's (both are installed from the same pins).
GUNICORN = Path(sys.executable).parent / "gunicorn"
# One worker per service: a laptop runs every service at once, and one worker with the image's
# thread pool serves a person clicking through the page. GUNICORN_WORKERS in the environment wins.
LOCAL_WORKERS = "1"
# The Dockerfile the stack's image build builds (generator.tooling.assets.BUILT_DOCKERFILE).
IMAGE_DOCKERFILE = Path(__file__).resolve().parent / "image" / "Dockerfile"


def image_command(dockerfile: Path = IMAGE_DOCKERFILE) -> list[str]:
    """The Dockerfile's CMD (JSON form)."""
    commands = [line for line in dockerfile.read_text().splitlines() if line.startswith("CMD ")]
    if len(commands) != 1:
        raise RuntimeError(f"{dockerfile}: expected one CMD line, found {len(commands)}")
    return json.loads(commands[0][len("CMD "):])


def local_argv(command: list[str]) -> list[str]:
    """The image's command with this virtualenv's gunicorn in place of the image's."""
    if command[0] != "gunicorn":
        raise RuntimeError(f"the image runs {command[0]}, not gunicorn: {command}")
    return [str(GUNICORN), *command[1:]]


def container_environment(container: Container, resolver: Resolver, port: int, dynamodb_url: str,
                          base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The process environment: ours (minus any AWS settings), the task definition's, then local settings."""
    task = {name: str(value) for name, value in resolver.resolve(dict(container.environment), container.service_id).items()}
    environment = {k: v for k, v in base.items() if k not in CLEARED_ENVIRONMENT}
    environment.setdefault("GUNICORN_WORKERS", LOCAL_WORKERS)
    environment.update(task)
    environment.update(ISOLATED_ENVIRONMENT)
    environment.update({
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
        "DYNAMODB_ENDPOINT_URL": dynamodb_url,
        # The config module binds 0.0.0.0:$PORT, right in a container; gunicorn's own
        # GUNICORN_CMD_ARGS keeps it on loopback while argv stays exactly the image's CMD.
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
    })
    return environment
