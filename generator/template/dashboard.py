"""The stack's CloudWatch dashboard: the body as data, rendered into ``Fn::Sub`` so that the API id,
cluster, service, table and function names resolve at deploy time.

The body follows "Dashboard Body Structure and Syntax" (Amazon CloudWatch API Reference): a
``widgets`` array of objects with ``type``, ``x``, ``y``, ``width`` (1-24), ``height`` and
``properties``; a metric widget's ``metrics`` is an array of
``[namespace, metric name, dimension name, value, ..., {rendering options}]`` arrays, with its
``region``, ``period`` and per-metric ``stat``; a log widget runs a Logs Insights ``query`` that
starts ``SOURCE '<log group>'``; an alarm widget lists alarm ARNs.

HTTP APIs publish no throttling metric ("Working with metrics for HTTP APIs", API Gateway
Developer Guide: 4xx, 5xx, Count, Latency, IntegrationLatency, DataProcessed): a request the stage
or route throttle refuses is answered 429 and counted in ``4xx``. The dashboard therefore counts
429s by route from the stage's access log, whose ``status`` field every request has.
"""

from __future__ import annotations

import json

from troposphere import If, Ref, Sub, Template, awslambda, cloudwatch

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
    FUNCTION_NAME,
    LAMBDA,
    MAXIMUM,
    OPERATION,
    ROUTE,
    SERVICE_NAME,
    STAGE,
    SUM,
    TABLE_NAME,
)
from generator.model.patterns import lazy
from generator.model.records import dataclass
from generator.template.api import Api
from generator.template.cluster import Cluster
from generator.template.services import Service
from generator.template.storage import Table

# "PutDashboard", Amazon CloudWatch API Reference: a dashboard name is at most 255 characters, and
# only A-Z, a-z, 0-9, "-" and "_". Dashboards are global, not regional, so the name carries the
# Region as well as the stack name (a stack name is letters, digits and hyphens, at most 128).
DASHBOARD_NAME = "${AWS::StackName}-${AWS::Region}"
MAX_DASHBOARD_NAME = 255
DASHBOARD_NAME_CHARACTERS = lazy(r"^[A-Za-z0-9_-]+$")
GRID_COLUMNS = 24
MAX_ALARMS_PER_WIDGET = 100
PERIOD_SECONDS = 60
STAGE_NAME = "$default"
# A number in the body that comes from a parameter: rendered bare (not as a JSON string) into Fn::Sub.
_NUMBER = lazy(r'"@@([A-Za-z0-9]+)@@"')


@dataclass(frozen=True)
class WatchedFunction:
    """A Lambda function whose errors the dashboard shows."""

    label: str
    function: awslambda.Function
    condition: str | None = None
    """The condition the function exists under, if any: the widget then shows "none" when it does not."""


def _number(parameter_title: str) -> str:
    return f"@@{parameter_title}@@"


def _metric(namespace: str, name: str, stat: str, label: str, dimensions: dict[str, str], **options) -> list:
    line: list = [namespace, name]
    for dimension, value in dimensions.items():
        line += [dimension, value]
    return [*line, {"stat": stat, "label": label, **options}]


def _graph(title: str, metrics: list[list], width: int = 8, height: int = 6, **properties) -> dict:
    return {
        "type": "metric",
        "width": width,
        "height": height,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "region": "${AWS::Region}",
            "period": PERIOD_SECONDS,
            "stat": SUM,
            "metrics": metrics,
            **properties,
        },
    }


def _line(value, label: str) -> dict:
    return {"value": value, "label": label}


def _layout(widgets: list[dict]) -> list[dict]:
    """Place widgets left to right in rows of 24 columns, in order."""
    x = y = row_height = 0
    placed = []
    for widget in widgets:
        if x + widget["width"] > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        placed.append({**widget, "x": x, "y": y})
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return placed


def dashboard_widgets(
    config: StackConfig,
    api: Api,
    cluster: Cluster,
    services: list[Service],
    functions: list[WatchedFunction],
    alarms: list[cloudwatch.Alarm],
) -> list[dict]:
    """The widgets, placed; names are ``${...}`` references for Fn::Sub."""
    stage = {API_ID: f"${{{api.api.title}}}", STAGE: STAGE_NAME}
    widgets: list[dict] = [
        {
            "type": "text", "width": GRID_COLUMNS, "height": 2,
            "properties": {
                "markdown": (
                    "## ${AWS::StackName}\n"
                    "The API, then each service: requests, errors and latency, tasks against the scaling "
                    "floor and ceiling, CPU and memory against the scaling target, the table. HTTP APIs "
                    "count throttled requests (429) in 4xx; the log widget counts them by route from the "
                    "access log."
                    + ("" if config.detailed_metrics else " Per-route figures need detailed_metrics = true.")
                ),
            },
        },
        _graph("API requests and errors", [
            _metric(API_GATEWAY, "Count", SUM, "requests", stage),
            _metric(API_GATEWAY, "4xx", SUM, "4xx (incl. 429)", stage),
            _metric(API_GATEWAY, "5xx", SUM, "5xx", stage),
        ]),
        _graph("API latency (ms)", [
            _metric(API_GATEWAY, "Latency", "p50", "latency p50", stage),
            _metric(API_GATEWAY, "Latency", "p99", "latency p99", stage),
            _metric(API_GATEWAY, "IntegrationLatency", "p50", "integration p50", stage),
            _metric(API_GATEWAY, "IntegrationLatency", "p99", "integration p99", stage),
        ], annotations={"horizontal": [
            _line(INTEGRATION_TIMEOUT_MS, "integration timeout"),
            *([_line(INTEGRATION_TIMEOUT_MS * config.alarm_latency_percent // 100, "p99 alarm")]
              if config.alarms else []),
        ]}),
        {
            "type": "log", "width": 8, "height": 6,
            "properties": {
                "title": "Throttled requests (429) by route",
                "region": "${AWS::Region}",
                "view": "table",
                "query": (
                    f"SOURCE '${{{api.access_logs.title}}}' | filter status = 429 "
                    "| stats count(*) as throttled by routeKey, bin(1m)"
                ),
            },
        },
    ]
    for service in services:
        widgets += _service_widgets(config, stage, cluster, service)
    widgets.append(_graph("Function errors (image build, page publisher)", [
        _metric(LAMBDA, "Errors", SUM, watched.label, {FUNCTION_NAME: f"${{{_function_variable(watched)}}}"})
        for watched in functions
    ], width=GRID_COLUMNS if not alarms else 12) if functions else None)
    # An alarm status widget lists 1-100 alarm ARNs ("Properties of an Alarm Status Widget Object"):
    # a stack of many services gets one widget per hundred.
    for start in range(0, len(alarms), MAX_ALARMS_PER_WIDGET):
        widgets.append({
            "type": "alarm", "width": 12 if functions and start == 0 else GRID_COLUMNS, "height": 6,
            "properties": {
                "title": "Alarms",
                "alarms": [f"${{{alarm.title}.Arn}}" for alarm in alarms[start:start + MAX_ALARMS_PER_WIDGET]],
            },
        })
    return _layout([widget for widget in widgets if widget is not None])


def _service_widgets(config: StackConfig, stage: dict, cluster: Cluster, service: Service) -> list[dict]:
    spec = service.spec
    ecs_service = {CLUSTER_NAME: f"${{{cluster.cluster.title}}}", SERVICE_NAME: f"${{{service.service.title}.Name}}"}
    widgets = []
    if config.detailed_metrics:
        # The item store's routes are labelled by method (3.0.0's labels), your own by route key.
        routes = [
            (route.method if spec.is_item_store else route.route, {**stage, ROUTE: route.route})
            for route in spec.api_routes
        ]
        widgets += [
            _graph(f"{spec.name}: requests and errors by route", [
                _metric(API_GATEWAY, name, SUM, f"{method} {label}", route)
                for method, route in routes
                for name, label in (("Count", "requests"), ("4xx", "4xx"), ("5xx", "5xx"))
            ], width=12),
            _graph(f"{spec.name}: latency by route (ms)", [
                _metric(API_GATEWAY, name, stat, f"{method} {label} {stat}", route)
                for method, route in routes
                for name, label in (("Latency", "latency"), ("IntegrationLatency", "integration"))
                for stat in ("p50", "p99")
            ], width=12, annotations={"horizontal": [_line(INTEGRATION_TIMEOUT_MS, "integration timeout")]}),
        ]
    parameters = service.parameters
    # Task counts come from Container Insights (ECS/ContainerInsights); without it the widget is left out.
    if config.container_insights:
        widgets.append(_graph(f"{spec.name}: tasks", [
            _metric(CONTAINER_INSIGHTS, name, MAXIMUM, label, ecs_service)
            for name, label in (("RunningTaskCount", "running"), ("DesiredTaskCount", "desired"),
                                ("PendingTaskCount", "pending"))
        ], annotations={"horizontal": [
            _line(_number(parameters.min_tasks.title), "MinTasks"),
            _line(_number(parameters.max_tasks.title), "MaxTasks"),
        ]}, yAxis={"left": {"min": 0}}))
    widgets += [
        _graph(f"{spec.name}: CPU and memory (%)", [
            _metric(ECS, "CPUUtilization", AVERAGE, "CPU", ecs_service),
            _metric(ECS, "MemoryUtilization", AVERAGE, "memory", ecs_service),
        ], annotations={"horizontal": [_line(_number(parameters.cpu_target.title), "CpuTarget")]},
            yAxis={"left": {"min": 0, "max": 100}}),
    ]
    for table in service.tables:
        widgets.append(_table_widget(spec.name, table))
    return widgets


def _table_widget(service_name: str, table: Table) -> dict:
    """Read and write units, then throttling and system errors: by operation for the item store's
    table (its two), by reads and writes for your own."""
    name = f"${{{table.resource.title}}}"
    if table.spec is None:
        title = f"{service_name}: table"
        errors = [
            _metric(DYNAMODB, metric, SUM, f"{operation} {label}", {TABLE_NAME: name, OPERATION: operation},
                    yAxis="right")
            for metric, label in (("ThrottledRequests", "throttled"), ("SystemErrors", "system errors"))
            for operation in TABLE_OPERATIONS
        ]
    else:
        title = f"{service_name}: {table.spec.name} table"
        errors = [
            _metric(DYNAMODB, metric, SUM, label, {TABLE_NAME: name}, yAxis="right")
            for metric, label in (("ReadThrottleEvents", "read throttled"), ("WriteThrottleEvents", "write throttled"))
        ]
    return _graph(title, [
        _metric(DYNAMODB, "ConsumedReadCapacityUnits", SUM, "read units", {TABLE_NAME: name}),
        _metric(DYNAMODB, "ConsumedWriteCapacityUnits", SUM, "write units", {TABLE_NAME: name}),
        *errors,
    ])


def _function_variable(watched: WatchedFunction) -> str:
    return f"{watched.function.title}Name"


def dashboard_body(widgets: list[dict]) -> str:
    """The body as the ``Fn::Sub`` string: deterministic JSON, parameter numbers bare."""
    text = json.dumps({"widgets": widgets}, sort_keys=True, separators=(",", ":"))
    return _NUMBER.sub(r"${\1}", text)


def add_dashboard(
    template: Template,
    config: StackConfig,
    api: Api,
    cluster: Cluster,
    services: list[Service],
    functions: list[WatchedFunction],
    alarms: list[cloudwatch.Alarm],
) -> cloudwatch.Dashboard:
    """``Dashboard``, named ``<stack>-<region>``."""
    widgets = dashboard_widgets(config, api, cluster, services, functions, alarms)
    # A function that exists only under a condition is named through Fn::If, "none" otherwise.
    variables = {
        _function_variable(watched): (
            If(watched.condition, Ref(watched.function), "none") if watched.condition else Ref(watched.function)
        )
        for watched in functions
    }
    return template.add_resource(
        cloudwatch.Dashboard(
            "Dashboard",
            DashboardName=Sub(DASHBOARD_NAME),
            DashboardBody=Sub(dashboard_body(widgets), **variables),
        )
    )
