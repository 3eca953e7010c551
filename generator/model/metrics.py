"""CloudWatch metric facts the alarms and the dashboard rely on, each with the page it comes from.

A metric exists only in its namespace and only with the dimension sets its service publishes: an
alarm on ``5xx`` with ``ApiName`` (a REST API dimension) or on ``ThrottledRequests`` without
``Operation`` is valid CloudFormation that never leaves INSUFFICIENT_DATA. Every metric the
template names is one of these facts (tests/template/test_monitoring.py checks each alarm and
each dashboard widget against :func:`check_metric`).
"""

from __future__ import annotations

from generator.model.patterns import lazy
from generator.model.records import dataclass

# "Working with metrics for HTTP APIs", Amazon API Gateway Developer Guide
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html): HTTP APIs
# publish 4xx, 5xx, Count, IntegrationLatency, Latency and DataProcessed, by ApiId, by ApiId and
# Stage, and (only with detailed metrics on the stage) by ApiId, Stage and Route. REST APIs use
# other names (4XXError, ApiName): not these. There is no throttling metric: a request refused by
# the stage's or a route's throttle is answered 429 and counted in 4xx.
# Open question: that page says the Route dimension filters by "route ID"; the template gives it the
# route key ("GET /foodstore/foods/{foodId}"), which is what route-level metrics are reported under
# as far as we know, but no stored AWS page states the value's form. If a deployed stack's per-route
# widgets stay empty, compare with `aws cloudwatch list-metrics --namespace AWS/ApiGateway
# --dimensions Name=ApiId,Value=<id>` and change Route in dashboard.py and monitoring.py.
API_GATEWAY_PAGE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html"
# "Amazon ECS CloudWatch metrics", Amazon ECS Developer Guide
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html): service
# CPUUtilization and MemoryUtilization by ClusterName and ServiceName.
ECS_PAGE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html"
# "Amazon ECS Container Insights metrics", Amazon CloudWatch User Guide
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html):
# RunningTaskCount, DesiredTaskCount, PendingTaskCount by ClusterName and ServiceName; published
# only when the cluster has Container Insights on (generator/template/cluster.py turns it on).
CONTAINER_INSIGHTS_PAGE = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html"
# "DynamoDB Metrics and dimensions", Amazon DynamoDB Developer Guide
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html):
# ThrottledRequests and SystemErrors by TableName and Operation (never by TableName alone);
# consumed capacity by TableName (or TableName and GlobalSecondaryIndexName); ReadThrottleEvents and
# WriteThrottleEvents by TableName (the table's own, not its indexes'), Sum and SampleCount.
DYNAMODB_PAGE = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html"
# "Types of metrics for Lambda functions", AWS Lambda Developer Guide
# (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html): Errors by FunctionName.
LAMBDA_PAGE = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"

API_GATEWAY = "AWS/ApiGateway"
ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
DYNAMODB = "AWS/DynamoDB"
LAMBDA = "AWS/Lambda"

# Dimension names.
API_ID, STAGE, ROUTE = "ApiId", "Stage", "Route"
CLUSTER_NAME, SERVICE_NAME = "ClusterName", "ServiceName"
TABLE_NAME, OPERATION = "TableName", "Operation"
FUNCTION_NAME = "FunctionName"

# "Statistics", Amazon CloudWatch User Guide: the five basic statistics; percentiles (p50, p99.9)
# are extended statistics, meaningful only for metrics whose values are a distribution (latencies).
SUM, AVERAGE, MINIMUM, MAXIMUM, SAMPLE_COUNT = "Sum", "Average", "Minimum", "Maximum", "SampleCount"
COUNTS = frozenset({SUM, AVERAGE, MINIMUM, MAXIMUM, SAMPLE_COUNT})
GAUGES = frozenset({AVERAGE, MINIMUM, MAXIMUM})
PERCENTILE = lazy(r"^p(100|[1-9]?[0-9])(\.[0-9]+)?$")


@dataclass(frozen=True)
class MetricFact:
    """One CloudWatch metric an AWS service publishes: where, with which dimensions and statistics."""

    namespace: str
    name: str
    dimension_sets: frozenset[frozenset[str]]
    """Each set of dimension names the service publishes the metric with."""
    statistics: frozenset[str]
    percentiles: bool
    """Whether percentile statistics (p50, p99) are meaningful: latencies, not counts."""
    source: str


def _facts(namespace: str, names: tuple[str, ...], dimension_sets: tuple[tuple[str, ...], ...],
           statistics: frozenset[str], percentiles: bool, source: str) -> dict[tuple[str, str], MetricFact]:
    sets = frozenset(frozenset(names_) for names_ in dimension_sets)
    return {(namespace, name): MetricFact(namespace, name, sets, statistics, percentiles, source) for name in names}


# The route-level set exists only with detailed metrics on; the stage-level set always.
API_DIMENSIONS = ((API_ID,), (API_ID, STAGE), (API_ID, STAGE, ROUTE))
API_COUNTS = ("4xx", "5xx", "Count", "DataProcessed")
API_LATENCIES = ("Latency", "IntegrationLatency")

FACTS: dict[tuple[str, str], MetricFact] = {
    **_facts(API_GATEWAY, API_COUNTS, API_DIMENSIONS, COUNTS, False, API_GATEWAY_PAGE),
    **_facts(API_GATEWAY, API_LATENCIES, API_DIMENSIONS, COUNTS, True, API_GATEWAY_PAGE),
    **_facts(ECS, ("CPUUtilization", "MemoryUtilization"), ((CLUSTER_NAME,), (CLUSTER_NAME, SERVICE_NAME)),
             COUNTS, False, ECS_PAGE),
    **_facts(CONTAINER_INSIGHTS, ("RunningTaskCount", "DesiredTaskCount", "PendingTaskCount"),
             ((CLUSTER_NAME, SERVICE_NAME),), GAUGES | {SUM, SAMPLE_COUNT}, False, CONTAINER_INSIGHTS_PAGE),
    **_facts(DYNAMODB, ("ThrottledRequests", "SystemErrors"), ((TABLE_NAME, OPERATION),),
             frozenset({SUM, SAMPLE_COUNT}), False, DYNAMODB_PAGE),
    **_facts(DYNAMODB, ("ReadThrottleEvents", "WriteThrottleEvents"), ((TABLE_NAME,),),
             frozenset({SUM, SAMPLE_COUNT}), False, DYNAMODB_PAGE),
    **_facts(DYNAMODB, ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"), ((TABLE_NAME,),),
             COUNTS, False, DYNAMODB_PAGE),
    **_facts(LAMBDA, ("Errors",), ((FUNCTION_NAME,),), frozenset({SUM}), False, LAMBDA_PAGE),
}

# Detailed metrics write every HTTP API metric once more per route: the custom metrics they bill.
DETAILED_METRICS_PER_ROUTE = len(API_COUNTS) + len(API_LATENCIES)


class UnknownMetric(ValueError):
    """A metric, dimension set or statistic that the documented facts do not contain."""


def check_metric(namespace: str, name: str, dimensions: set[str] | frozenset[str], statistic: str) -> MetricFact:
    """The fact for ``namespace``/``name``, after checking its dimensions and statistic; raises
    :class:`UnknownMetric` naming what is wrong."""
    fact = FACTS.get((namespace, name))
    if fact is None:
        raise UnknownMetric(f"{namespace} has no documented metric {name!r}")
    if frozenset(dimensions) not in fact.dimension_sets:
        allowed = " or ".join("+".join(sorted(s)) for s in sorted(fact.dimension_sets, key=sorted))
        raise UnknownMetric(f"{namespace}/{name} is published by {allowed}, not {'+'.join(sorted(dimensions))}")
    if PERCENTILE.match(statistic):
        if not fact.percentiles:
            raise UnknownMetric(f"{namespace}/{name} is a count: a percentile ({statistic}) of it means nothing")
    elif statistic not in fact.statistics:
        raise UnknownMetric(f"{namespace}/{name} supports {', '.join(sorted(fact.statistics))}, not {statistic}")
    return fact
