"""``ecsapi describe``'s monitoring section: the alarms, the dashboard and the route metrics a
configuration creates, with their monthly list price (generator/model/prices.py).

Counted from the rendered template, so the figures follow what the stack really creates.
"""

from __future__ import annotations

import json
import re

from generator.model.config import StackConfig
from generator.model.metrics import DETAILED_METRICS_PER_ROUTE
from generator.model.prices import (
    CLOUDWATCH_ALARM_METRIC_MONTH,
    CLOUDWATCH_DASHBOARD_MONTH,
    CLOUDWATCH_FREE_DASHBOARD_METRICS,
    CLOUDWATCH_FREE_DASHBOARDS,
    CLOUDWATCH_METRIC_MONTH,
)

ALARM = "AWS::CloudWatch::Alarm"
DASHBOARD = "AWS::CloudWatch::Dashboard"


def alarm_metric_count(alarm: dict) -> int:
    """How many metrics an alarm reads: one, or each MetricStat of a metric-math alarm."""
    metrics = alarm["Properties"].get("Metrics")
    return 1 if metrics is None else sum("MetricStat" in query for query in metrics)


def dashboard_metric_count(dashboard: dict) -> int:
    """Metric lines in the dashboard's widgets (the free tier counts dashboards of up to 50)."""
    sub = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    body = sub if isinstance(sub, str) else sub[0]  # a body without variables is a plain string
    return sum(len(w["properties"].get("metrics", [])) for w in json.loads(_unsubstituted(body))["widgets"])


def _unsubstituted(body: str) -> str:
    # Parameter numbers are bare ${Name} in the body: make them JSON numbers to count lines.
    return re.sub(r":\$\{[A-Za-z0-9]+\}", ":0", body)


def monitoring_items(config: StackConfig, template: dict) -> list[tuple[str, str, float]]:
    """(item, how it is computed, USD per month) for the alarms, dashboard and route metrics."""
    resources = template["Resources"]
    alarms = {name: r for name, r in resources.items() if r["Type"] == ALARM}
    dashboards = [r for r in resources.values() if r["Type"] == DASHBOARD]
    items = []
    if alarms:
        metrics = sum(map(alarm_metric_count, alarms.values()))
        items.append((
            "CloudWatch alarms", f"{len(alarms)} alarms reading {metrics} metrics x ${CLOUDWATCH_ALARM_METRIC_MONTH:.2f}",
            metrics * CLOUDWATCH_ALARM_METRIC_MONTH,
        ))
    for dashboard in dashboards:
        lines = dashboard_metric_count(dashboard)
        free = (
            f"free among the account's first {CLOUDWATCH_FREE_DASHBOARDS}"
            if lines <= CLOUDWATCH_FREE_DASHBOARD_METRICS
            else f"over the free tier's {CLOUDWATCH_FREE_DASHBOARD_METRICS}"
        )
        items.append((
            "CloudWatch dashboard", f"1 x ${CLOUDWATCH_DASHBOARD_MONTH:.2f}, {lines} metrics ({free})",
            CLOUDWATCH_DASHBOARD_MONTH,
        ))
    if config.detailed_metrics:
        routes = sum(len(spec.api_routes) for spec in config.services)
        metrics = routes * DETAILED_METRICS_PER_ROUTE
        items.append((
            "Detailed route metrics",
            f"{routes} routes x {DETAILED_METRICS_PER_ROUTE} metrics x ${CLOUDWATCH_METRIC_MONTH:.2f} (hours with calls)",
            metrics * CLOUDWATCH_METRIC_MONTH,
        ))
    return items


BILLED_BY_USE = ("Detailed route metrics",)


def idle_monitoring_items(config: StackConfig, template: dict) -> list[tuple[str, str, float]]:
    """The monitoring items billed every month (alarms, the dashboard), for the idle cost."""
    return [item for item in monitoring_items(config, template) if item[0] not in BILLED_BY_USE]


def monitoring_lines(config: StackConfig, template: dict, table) -> list[str]:
    """The section's lines: each alarm by name, then the costs (``table`` lays out columns)."""
    alarms = sorted((name, r) for name, r in template["Resources"].items() if r["Type"] == ALARM)
    items = monitoring_items(config, template)
    if not items:
        return ["", "Monitoring: none (dashboard, alarms and detailed_metrics are off)"]
    lines = ["", "Monitoring"]
    if alarms:
        lines += table(
            [(r["Properties"]["AlarmName"]["Fn::Sub"].replace("${AWS::StackName}", "<stack>"), alarm_metric_count(r))
             for _, r in alarms],
            ("alarm", "metrics"),
        )
        rollback = "each service's own 5xx alarm" if config.detailed_metrics else "the API's 5xx alarm"
        lines.append(f"  deployments roll back on {rollback}; e-mail: the AlarmEmail parameter")
    by_use = [item for item in items if item[0] in BILLED_BY_USE]
    lines.append("  the alarms and the dashboard are in the idle cost above (the dashboard is free among an "
                 "account's first 3 of up to 50 metrics)")
    if by_use:
        lines += ["", "Detailed route metrics, on top of the idle cost (billed only in hours a route is called)"]
        lines += table([(item, how, f"${usd:,.2f}") for item, how, usd in by_use], ("item", "inputs", "USD/month"))
    return lines
