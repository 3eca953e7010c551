"""Monitoring: the alarm topic and its optional e-mail subscription, the alarms, and the dashboard.

Built after the API and the services, from their handles; it changes none of their resources. The
services' deployment configurations already name the alarms they roll back on
(generator/template/alarm_names.py); this module creates those alarms under exactly those names.
Every metric named here is a documented fact of generator/model/metrics.py.
"""

from __future__ import annotations

from awacs.aws import Allow, ArnEquals, Condition, Principal, Statement, StringEquals
from troposphere import Equals, GetAtt, Not, Output, Parameter, Ref, Sub, Template, cloudwatch, kms, sns

from generator.model.config import StackConfig
from generator.model.constants import INTEGRATION_TIMEOUT_MS, TABLE_OPERATIONS
from generator.model.metrics import (
    API_GATEWAY,
    API_ID,
    AVERAGE,
    CLUSTER_NAME,
    CONTAINER_INSIGHTS,
    DYNAMODB,
    ECS,
    MAXIMUM,
    OPERATION,
    ROUTE,
    SERVICE_NAME,
    STAGE,
    SUM,
    TABLE_NAME,
)
from generator.model.records import dataclass
from generator.template import alarm_names
from generator.template.actions import sns as sns_actions
from generator.template.api import Api
from generator.template.checkov import TOPIC_WITHOUT_CMK, skip_checks
from generator.template.cluster import Cluster
from generator.template.dashboard import WatchedFunction, add_dashboard
from generator.template.iam import policy
from generator.template.keys import alarm_arns
from generator.template.parameters import ParameterInterface
from generator.template.services import Service
from generator.template.storage import Table

# API Gateway, Container Insights and DynamoDB publish these metrics once a minute: alarms read
# them at that resolution (a standard-resolution alarm, $0.10 per metric a month).
PERIOD_SECONDS = 60
# How long a condition must hold before the latency, task-count and scaling alarms fire: long
# enough that one slow minute, a Spot replacement or a scale-out in progress is not an alarm.
SUSTAINED_MINUTES = 5
# The $default stage: the value of the Stage dimension of its metrics.
STAGE_NAME = "$default"
HAS_ALARM_EMAIL = "HasAlarmEmail"
# Loose on purpose: SNS sends a confirmation message, and only a confirmed address receives alarms.
EMAIL_PATTERN = r"^$|^[^\s@]+@[^\s@]+\.[^\s@]+$"


@dataclass(frozen=True)
class Monitoring:
    """The alarm topic, the alarms and the dashboard ``add_monitoring`` created."""

    topic: sns.Topic | None
    alarms: tuple[cloudwatch.Alarm, ...]
    dashboard: cloudwatch.Dashboard | None


def add_monitoring(
    template: Template,
    interface: ParameterInterface,
    config: StackConfig,
    key: kms.Key | None,
    api: Api,
    cluster: Cluster,
    services: list[Service],
    functions: list[WatchedFunction],
) -> Monitoring:
    """The alarms (with their topic) when ``config.alarms`` is on, the dashboard when
    ``config.dashboard`` is on."""
    topic = None
    alarms: list[cloudwatch.Alarm] = []
    if config.alarms:
        topic = _add_topic(template, interface, config, key)
        alarms = _add_alarms(template, config, topic, api, cluster, services)
    dashboard = (
        add_dashboard(template, config, api, cluster, services, functions, alarms) if config.dashboard else None
    )
    if topic is not None:
        template.add_output(Output("AlarmTopicArn", Value=Ref(topic), Description="SNS topic the alarms publish to"))
    if dashboard is not None:
        template.add_output(Output("DashboardName", Value=Ref(dashboard), Description="CloudWatch dashboard of the stack"))
    return Monitoring(topic=topic, alarms=tuple(alarms), dashboard=dashboard)


# The sender name of the topic's e-mails. Not "<stack name> alarms": the AWS::SNS::Topic schema
# bounds DisplayName to 100 characters, a stack name may have 128 ("CreateStack", AWS CloudFormation
# API Reference), and a template cannot cut a string. Each message names its alarm, and every alarm
# name starts with the stack name (generator/template/alarm_names.py).
TOPIC_DISPLAY_NAME = "ecsapi alarms"


def _add_topic(template: Template, interface: ParameterInterface, config: StackConfig, key: kms.Key | None) -> sns.Topic:
    """The topic every alarm publishes to, its policy, and the ``AlarmEmail`` subscription.

    With the stack's key the topic is encrypted with it (its policy lets this stack's alarms use
    it: generator/template/keys.py). Without it the topic is not KMS-encrypted: the only other key
    would be the AWS managed alias/aws/sns, whose policy cannot admit CloudWatch, so alarms could
    not publish at all. The messages hold alarm names, states and metric values, no stored data.
    """
    email = interface.add(
        template, "Alarms", "Alarm e-mail",
        Parameter(
            "AlarmEmail", Type="String", Default="", AllowedPattern=EMAIL_PATTERN,
            ConstraintDescription="an e-mail address, or empty",
            Description=(
                "Address that receives the stack's alarms (SNS e-mails a confirmation link first). "
                "Empty: no subscription; subscribe to the AlarmTopicArn output's topic yourself."
            ),
        ),
    )
    template.add_condition(HAS_ALARM_EMAIL, Not(Equals(Ref(email), "")))
    encryption = {"KmsMasterKeyId": GetAtt(key, "Arn")} if key is not None else {}
    topic = template.add_resource(
        sns.Topic("AlarmTopic", DisplayName=TOPIC_DISPLAY_NAME, **encryption)
    )
    skip_checks(topic, *([] if key is not None else [TOPIC_WITHOUT_CMK]))
    template.add_resource(
        sns.TopicPolicy(
            "AlarmTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=policy(
                Statement(
                    Sid="OnlyThisStacksAlarmsPublish",
                    Effect=Allow,
                    Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                    Action=[sns_actions.Publish],
                    Resource=[Ref(topic)],
                    # The confused-deputy conditions: CloudWatch acting for this account's alarms of
                    # this stack only ("Amazon SNS access control", Amazon SNS Developer Guide).
                    Condition=Condition([
                        StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")}),
                        ArnEquals({"aws:SourceArn": alarm_arns(config)}),
                    ]),
                ),
            ),
        )
    )
    template.add_resource(
        sns.SubscriptionResource(
            "AlarmEmailSubscription", Condition=HAS_ALARM_EMAIL, Protocol="email", Endpoint=Ref(email),
            TopicArn=Ref(topic),
        )
    )
    return topic


def _dimensions(**values) -> list[cloudwatch.MetricDimension]:
    return [cloudwatch.MetricDimension(Name=name, Value=value) for name, value in values.items()]


def _query(query_id: str, namespace: str, name: str, stat: str, **dimensions) -> cloudwatch.MetricDataQuery:
    return cloudwatch.MetricDataQuery(
        Id=query_id,
        ReturnData=False,
        MetricStat=cloudwatch.MetricStat(
            Metric=cloudwatch.Metric(Namespace=namespace, MetricName=name, Dimensions=_dimensions(**dimensions)),
            Period=PERIOD_SECONDS,
            Stat=stat,
        ),
    )


def _expression(expression, label: str) -> cloudwatch.MetricDataQuery:
    return cloudwatch.MetricDataQuery(Id="result", Expression=expression, Label=label, ReturnData=True)


def _alarm(template: Template, topic: sns.Topic, name: alarm_names.AlarmName, description: str, **properties) -> cloudwatch.Alarm:
    """An alarm named ``<stack>-<suffix>`` whose actions are the topic only, both ways (ALARM and OK)."""
    return template.add_resource(
        cloudwatch.Alarm(
            name.title,
            AlarmName=name.name,
            AlarmDescription=description,
            ActionsEnabled=True,
            AlarmActions=[Ref(topic)],
            OKActions=[Ref(topic)],
            **properties,
        )
    )


def _error_rate(
    template: Template, config: StackConfig, topic: sns.Topic, name: alarm_names.AlarmName, what: str,
    routes: list[dict],
) -> cloudwatch.Alarm:
    """5xx as a share of requests over ``routes`` (dimension sets), above the configured percent
    for the configured minutes. Idle minutes have no requests, so no value, and are not breaching."""
    queries = []
    for index, dimensions in enumerate(routes):
        queries.append(_query(f"requests{index}", API_GATEWAY, "Count", SUM, **dimensions))
        queries.append(_query(f"errors{index}", API_GATEWAY, "5xx", SUM, **dimensions))
    # Minutes without requests have no rate (not 0/0): the common guard IF(requests > 0, ...).
    totals = [
        cloudwatch.MetricDataQuery(
            Id=kind, Expression=" + ".join(f"FILL({kind}{i}, 0)" for i in range(len(routes))), ReturnData=False
        )
        for kind in ("requests", "errors")
    ]
    minutes = config.alarm_5xx_minutes
    return _alarm(
        template, topic, name,
        f"More than {config.alarm_5xx_percent}% of {what} answered 5xx in each of {minutes} consecutive "
        "minute(s). Deployments roll back on this alarm. Look at the API access log (integrationError, "
        "integrationStatus) and the service's container logs for the failing requests; if a deployment "
        "was rolled back, fix the image or task definition before deploying again.",
        Metrics=[
            *queries,
            *totals,
            _expression("IF(requests > 0, 100 * errors / requests, 0)", "5xx % of requests"),
        ],
        ComparisonOperator="GreaterThanThreshold",
        Threshold=config.alarm_5xx_percent,
        EvaluationPeriods=minutes,
        DatapointsToAlarm=minutes,
        TreatMissingData="notBreaching",
    )


def _add_alarms(
    template: Template, config: StackConfig, topic: sns.Topic, api: Api, cluster: Cluster, services: list[Service]
) -> list[cloudwatch.Alarm]:
    stage = {API_ID: Ref(api.api), STAGE: STAGE_NAME}
    alarms = [
        _error_rate(template, config, topic, alarm_names.api_error_rate(), "the API's requests", [stage]),
        _latency(template, config, topic, stage),
    ]
    for service in services:
        spec = service.spec
        if alarm_names.has_own_error_alarm(config, spec):
            routes = [{**stage, ROUTE: route.route} for route in spec.api_routes]
            alarms.append(_error_rate(
                template, config, topic, alarm_names.service_error_rate(spec.name),
                f"the {spec.name} routes' requests", routes,
            ))
        # Task counts are Container Insights metrics (alarm_names.stack_alarms): without it the
        # task alarm (missing data counts as breaching) would sit in ALARM forever, and the ceiling
        # alarm could never fire.
        if config.container_insights:
            alarms += [
                _tasks_below_minimum(template, topic, cluster, service),
                _scaling_ceiling(template, topic, cluster, service),
            ]
        alarms += [_table_errors(template, topic, service, table) for table in service.tables]
    return alarms


def _latency(template: Template, config: StackConfig, topic: sns.Topic, stage: dict) -> cloudwatch.Alarm:
    threshold = INTEGRATION_TIMEOUT_MS * config.alarm_latency_percent // 100
    return _alarm(
        template, topic, alarm_names.api_latency(),
        f"The API's p99 integration latency stayed above {threshold} ms ({config.alarm_latency_percent}% of "
        f"the {INTEGRATION_TIMEOUT_MS // 1000} s integration timeout) for {SUSTAINED_MINUTES} minutes: the "
        "slowest requests are close to timing out (504). Check the services' CPU and task counts on the "
        "dashboard and DynamoDB latency; scale out (raise MaxTasks) or find the slow route in the access log.",
        Namespace=API_GATEWAY,
        MetricName="IntegrationLatency",
        Dimensions=_dimensions(**stage),
        ExtendedStatistic="p99",
        # A percentile of a few requests is noise: minutes with too few are not evaluated.
        EvaluateLowSampleCountPercentile="ignore",
        Period=PERIOD_SECONDS,
        ComparisonOperator="GreaterThanThreshold",
        Threshold=threshold,
        EvaluationPeriods=SUSTAINED_MINUTES,
        DatapointsToAlarm=SUSTAINED_MINUTES,
        TreatMissingData="notBreaching",
    )


def _service_dimensions(cluster: Cluster, service: Service) -> dict:
    return {CLUSTER_NAME: Ref(cluster.cluster), SERVICE_NAME: GetAtt(service.service, "Name")}


def _tasks_below_minimum(template: Template, topic: sns.Topic, cluster: Cluster, service: Service) -> cloudwatch.Alarm:
    name = service.spec.name
    return _alarm(
        template, topic, alarm_names.tasks_below_minimum(name),
        f"The {name} service ran fewer tasks than its MinTasks parameter for {SUSTAINED_MINUTES} minutes: "
        "tasks fail to start or keep stopping (image pull, health check, Spot capacity). Read the "
        "service's events and stopped tasks' reasons in the ECS console, then its container logs.",
        Namespace=CONTAINER_INSIGHTS,
        MetricName="RunningTaskCount",
        Dimensions=_dimensions(**_service_dimensions(cluster, service)),
        Statistic=MAXIMUM,
        Period=PERIOD_SECONDS,
        ComparisonOperator="LessThanThreshold",
        Threshold=Ref(service.parameters.min_tasks),
        EvaluationPeriods=SUSTAINED_MINUTES,
        DatapointsToAlarm=SUSTAINED_MINUTES,
        # Container Insights reports a service's task counts every minute; no report means no
        # running task can be seen, which is what this alarm is about.
        TreatMissingData="breaching",
    )


def _scaling_ceiling(template: Template, topic: sns.Topic, cluster: Cluster, service: Service) -> cloudwatch.Alarm:
    name = service.spec.name
    parameters = service.parameters
    dimensions = _service_dimensions(cluster, service)
    return _alarm(
        template, topic, alarm_names.scaling_ceiling(name),
        f"The {name} service wanted its MaxTasks tasks and still averaged more CPU than its CpuTarget for "
        f"{SUSTAINED_MINUTES} minutes: autoscaling has hit its ceiling and requests queue. Raise the "
        "MaxTasks parameter (or the task size), or lower the stage's throttling limits.",
        Metrics=[
            _query("desired", CONTAINER_INSIGHTS, "DesiredTaskCount", MAXIMUM, **dimensions),
            _query("cpu", ECS, "CPUUtilization", AVERAGE, **dimensions),
            _expression(
                Sub(
                    f"IF(desired >= ${{{parameters.max_tasks.title}}} AND cpu > ${{{parameters.cpu_target.title}}}, 1, 0)"
                ),
                "at max tasks and above CPU target",
            ),
        ],
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Threshold=1,
        EvaluationPeriods=SUSTAINED_MINUTES,
        DatapointsToAlarm=SUSTAINED_MINUTES,
        TreatMissingData="notBreaching",
    )


# Your own tables' alarm: throttling of reads and writes (per table, every operation), and system
# errors of the operations the task role allows that DynamoDB reports per operation; 10 metrics,
# an alarm's limit (alarm_names.MAX_ALARM_METRICS).
OWN_TABLE_THROTTLE_METRICS = ("ReadThrottleEvents", "WriteThrottleEvents")
OWN_TABLE_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                        "BatchWriteItem")


def _table_errors(template: Template, topic: sns.Topic, service: Service, table: Table) -> cloudwatch.Alarm:
    name = service.spec.name
    resource = Ref(table.resource)
    if table.spec is None:
        queries = [
            _query(f"{kind}{operation.lower()}", DYNAMODB, metric, SUM, **{TABLE_NAME: resource, OPERATION: operation})
            for kind, metric in (("throttled", "ThrottledRequests"), ("errors", "SystemErrors"))
            for operation in TABLE_OPERATIONS
        ]
        alarm = alarm_names.table_errors(name)
        what = f"The {name} table"
    else:
        queries = [
            *[_query(metric.lower(), DYNAMODB, metric, SUM, **{TABLE_NAME: resource})
              for metric in OWN_TABLE_THROTTLE_METRICS],
            *[_query(f"errors{operation.lower()}", DYNAMODB, "SystemErrors", SUM,
                     **{TABLE_NAME: resource, OPERATION: operation}) for operation in OWN_TABLE_OPERATIONS],
        ]
        alarm = alarm_names.table_errors(name, table.spec)
        what = f"The {name} service's {table.spec.name} table"
    total = " + ".join(f"FILL({query.Id}, 0)" for query in queries)
    return _alarm(
        template, topic, alarm,
        f"{what} throttled requests or answered with DynamoDB system errors (500) in 2 of the "
        f"last {SUSTAINED_MINUTES} minutes; the service retries, then answers 503. Throttling on an "
        "on-demand table means a hot key or a sudden jump past twice the previous peak; system errors "
        "are DynamoDB's own: check the AWS Health Dashboard.",
        Metrics=[*queries, _expression(total, "throttled requests and system errors")],
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Threshold=1,
        EvaluationPeriods=SUSTAINED_MINUTES,
        DatapointsToAlarm=2,
        # DynamoDB publishes these only when they happen.
        TreatMissingData="notBreaching",
    )
