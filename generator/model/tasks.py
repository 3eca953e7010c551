"""What a service's task runs beside its image: its health check, and its command on your machine.

The health check decides when a task takes traffic. ECS runs it in the container; a task whose
container has a health check is registered in Cloud Map (and so reached by API Gateway) only once
it is healthy, and during a deployment ECS stops an old task only after a new one is healthy. A
container without a health check counts as healthy as soon as it runs ("Amazon ECS task health
checks" / HealthCheck, Amazon ECS API Reference): API Gateway may then route to it before it listens.
"""

from __future__ import annotations

from generator.model.checks import ENV_NAME, int_in, string_pairs, strings
from generator.model.errors import ConfigError
from generator.model.records import dataclass

# The ECS HealthCheck's bounds (Amazon ECS API Reference, HealthCheck): interval 5-300 s,
# timeout 2-120 s, retries 1-10, startPeriod 0-300 s; the command starts with CMD (run directly) or
# CMD-SHELL (run through the container's default shell).
HEALTH_CHECK_KINDS = ("CMD", "CMD-SHELL")
NO_HEALTH_CHECK = "none"
# The item store's interval and start period (generator/template/services.py says why), the
# default for every service.
DEFAULT_INTERVAL_SECONDS = 10
DEFAULT_TIMEOUT_SECONDS = 5
DEFAULT_RETRIES = 3
DEFAULT_START_PERIOD_SECONDS = 10


@dataclass(frozen=True)
class HealthCheckSpec:
    """The container's health check, as ECS runs it."""

    command: tuple[str, ...]
    """``["CMD", "program", "arg", ...]`` (run directly) or ``["CMD-SHELL", "a shell command"]``
    (through ``/bin/sh -c``); healthy on exit code 0. The program must exist in the image
    (``wget``/``curl`` are not in every base image)."""
    interval: int = DEFAULT_INTERVAL_SECONDS
    """Seconds between checks, 5-300. Default 10."""
    timeout: int = DEFAULT_TIMEOUT_SECONDS
    """Seconds a check may take before it counts as failed, 2-120. Default 5."""
    retries: int = DEFAULT_RETRIES
    """Consecutive failures that make the container unhealthy, 1-10. Default 3."""
    start_period: int = DEFAULT_START_PERIOD_SECONDS
    """Seconds after start during which failures do not count, 0-300. Default 10."""

    def __post_init__(self) -> None:
        command = strings("command", self.command, "the check's program and arguments", allow_empty=False)
        if command[0] not in HEALTH_CHECK_KINDS or len(command) < 2:
            raise ConfigError(
                "command", list(command),
                'start with "CMD" and the program and its arguments, or "CMD-SHELL" and one shell command',
            )
        if command[0] == "CMD-SHELL" and len(command) != 2:
            raise ConfigError("command", list(command), 'give "CMD-SHELL" exactly one shell command string')
        object.__setattr__(self, "command", command)
        int_in("interval", self.interval, 5, 300)
        int_in("timeout", self.timeout, 2, 120)
        int_in("retries", self.retries, 1, 10)
        int_in("start_period", self.start_period, 0, 300)
        if self.timeout >= self.interval:
            # ECS would start the next check before this one times out.
            raise ConfigError("timeout", self.timeout, f"must be shorter than interval ({self.interval})")


def health_check_from(field: str, value: object) -> HealthCheckSpec | str | None:
    """A configuration's ``health_check``: a :class:`HealthCheckSpec`, a mapping of its fields,
    ``"none"``, or None (unset)."""
    if value is None or isinstance(value, HealthCheckSpec) or value == NO_HEALTH_CHECK:
        return value
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"command", "interval", "timeout", "retries", "start_period"})
        if unknown:
            raise ConfigError(f"{field}.{unknown[0]}", value[unknown[0]],
                              "unknown setting; known settings: command, interval, timeout, retries, start_period")
        if "command" not in value:
            raise ConfigError(f"{field}.command", None, 'give the check\'s command, e.g. ["CMD-SHELL", "curl -f ..."]')
        try:
            return HealthCheckSpec(**value)
        except ConfigError as error:
            raise error.within(field) from None
    raise ConfigError(field, value, '"none", or { command = [...] } with optional interval, timeout, retries, start_period')


@dataclass(frozen=True)
class LocalRun:
    """How ``make local`` runs the service's tasks on your machine, instead of its image."""

    command: tuple[str, ...]
    """The program and its arguments (``["python3", "-m", "orders"]``), run from the folder of the
    stack file with the task's environment, ``PORT`` (each local task's own port), each table's
    ``<NAME>_TABLE`` and the AWS SDKs' endpoint variables pointing at the local DynamoDB."""
    environment: tuple[tuple[str, str], ...] = ()
    """Variables added to the service's environment, locally only. Default: none."""
    secrets: tuple[tuple[str, str], ...] = ()
    """Plain local values for the service's ``secrets`` (name -> value), locally only; each secret
    needs one for ``make local`` to start the service. Default: none."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "command", strings("command", self.command, "the program and its arguments",
                                                    allow_empty=False))
        object.__setattr__(self, "environment", string_pairs("environment", self.environment, ENV_NAME, "variable names"))
        # Local secret values are test values, not limited to 256 characters like environment values.
        object.__setattr__(self, "secrets", string_pairs("secrets", self.secrets, ENV_NAME, "variable names",
                                                         max_length=4096))
