"""Monitoring: every alarm and dashboard metric is a documented fact, the dashboard body is valid
dashboard JSON, names fit CloudWatch's limits, alarms publish only to the topic, deployments roll
back on the right alarm."""

from __future__ import annotations

import dataclasses
import json
import re

import jsonschema
import pytest

from generator import ServiceSpec, StackConfig
from generator.model.config import ConfigError
from generator.model.constants import INTEGRATION_TIMEOUT_MS
from generator.model.metrics import DETAILED_METRICS_PER_ROUTE, FACTS, UnknownMetric, check_metric
from generator.template.alarm_names import MAX_ALARM_NAME, MAX_STACK_NAME
from generator.template.dashboard import DASHBOARD_NAME_CHARACTERS, MAX_DASHBOARD_NAME
from generator.template.names import logical_id
from tests.support.templates import VARIANTS, resources

EVERYTHING = StackConfig(detailed_metrics=True, customer_managed_key=True)
# A stack name at CloudFormation's limit, and a value for each parameter a body refers to.
LONGEST_STACK_NAME = "s" * MAX_STACK_NAME


@pytest.fixture(scope="module")
def everything(render):
    return render(EVERYTHING)


def alarms(template: dict) -> dict[str, dict]:
    return {name: r["Properties"] for name, r in resources(template, "AWS::CloudWatch::Alarm").items()}


def _resolve(value, stack_name: str = "stack") -> str:
    """An alarm-name or dashboard-name Fn::Sub with the pseudo parameters filled in."""
    text = value["Fn::Sub"]
    return text.replace("${AWS::StackName}", stack_name).replace("${AWS::Region}", "ap-southeast-2")


def alarm_metrics(alarm: dict):
    """(namespace, name, dimension names, statistic) of every metric the alarm reads."""
    if "Metrics" in alarm:
        for query in alarm["Metrics"]:
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                yield (metric["Namespace"], metric["MetricName"], {d["Name"] for d in metric["Dimensions"]},
                       query["MetricStat"]["Stat"])
    else:
        yield (alarm["Namespace"], alarm["MetricName"], {d["Name"] for d in alarm["Dimensions"]},
               alarm.get("Statistic") or alarm["ExtendedStatistic"])


# ---- the metric facts -------------------------------------------------------------------------

def test_every_fact_names_the_documentation_page_it_comes_from():
    for fact in FACTS.values():
        assert fact.source.startswith("https://docs.aws.amazon.com/"), fact


def test_the_facts_refuse_rest_api_names_and_missing_dimensions():
    with pytest.raises(UnknownMetric, match="no documented metric"):
        check_metric("AWS/ApiGateway", "5XXError", {"ApiId", "Stage"}, "Sum")
    with pytest.raises(UnknownMetric, match="Operation\\+TableName"):
        check_metric("AWS/DynamoDB", "ThrottledRequests", {"TableName"}, "Sum")
    with pytest.raises(UnknownMetric, match="count"):
        check_metric("AWS/ApiGateway", "5xx", {"ApiId", "Stage"}, "p99")
    with pytest.raises(UnknownMetric, match="supports"):
        check_metric("AWS/Lambda", "Errors", {"FunctionName"}, "Average")
    assert check_metric("AWS/ApiGateway", "Latency", {"ApiId", "Stage", "Route"}, "p99").percentiles


@pytest.mark.parametrize("variant", sorted(VARIANTS) + ["everything"])
def test_every_alarm_reads_only_documented_metrics(variant, render):
    template = render(EVERYTHING if variant == "everything" else VARIANTS[variant])
    for name, alarm in alarms(template).items():
        for namespace, metric, dimensions, statistic in alarm_metrics(alarm):
            check_metric(namespace, metric, dimensions, statistic)
        assert alarm["Period"] if "Period" in alarm else all(
            q["MetricStat"]["Period"] == 60 for q in alarm["Metrics"] if "MetricStat" in q
        ), name


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_alarm_reads_a_container_insights_metric_without_container_insights(variant, render):
    """Without Container Insights its metrics never exist: an alarm on them never fires (or always
    does) and is billed all the same ("Amazon ECS Container Insights metrics", CloudWatch User Guide)."""
    config = dataclasses.replace(VARIANTS[variant], container_insights=False, alarms=True)
    read = {(name, m[0]) for name, a in alarms(render(config)).items() for m in alarm_metrics(a)}
    assert not {name for name, namespace in read if namespace == "ECS/ContainerInsights"}
    # With it, both task alarms are there for every service.
    with_insights = alarms(render(dataclasses.replace(config, container_insights=True)))
    for spec in config.services:
        assert {logical_id(spec.name, "TasksAlarm"), logical_id(spec.name, "ScalingCeilingAlarm")} <= set(with_insights)


def test_route_metrics_are_read_only_with_detailed_metrics_on(default_template, everything):
    def routed(template):
        return [m for a in alarms(template).values() for m in alarm_metrics(a) if "Route" in m[2]]

    assert routed(default_template) == []
    assert routed(everything)
    body = json.dumps(dashboard(default_template))
    assert '"Route"' not in body
    stage = everything["Resources"]["ApiStage"]["Properties"]
    assert stage["DefaultRouteSettings"]["DetailedMetricsEnabled"] is True
    assert "DetailedMetricsEnabled" not in default_template["Resources"]["ApiStage"]["Properties"]["DefaultRouteSettings"]


def test_route_dimension_values_are_the_stacks_route_keys(everything):
    route_keys = {r["Properties"]["RouteKey"] for r in resources(everything, "AWS::ApiGatewayV2::Route").values()}
    used = {
        d["Value"] for a in alarms(everything).values() for q in a.get("Metrics", []) if "MetricStat" in q
        for d in q["MetricStat"]["Metric"]["Dimensions"] if d["Name"] == "Route"
    }
    assert used == route_keys


# ---- the dashboard body -----------------------------------------------------------------------

# Written from "Dashboard Body Structure and Syntax" (Amazon CloudWatch API Reference): the body
# must hold a widgets array; each widget has type, a position (x, y), width 1-24, height 1-1000
# and properties; a metric widget's metrics are arrays that start with a namespace and a metric
# name, then dimension name/value pairs, then an optional rendering-options object; its region is
# required; a log widget has a query and a region; an alarm widget lists alarm ARNs.
METRIC_LINE = {
    "type": "array",
    "minItems": 2,
    "prefixItems": [{"type": "string"}, {"type": "string"}],
    "items": {"anyOf": [
        {"type": "string"},
        {"type": "object", "properties": {
            "stat": {"type": "string"}, "label": {"type": "string"}, "yAxis": {"enum": ["left", "right"]},
            "period": {"type": "integer"}, "color": {"type": "string"}, "visible": {"type": "boolean"},
        }, "additionalProperties": False},
    ]},
}
ANNOTATION = {"type": "object", "required": ["value"], "properties": {
    "value": {"type": "number"}, "label": {"type": "string"},
}, "additionalProperties": False}
DASHBOARD_SCHEMA = {
    "type": "object",
    "required": ["widgets"],
    "properties": {"widgets": {"type": "array", "maxItems": 500, "items": {
        "type": "object",
        "required": ["type", "x", "y", "width", "height", "properties"],
        "properties": {
            "type": {"enum": ["metric", "text", "log", "alarm", "explorer"]},
            "x": {"type": "integer", "minimum": 0, "maximum": 23},
            "y": {"type": "integer", "minimum": 0},
            "width": {"type": "integer", "minimum": 1, "maximum": 24},
            "height": {"type": "integer", "minimum": 1, "maximum": 1000},
            "properties": {"type": "object"},
        },
        "additionalProperties": False,
        "allOf": [
            {"if": {"properties": {"type": {"const": "metric"}}}, "then": {"properties": {"properties": {
                "type": "object",
                "required": ["metrics", "region"],
                "properties": {
                    "metrics": {"type": "array", "minItems": 1, "items": METRIC_LINE},
                    "region": {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$"},
                    "period": {"type": "integer", "multipleOf": 60},
                    "stat": {"type": "string"},
                    "title": {"type": "string"},
                    "view": {"enum": ["timeSeries", "singleValue", "bar", "pie", "gauge", "table"]},
                    "stacked": {"type": "boolean"},
                    "annotations": {"type": "object", "properties": {
                        "horizontal": {"type": "array", "items": ANNOTATION},
                    }, "additionalProperties": False},
                    "yAxis": {"type": "object"},
                },
                "additionalProperties": False,
            }}}},
            {"if": {"properties": {"type": {"const": "text"}}}, "then": {"properties": {"properties": {
                "type": "object", "required": ["markdown"],
                "properties": {"markdown": {"type": "string"}}, "additionalProperties": False,
            }}}},
            {"if": {"properties": {"type": {"const": "log"}}}, "then": {"properties": {"properties": {
                "type": "object", "required": ["query", "region"],
                "properties": {
                    "query": {"type": "string", "pattern": "^SOURCE '[^']+' \\|"},
                    "region": {"type": "string"}, "title": {"type": "string"},
                    "view": {"enum": ["table", "timeSeries", "bar", "pie"]},
                },
                "additionalProperties": False,
            }}}},
            {"if": {"properties": {"type": {"const": "alarm"}}}, "then": {"properties": {"properties": {
                "type": "object", "required": ["alarms"],
                "properties": {
                    "alarms": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                        "type": "string", "pattern": "^arn:aws:cloudwatch:[a-z0-9-]+:[0-9]{12}:alarm:.+"}},
                    "title": {"type": "string"},
                },
                "additionalProperties": False,
            }}}},
        ],
    }}},
    "additionalProperties": False,
}
VARIABLE = re.compile(r"\$\{([A-Za-z0-9:]+)(\.[A-Za-z]+)?\}")


def dashboard(template: dict, stack_name: str = "stack") -> dict:
    """The rendered body, as CloudFormation would resolve it: references become sample values,
    parameters their defaults (numbers stay numbers)."""
    sub = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    body, variables = (sub, {}) if isinstance(sub, str) else sub  # no variables: a plain string
    parameters = template["Parameters"]

    def value(match: re.Match) -> str:
        name, attribute = match.group(1), match.group(2)
        if name == "AWS::Region":
            return "ap-southeast-2"
        if name == "AWS::StackName":
            return stack_name
        if name in parameters:
            return str(parameters[name]["Default"])
        if attribute == ".Arn":
            return f"arn:aws:cloudwatch:ap-southeast-2:123456789012:alarm:{stack_name}-{name}"
        assert name in template["Resources"] or name in variables, f"${{{name}}} refers to nothing"
        return f"{name}-value"

    return json.loads(VARIABLE.sub(value, body))


def widget_metrics(body: dict):
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        for line in widget["properties"]["metrics"]:
            options = line[-1] if isinstance(line[-1], dict) else {}
            names = [part for part in line if isinstance(part, str)]
            namespace, metric, pairs = names[0], names[1], names[2:]
            assert len(pairs) % 2 == 0, line
            yield namespace, metric, set(pairs[0::2]), options.get("stat", widget["properties"].get("stat"))


@pytest.mark.parametrize("variant", sorted(name for name, c in VARIANTS.items() if c.dashboard) + ["everything"])
def test_dashboard_body_is_valid_dashboard_json_of_documented_metrics(variant, render):
    template = render(EVERYTHING if variant == "everything" else VARIANTS[variant])
    body = dashboard(template)
    jsonschema.validate(body, DASHBOARD_SCHEMA)
    metrics = list(widget_metrics(body))
    assert metrics
    for namespace, metric, dimensions, statistic in metrics:
        check_metric(namespace, metric, dimensions, statistic)
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24


def test_dashboard_shows_each_service_its_table_and_the_functions(everything, render):
    body = dashboard(everything)
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    for service in ("foodstore", "petstore"):
        for part in ("requests and errors by route", "latency by route", "tasks", "CPU and memory", "table"):
            assert f"{service}: {part}" in " ".join(titles) or f"{service}: {part} (ms)" in titles
    functions = next(w for w in body["widgets"] if w["properties"].get("title", "").startswith("Function errors"))
    assert [line[-1]["label"] for line in functions["properties"]["metrics"]] == ["image build", "page publisher"]
    # The image build exists only when a service has no image: the widget names it through Fn::If.
    variables = everything["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][1]
    assert variables["ImageBuildFunctionName"]["Fn::If"][0] == everything["Resources"]["ImageBuildFunction"]["Condition"]
    # The hardened variant has no test page: no publisher line.
    hardened = dashboard(render(VARIANTS["hardened"]))
    labels = [line[-1]["label"] for w in hardened["widgets"] if w["properties"].get("title", "").startswith("Function")
              for line in w["properties"]["metrics"]]
    assert labels == ["image build"]


def test_task_and_cpu_widgets_draw_the_scaling_parameters(default_template):
    body = dashboard(default_template)
    tasks = next(w for w in body["widgets"] if w["properties"].get("title") == "foodstore: tasks")
    assert tasks["properties"]["annotations"]["horizontal"] == [
        {"label": "MinTasks", "value": 1}, {"label": "MaxTasks", "value": 4},
    ]
    cpu = next(w for w in body["widgets"] if w["properties"].get("title") == "foodstore: CPU and memory (%)")
    assert cpu["properties"]["annotations"]["horizontal"] == [{"label": "CpuTarget", "value": 50}]


def test_throttled_requests_are_counted_from_the_access_log(default_template):
    body = dashboard(default_template)
    log = next(w for w in body["widgets"] if w["type"] == "log")
    assert log["properties"]["query"].startswith("SOURCE 'ApiAccessLogGroup-value' | filter status = 429")
    # The field the query reads is one the access log writes.
    access_format = json.loads(default_template["Resources"]["ApiStage"]["Properties"]["AccessLogSettings"]["Format"])
    assert access_format["status"] == "$context.status" and access_format["routeKey"] == "$context.routeKey"


def test_the_small_variant_has_no_dashboard_alarms_or_topic(render):
    template = render(VARIANTS["small"])
    assert not resources(template, "AWS::CloudWatch::Dashboard")
    assert not resources(template, "AWS::CloudWatch::Alarm")
    assert not resources(template, "AWS::SNS::Topic")
    assert "AlarmEmail" not in template["Parameters"]


# ---- names ------------------------------------------------------------------------------------

def test_alarm_and_dashboard_names_are_unique_and_fit_at_the_longest_stack_name(everything):
    names = [_resolve(a["AlarmName"], LONGEST_STACK_NAME) for a in alarms(everything).values()]
    assert len(set(names)) == len(names)
    for name in names:
        assert 1 <= len(name) <= MAX_ALARM_NAME and name.startswith(LONGEST_STACK_NAME + "-")
        assert not any(ord(c) < 32 for c in name)
    dashboard_name = _resolve(everything["Resources"]["Dashboard"]["Properties"]["DashboardName"], LONGEST_STACK_NAME)
    assert len(dashboard_name) <= MAX_DASHBOARD_NAME and DASHBOARD_NAME_CHARACTERS.match(dashboard_name)


def test_longest_service_names_keep_alarm_names_within_the_limit(render):
    config = StackConfig(services=(ServiceSpec(name="a" * 20, path="/a/{id}"),), detailed_metrics=True)
    for alarm in alarms(render(config)).values():
        assert len(_resolve(alarm["AlarmName"], LONGEST_STACK_NAME)) <= MAX_ALARM_NAME


# ---- alarms -----------------------------------------------------------------------------------

def test_alarm_actions_are_the_topic_only(everything):
    for name, alarm in alarms(everything).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert "InsufficientDataActions" not in alarm
        assert 20 <= len(alarm["AlarmDescription"]) <= 1024, name


def test_an_idle_api_is_not_an_alarm_but_missing_tasks_are(everything):
    treat = {name: alarm["TreatMissingData"] for name, alarm in alarms(everything).items()}
    assert {treat[n] for n in treat if "Tasks" not in n} == {"notBreaching"}
    assert treat["FoodstoreTasksAlarm"] == "breaching"


def test_error_rate_alarm_uses_the_configured_percent_and_minutes(render):
    config = StackConfig(alarm_5xx_percent=2, alarm_5xx_minutes=7, alarm_latency_percent=80)
    found = alarms(render(config))
    rate = found["ApiErrorRateAlarm"]
    assert (rate["Threshold"], rate["EvaluationPeriods"], rate["DatapointsToAlarm"]) == (2, 7, 7)
    expressions = {q["Id"]: q["Expression"] for q in rate["Metrics"] if "Expression" in q}
    assert expressions == {
        "requests": "FILL(requests0, 0)", "errors": "FILL(errors0, 0)",
        "result": "IF(requests > 0, 100 * errors / requests, 0)",
    }
    assert [q["Id"] for q in rate["Metrics"] if q["ReturnData"]] == ["result"]
    assert found["ApiLatencyAlarm"]["Threshold"] == INTEGRATION_TIMEOUT_MS * 80 // 100
    assert found["ApiLatencyAlarm"]["EvaluateLowSampleCountPercentile"] == "ignore"


def test_per_service_error_rate_sums_the_services_own_routes(everything):
    rate = alarms(everything)["PetstoreErrorRateAlarm"]
    routes = {d["Value"] for q in rate["Metrics"] if "MetricStat" in q for d in q["MetricStat"]["Metric"]["Dimensions"]
              if d["Name"] == "Route"}
    assert routes == {"GET /petstore/pets/{petId}", "PUT /petstore/pets/{petId}"}
    totals = {q["Id"]: q["Expression"] for q in rate["Metrics"] if q["Id"] in ("requests", "errors")}
    assert totals == {"requests": "FILL(requests0, 0) + FILL(requests1, 0)", "errors": "FILL(errors0, 0) + FILL(errors1, 0)"}


def test_task_floor_and_scaling_ceiling_follow_the_parameters(default_template):
    found = alarms(default_template)
    assert found["FoodstoreTasksAlarm"]["Threshold"] == {"Ref": "FoodstoreMinTasks"}
    ceiling = next(q for q in found["PetstoreScalingCeilingAlarm"]["Metrics"] if q.get("ReturnData"))
    assert ceiling["Expression"] == {"Fn::Sub": "IF(desired >= ${PetstoreMaxTasks} AND cpu > ${PetstoreCpuTarget}, 1, 0)"}


def test_alarm_settings_are_validated():
    with pytest.raises(ConfigError, match="alarm_5xx_percent"):
        StackConfig(alarm_5xx_percent=0)
    with pytest.raises(ConfigError, match="alarm_5xx_minutes"):
        StackConfig(alarm_5xx_minutes=61)
    with pytest.raises(ConfigError, match="alarm_latency_percent"):
        StackConfig(alarm_latency_percent=5)
    with pytest.raises(ConfigError, match="detailed_metrics"):
        StackConfig(detailed_metrics="yes")


# ---- deployments roll back on errors ------------------------------------------------------------

def test_each_service_rolls_back_on_its_own_5xx_alarm_with_detailed_metrics(everything):
    found = alarms(everything)
    for service, alarm in (("FoodstoreService", "FoodstoreErrorRateAlarm"), ("PetstoreService", "PetstoreErrorRateAlarm")):
        resource = everything["Resources"][service]
        configured = resource["Properties"]["DeploymentConfiguration"]["Alarms"]
        assert configured["Enable"] is True and configured["Rollback"] is True
        assert configured["AlarmNames"] == [found[alarm]["AlarmName"]]
        assert alarm in resource["DependsOn"]


def test_without_detailed_metrics_services_roll_back_on_the_api_alarm(default_template, render):
    name = alarms(default_template)["ApiErrorRateAlarm"]["AlarmName"]
    for service in ("FoodstoreService", "PetstoreService"):
        assert default_template["Resources"][service]["Properties"]["DeploymentConfiguration"]["Alarms"]["AlarmNames"] == [name]
    small = render(VARIANTS["small"])
    assert "Alarms" not in small["Resources"]["FoodstoreService"]["Properties"]["DeploymentConfiguration"]


# ---- notification -----------------------------------------------------------------------------

def test_email_subscribes_only_when_given(default_template):
    parameter = default_template["Parameters"]["AlarmEmail"]
    assert parameter["Default"] == ""
    assert re.match(parameter["AllowedPattern"], "") and re.match(parameter["AllowedPattern"], "ops@example.com")
    assert not re.match(parameter["AllowedPattern"], "not an address")
    subscription = default_template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert default_template["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


def test_topic_admits_only_this_stacks_alarms(default_template):
    statement, = default_template["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == ["sns:Publish"]
    assert statement["Resource"] == [{"Ref": "AlarmTopic"}]
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
    assert listed_alarms(statement) == alarm_names_of(default_template)


def listed_alarms(statement: dict) -> set[str]:
    """The alarm names a policy statement's aws:SourceArn condition admits, each exactly."""
    arns = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    prefix = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
    assert all(arn["Fn::Sub"].startswith(prefix) and "*" not in arn["Fn::Sub"] for arn in arns)
    return {arn["Fn::Sub"].removeprefix(prefix) for arn in arns}


def alarm_names_of(template: dict) -> set[str]:
    return {alarm["AlarmName"]["Fn::Sub"] for alarm in alarms(template).values()}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_topic_and_key_policies_list_exactly_the_stacks_alarms(variant, render):
    """Not alarm:<stack>-*, which also admits the alarms of a stack named <stack>-other."""
    template = render(dataclasses.replace(VARIANTS[variant], customer_managed_key=True))
    names = alarm_names_of(template)
    if not VARIANTS[variant].alarms:
        assert not names and "AlarmTopicPolicy" not in template["Resources"]
        return
    statement, = template["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert listed_alarms(statement) == names
    key_statements = template["Resources"]["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = next(s for s in key_statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    assert listed_alarms(cloudwatch) == names


def test_topic_uses_the_stack_key_and_never_the_aws_managed_sns_key(default_template, everything):
    assert "KmsMasterKeyId" not in default_template["Resources"]["AlarmTopic"]["Properties"]
    assert everything["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["StackKey", "Arn"]}
    statements = everything["Resources"]["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = next(s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert listed_alarms(cloudwatch) == alarm_names_of(everything)
    assert "alias/aws/sns" not in json.dumps(everything)


def test_detailed_metrics_bill_six_metrics_per_route():
    assert DETAILED_METRICS_PER_ROUTE == 6


def test_the_table_alarm_watches_exactly_the_operations_the_item_store_calls(default_template):
    from itemstore.transport import MODELED_ERRORS

    from generator.model.constants import TABLE_OPERATIONS

    assert set(TABLE_OPERATIONS) == set(MODELED_ERRORS)
    operations = {d["Value"] for q in alarms(default_template)["FoodstoreTableAlarm"]["Metrics"] if "MetricStat" in q
                  for d in q["MetricStat"]["Metric"]["Dimensions"] if d["Name"] == "Operation"}
    assert operations == set(TABLE_OPERATIONS)


def test_every_alarm_is_on_the_dashboard_in_widgets_of_at_most_a_hundred(render):
    # About the most services with detailed metrics that fit CloudFormation's 500 resources.
    config = StackConfig(
        services=tuple(ServiceSpec(name=f"svc{i}", path=f"/svc{i}/items/{{id}}") for i in range(23)),
        detailed_metrics=True,
    )
    template = render(config)
    body = dashboard(template)
    jsonschema.validate(body, DASHBOARD_SCHEMA)
    listed = [arn for w in body["widgets"] if w["type"] == "alarm" for arn in w["properties"]["alarms"]]
    assert len(listed) == len(alarms(template)) == 23 * 4 + 2


def test_more_than_a_hundred_alarms_are_split_over_alarm_widgets():
    from types import SimpleNamespace

    from generator.template.dashboard import dashboard_widgets

    named = lambda title: SimpleNamespace(title=title)  # noqa: E731 - a handle with a logical id
    api = SimpleNamespace(api=named("HttpApi"), access_logs=named("ApiAccessLogGroup"))
    fake_alarms = [named(f"Alarm{i}") for i in range(150)]
    widgets = dashboard_widgets(StackConfig(), api, SimpleNamespace(cluster=named("Cluster")), [], [], fake_alarms)
    sizes = [len(w["properties"]["alarms"]) for w in widgets if w["type"] == "alarm"]
    assert sizes == [100, 50]


def test_without_container_insights_nothing_reads_its_task_counts():
    # ECS/ContainerInsights publishes RunningTaskCount only with Container Insights on; an alarm on
    # it that treats missing data as breaching would otherwise sit in ALARM for ever.
    from generator import StackConfig, build_template

    resources = build_template(StackConfig(container_insights=False)).to_dict()["Resources"]
    namespaces = {r["Properties"].get("Namespace") for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert "ECS/ContainerInsights" not in namespaces
    bodies = [json.dumps(r["Properties"]) for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert bodies and all("ECS/ContainerInsights" not in body for body in bodies)
    with_insights = build_template(StackConfig()).to_dict()["Resources"]
    assert any(r["Properties"].get("Namespace") == "ECS/ContainerInsights"
               for r in with_insights.values() if r["Type"] == "AWS::CloudWatch::Alarm")
