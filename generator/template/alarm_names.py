"""Alarm names and logical ids, decided before the alarms exist.

The ECS services are built before the API, and the alarms that watch the API after it; yet each
service's deployment configuration must name its error alarm. This module is the one place both
read: the services take a :class:`DeploymentAlarm` as an argument, and the monitoring builder
(generator/template/monitoring.py) creates the alarm under exactly that logical id and name.
"""

from __future__ import annotations

from troposphere import Sub

from generator.model.config import StackConfig
from generator.model.records import dataclass
from generator.model.tables import TableSpec
from generator.template.names import logical_id

# "PutMetricAlarm", Amazon CloudWatch API Reference: AlarmName is 1-255 UTF-8 characters, no ASCII
# control characters; unique per account and Region, hence the stack name in every one.
MAX_ALARM_NAME = 255
# "AWS::CloudFormation::Stack": a stack name is at most 128 letters, digits and hyphens.
MAX_STACK_NAME = 128

API_ERROR_RATE = "ApiErrorRateAlarm"
API_LATENCY = "ApiLatencyAlarm"


@dataclass(frozen=True)
class AlarmName:
    """An alarm named before it exists (a service's deployment rolls back on it)."""

    title: str
    """The alarm's logical id."""
    suffix: str
    """What follows ``<stack name>-`` in the alarm's name."""

    @property
    def name(self) -> Sub:
        return Sub(f"${{AWS::StackName}}-{self.suffix}")

    @property
    def arn(self) -> Sub:
        return Sub(
            f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:${{AWS::StackName}}-{self.suffix}"
        )


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


def api_latency() -> AlarmName:
    return AlarmName(API_LATENCY, "api-p99-latency")


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


def tasks_below_minimum(service_name: str) -> AlarmName:
    return AlarmName(logical_id(service_name, "TasksAlarm"), f"{service_name}-tasks-below-minimum")


def scaling_ceiling(service_name: str) -> AlarmName:
    return AlarmName(logical_id(service_name, "ScalingCeilingAlarm"), f"{service_name}-at-max-tasks")


def table_errors(service_name: str, table: TableSpec | None = None) -> AlarmName:
    """The item store's one table's alarm (``table`` None), or one of your own service's tables'."""
    if table is None:
        return AlarmName(logical_id(service_name, "TableAlarm"), f"{service_name}-table-errors")
    return AlarmName(logical_id(service_name, table.logical_name, "TableAlarm"), f"{service_name}-{table.name}-table-errors")


def stack_alarms(config: StackConfig) -> tuple[AlarmName, ...]:
    """Every alarm the stack has, in template order; empty when ``config.alarms`` is off.

    The topic and key policies admit exactly these alarms' ARNs: a wildcard
    ``alarm:<stack name>-*`` would also admit the alarms of a stack named ``<stack name>-other``.
    The task-count and scaling-ceiling alarms read Container Insights metrics (``DesiredTaskCount``
    and ``RunningTaskCount`` are published only with it: "Amazon ECS Container Insights metrics",
    Amazon CloudWatch User Guide), so without it they are left out rather than billed for a metric
    that never exists.
    """
    if not config.alarms:
        return ()
    names = [api_error_rate(), api_latency()]
    for spec in config.services:
        if has_own_error_alarm(config, spec):
            names.append(service_error_rate(spec.name))
        if config.container_insights:
            names += [tasks_below_minimum(spec.name), scaling_ceiling(spec.name)]
        if spec.is_item_store:
            names.append(table_errors(spec.name))
        else:
            names += [table_errors(spec.name, table) for table in spec.tables]
    return tuple(names)


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
