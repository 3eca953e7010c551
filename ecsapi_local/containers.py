"""How a service's container runs on loopback: the image's own command
(``itemstore.contract.IMAGE_COMMAND``, the CMD of every service's Dockerfile) under this
virtualenv's gunicorn, with the task definition's environment, plus what makes it local: its own
port on 127.0.0.1, dynalite's endpoint and dummy credentials.

The container code is the ``itemstore`` package this interpreter imports: the checkout's
``containers/itemstore`` in a development virtualenv, the wheel's copy in an install.
"""

from __future__ import annotations

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


def image_command() -> list[str]:
    """The command every service's image runs (its Dockerfile's CMD)."""
    from itemstore.contract import IMAGE_COMMAND

    return list(IMAGE_COMMAND)


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
