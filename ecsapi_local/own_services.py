"""Your own services on your machine: each task runs the service's ``local.command`` (no Docker),
and counts as healthy as ECS would count it.

What AWS would see comes from the rendered template (the task definition's environment, its
secrets' names, its health check); what only your machine has comes from the stack file
(``[services.local]``: the command, extra environment, plain values for the secrets). Before
anything starts, :func:`plan_services` checks that every service can run: a service without
``local.command`` (and not the item store), or a secret without a local value, stops ``make local``
with a message naming the service and the key; ``--skip SERVICE`` leaves a service out (its routes
then answer 503, as API Gateway answers for an integration with nothing behind it).

A task's environment (:func:`task_environment`), in order, later ones winning:

1. this process's environment, less any AWS settings (``resources.CLEARED_ENVIRONMENT``), with the
   folder of this Python's programs first on ``PATH`` (as an activated virtualenv has it, so that
   ``python3`` and ``gunicorn`` in a command are the project's);
2. the task definition's ``Environment``, resolved: each table's ``<NAME>_TABLE`` is the local
   table's name;
3. ``local.environment``, then each secret's local value under its name;
4. what makes it local: ``PORT`` (the task's own port), ``AWS_ENDPOINT_URL_DYNAMODB`` (the
   service-specific endpoint variable boto3 >= 1.28 and the AWS SDKs read, "Service-specific
   endpoints", AWS SDKs and Tools Reference Guide), ``AWS_REGION`` and ``AWS_DEFAULT_REGION``, dummy
   credentials and no shared config (``resources.ISOLATED_ENVIRONMENT``).

The health check (:class:`HealthCheck`) is the task definition's, run as ECS runs it: ``CMD-SHELL``
through ``/bin/sh -c``, ``CMD`` directly, healthy on exit 0, each run cut at ``Timeout``. Failures
during ``StartPeriod`` do not count; after it, ``Retries`` failures in a row make the task unhealthy,
which fails its start (ECS would stop it and start another). During the start period the check
runs every second (Docker's start interval; ECS documents none), after it every ``Interval``
seconds. The check runs with the task's environment in its working folder (the container's), and an address ``127.0.0.1:PORT`` or
``localhost:PORT`` naming the container port in the command is the task's own port here (in ECS
the container's loopback and its port; locally each task listens on a port of its own).
A task without a health check counts as healthy once it listens on its port.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ecsapi_local.intrinsics import Resolver
from ecsapi_local.resources import CLEARED_ENVIRONMENT, ISOLATED_ENVIRONMENT
from ecsapi_local.supervisor import StartError, answers
from ecsapi_local.template_reader import Container, EmulatedStack

# The ECS HealthCheck defaults ("HealthCheck", Amazon ECS API Reference): interval 30 s, timeout
# 5 s, retries 3, start period 0 (the template always sets them; these cover a template that does not).
DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_RETRIES, DEFAULT_START_PERIOD = 30, 5, 3, 0
START_PERIOD_INTERVAL = 1.0
# How much of a failing check's output the error shows.
OUTPUT_CHARS = 300


class LocalRunError(Exception):
    """A service cannot run on this machine; the message names the service, the key and the fix."""


@dataclass(frozen=True)
class LocalTask:
    """How every task of one of your own services runs here."""

    service: str
    argv: tuple[str, ...]
    cwd: Path
    environment: Mapping[str, str]
    """Everything but the local-only variables of :func:`task_environment` (PORT, endpoints)."""
    container_port: int
    health_check: Mapping | None = None
    """The task definition's HealthCheck; None: healthy once it listens."""


@dataclass(frozen=True)
class Plan:
    """What ``make local`` runs: your own services' tasks, the item store's services, the skipped."""

    own: Mapping[str, LocalTask] = field(default_factory=dict)
    item_store: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def plan_services(stack: EmulatedStack, config, config_dir: Path, skip: tuple[str, ...] = ()) -> Plan:
    """Check that every service of ``stack`` can run here, with ``config`` (the StackConfig the
    template was rendered from) for what only this machine has. Raises :class:`LocalRunError`."""
    names = [c.name for c in stack.containers]
    for name in skip:
        if name not in names:
            raise LocalRunError(f"--skip {name}: there is no service {name!r}; the services are {', '.join(names)}")
    specs = {spec.name: spec for spec in config.services}
    own, item_store = {}, []
    for container in stack.containers:
        if container.name in skip:
            continue
        if container.is_item_store:
            item_store.append(container.name)
            continue
        spec = specs.get(container.name)
        local = getattr(spec, "local", None)
        if local is None:
            raise LocalRunError(
                f"service {container.name}: local.command is not set, so make local cannot run it (it runs no "
                f"images); add [services.local] command = [...] (the program that serves the API on $PORT), "
                f"or leave the service out with --skip {container.name}")
        values = dict(local.secrets)
        for secret in container.secrets:
            if secret not in values:
                raise LocalRunError(
                    f"service {container.name}: the secret {secret} has no local value; add it to [services.local] "
                    f'secrets = {{ {secret} = "a local test value" }}, or leave the service out with '
                    f"--skip {container.name}")
        environment = {**dict(local.environment), **{name: values[name] for name in container.secrets}}
        own[container.name] = LocalTask(container.name, tuple(local.command), config_dir, environment,
                                        container.port, container.health_check)
    return Plan(own, tuple(item_store), tuple(skip))


def task_environment(task: LocalTask, container: Container, resolver: Resolver, port: int, dynamodb_url: str,
                     region: str, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The process environment of one task on ``port`` (module docstring, in that order)."""
    environment = {k: v for k, v in base.items() if k not in CLEARED_ENVIRONMENT}
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), *filter(None, [base.get("PATH")])])
    definition = resolver.resolve(dict(container.environment), container.service_id)
    environment.update({name: str(value) for name, value in definition.items()})
    environment.update(task.environment)
    environment.update(ISOLATED_ENVIRONMENT)
    environment.update({
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    })
    return environment


class HealthCheck:
    """A task's health check as ECS runs it (module docstring); its instance is the supervisor's
    ``ready`` poll: True once healthy, StartError once unhealthy, else False."""

    def __init__(self, task_id: str, spec: Mapping | None, environment: Mapping[str, str], container_port: int,
                 port: int, cwd: Path | None = None) -> None:
        self.task_id = task_id
        self.cwd = cwd
        self.port = port
        self.spec = spec
        self.environment = dict(environment)
        self.interval = float(spec.get("Interval", DEFAULT_INTERVAL)) if spec else 0.0
        self.timeout = float(spec.get("Timeout", DEFAULT_TIMEOUT)) if spec else 0.0
        self.retries = int(spec.get("Retries", DEFAULT_RETRIES)) if spec else 0
        self.start_period = float(spec.get("StartPeriod", DEFAULT_START_PERIOD)) if spec else 0.0
        self.argv = self._argv(spec["Command"], container_port, port) if spec else None
        self.started = time.monotonic()
        self.next_run = self.started
        self.failures = 0

    @staticmethod
    def _argv(command: list[str], container_port: int, port: int) -> list[str]:
        kind, rest = command[0], [_local_address(part, container_port, port) for part in command[1:]]
        if kind == "CMD-SHELL":
            return ["/bin/sh", "-c", " ".join(rest)]
        if kind == "CMD":
            return rest
        raise StartError(f"health check {command!r}: starts with neither CMD nor CMD-SHELL")

    @property
    def ready_seconds(self) -> float:
        """How long the supervisor waits at most (the check itself fails the start sooner)."""
        if self.argv is None:
            return 60.0
        return self.start_period + (self.retries + 1) * (self.interval + self.timeout) + 5

    def __call__(self) -> bool:
        if self.argv is None:
            return answers(self.port)
        now = time.monotonic()
        if now < self.next_run:
            return False
        in_start_period = now - self.started < self.start_period
        healthy, output = self.run()
        self.next_run = time.monotonic() + (START_PERIOD_INTERVAL if in_start_period else self.interval)
        if healthy:
            return True
        if not in_start_period:
            self.failures += 1
            if self.failures >= self.retries:
                raise StartError(
                    f"{self.task_id}: health check {self.spec['Command']!r} failed {self.failures} times in a row "
                    f"after its {self.start_period:g} s start period: {output}")
        return False

    def run(self) -> tuple[bool, str]:
        """Run the check once: (exit 0, what it said)."""
        try:
            result = subprocess.run(self.argv, env=self.environment, cwd=self.cwd, stdin=subprocess.DEVNULL, capture_output=True,
                                    timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return False, f"timed out after {self.timeout:g} s"
        except OSError as error:
            return False, f"cannot run {self.argv[0]}: {error.strerror}"
        said = (result.stdout + result.stderr).decode("utf-8", "replace").strip()[:OUTPUT_CHARS]
        return result.returncode == 0, f"exit {result.returncode}" + (f": {said}" if said else "")


def _local_address(text: str, container_port: int, port: int) -> str:
    """``127.0.0.1:8080`` / ``localhost:8080`` (the container port) -> the task's own port here."""
    return re.sub(rf"\b(127\.0\.0\.1|localhost):{container_port}\b", rf"\g<1>:{port}", text)
