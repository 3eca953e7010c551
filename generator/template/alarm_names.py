"""Alarm names and logical ids, decided before the alarms exist.

The ECS services are built before the API, and the alarms that watch the API after it; yet each
service's deployment configuration must name its error alarm. This module is the one place both
read: the services take a :class:`DeploymentAlarm` as an argument, and the monitoring builder
(generator/template/monitoring.py) creates the alarm under exactly that logical id and name.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Sub

from generator.model.config import StackConfig
from generator.template.names import logical_id

# "PutMetricAlarm", Amazon CloudWatch API Reference: AlarmName is 1-255 UTF-8 characters, no ASCII
# control characters; unique per account and Region, hence the stack name in every one.
MAX_ALARM_NAME = 255
# "AWS::CloudFormation::Stack": a stack name is at most 128 letters, digits and hyphens.
MAX_STACK_NAME = 128

API_ERROR_RATE = "ApiErrorRateAlarm"


@dataclass(frozen=True)
class AlarmName:
    title: str
    """The alarm's logical id."""
    suffix: str
    """What follows ``<stack name>-`` in the alarm's name."""

    @property
    def name(self) -> Sub:
        return Sub(f"${{AWS::StackName}}-{self.suffix}")


@dataclass(frozen=True)
class DeploymentAlarm:
    """The alarm a service's deployments roll back on."""

    alarm: AlarmName

    @property
    def depends_on(self) -> str:
        """The service waits for the alarm: ECS reads it from the first deployment on."""
        return self.alarm.title


def api_error_rate() -> AlarmName:
    return AlarmName(API_ERROR_RATE, "api-5xx-rate")


def service_error_rate(service_name: str) -> AlarmName:
    return AlarmName(logical_id(service_name, "ErrorRateAlarm"), f"{service_name}-5xx-rate")


# "Alarms based on metric math expressions can reference a maximum of 10 metrics. This is a hard
# limit" ("Limits", Amazon CloudWatch User Guide, alarm-limits). A service's 5xx rate reads two
# metrics per route (Count and 5xx), so a service with more routes than this has no alarm of its own.
MAX_ALARM_METRICS = 10
ROUTE_ALARM_METRICS = 2


def has_own_error_alarm(config: StackConfig, spec) -> bool:
    """True when the service gets a 5xx alarm of its own routes: detailed metrics are on and its
    routes fit one alarm's metrics; otherwise it rolls back on the API's alarm."""
    return config.detailed_metrics and len(spec.api_routes) * ROUTE_ALARM_METRICS <= MAX_ALARM_METRICS


def deployment_alarms(config: StackConfig) -> dict[str, DeploymentAlarm]:
    """Service name -> the alarm its deployments roll back on; empty when ``config.alarms`` is off.

    With detailed metrics each service has a 5xx alarm of its own routes, which sees only its own
    deployment's errors. Without them API Gateway publishes 5xx only for the whole stage, so every
    service rolls back on the API's alarm: a deployment of one service while another one fails is
    then rolled back too (turn ``detailed_metrics`` on to separate them).
    """
    if not config.alarms:
        return {}
    return {
        spec.name: DeploymentAlarm(service_error_rate(spec.name) if has_own_error_alarm(config, spec) else api_error_rate())
        for spec in config.services
    }
