"""Per service: least-privilege roles, the task definition, security groups, ECS service, scaling."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from generator import ConfigError, ServiceSpec, StackConfig
from generator.model.constants import GRACEFUL_TIMEOUT_SECONDS, HEALTH_CHECK_COMMAND
from generator.template.names import logical_id
from tests.support.templates import VARIANTS, resources

SERVICES = ("Foodstore", "Petstore")


@pytest.mark.parametrize("name", SERVICES)
def test_task_role_may_only_get_and_put_items_in_its_own_table(default_template, name):
    role = default_template["Resources"][f"{name}TaskRole"]["Properties"]
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement == {
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "Effect": "Allow",
        "Resource": [{"Fn::GetAtt": [f"{name}Table", "Arn"]}],
    }
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": ["ecs-tasks.amazonaws.com"]}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]


@pytest.mark.parametrize("name", SERVICES)
def test_execution_role_writes_only_its_own_log_group(default_template, name):
    statements = default_template["Resources"][f"{name}ExecutionRole"]["Properties"]["Policies"][0][
        "PolicyDocument"]["Statement"]
    logs = [s for s in statements if s["Action"][0].startswith("logs:")]
    assert logs == [{
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Effect": "Allow",
        "Resource": [{"Fn::GetAtt": [f"{name}LogGroup", "Arn"]}],
    }]


def test_task_definition_runs_the_item_store_container_as_configured(default_template):
    task = default_template["Resources"]["FoodstoreTaskDefinition"]["Properties"]
    assert (task["Cpu"], task["Memory"], task["NetworkMode"]) == ("256", "512", "awsvpc")
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    (container,) = task["ContainerDefinitions"]
    assert container["Image"] == {"Fn::If": [
        "FoodstoreUsesBuiltImage",
        {"Fn::Sub": "${ImageRepository.RepositoryUri}@${ImageBuild.Digest}"},
        {"Ref": "FoodstoreImage"},
    ]}
    assert container["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]
    assert container["HealthCheck"]["Command"] == list(HEALTH_CHECK_COMMAND)
    assert container["ReadonlyRootFilesystem"] is True
    assert container["MountPoints"] == [{"ContainerPath": "/tmp", "ReadOnly": False, "SourceVolume": "scratch"}]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env == {
        "AWS_REGION": {"Ref": "AWS::Region"}, "ITEM_PATH_PREFIX": "/foodstore/foods", "PORT": "8080",
        "TABLE_KEY": "foodId", "TABLE_NAME": {"Ref": "FoodstoreTable"}, "DRAIN_SECONDS": "45",
    }
    assert [e["Name"] for e in container["Environment"]] == sorted(env)
    options = container["LogConfiguration"]["Options"]
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert options["awslogs-group"] == {"Ref": "FoodstoreLogGroup"}


def test_image_parameter_defaults_to_empty_which_selects_the_image_the_stack_builds(default_template):
    parameter = default_template["Parameters"]["FoodstoreImage"]
    assert parameter["Default"] == "" and "MinLength" not in parameter
    assert "builds the item-store image" in parameter["Description"]


def test_no_item_store_parameter_default_names_an_image_outside_the_stack(render):
    # Your own services run their own images: their parameter defaults to the configured image.
    for name, config in VARIANTS.items():
        parameters = render(config)["Parameters"]
        for spec in config.services:
            parameter = parameters[logical_id(spec.name, "Image")]
            assert parameter["Default"] == ("" if spec.is_item_store else spec.image), f"{name}/{spec.name}"


def test_an_explicit_image_replaces_the_release_default(render):
    spec = ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", image="example.org/me/food:7")
    assert render(StackConfig(services=(spec,)))["Parameters"]["FoodstoreImage"]["Default"] == "example.org/me/food:7"


def test_ecs_service_is_private_registered_in_cloud_map_and_rolls_back(default_template):
    service = default_template["Resources"]["FoodstoreService"]
    props = service["Properties"]
    network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert network["Subnets"] == [{"Ref": f"PrivateSubnet{n}"} for n in (1, 2, 3)]
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert props["ServiceRegistries"] == [{
        "ContainerName": "foodstore", "ContainerPort": 8080,
        "RegistryArn": {"Fn::GetAtt": ["FoodstoreDiscoveryService", "Arn"]},
    }]
    assert "LaunchType" not in props
    assert props["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE", "Weight": 1}]
    # The routes (image pulls through NAT) and the alarm its deployments roll back on.
    assert set(service["DependsOn"]) == {f"PrivateDefaultRoute{n}" for n in (1, 2, 3)} | {
        "ApiErrorRateAlarm", "ClusterCapacityProviders"}


def test_container_security_group_admits_only_the_vpc_link_on_the_container_port(default_template):
    ingress = resources(default_template, "AWS::EC2::SecurityGroupIngress")
    rules = {name: r["Properties"] for name, r in ingress.items()}
    assert rules["FoodstoreIngressFromVpcLink"]["GroupId"] == {"Ref": "FoodstoreSecurityGroup"}
    for rule in rules.values():
        assert rule["SourceSecurityGroupId"] == {"Ref": "VpcLinkSecurityGroup"}
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 8080, 8080)
    group = default_template["Resources"]["FoodstoreSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [(r["FromPort"], r["ToPort"]) for r in group["SecurityGroupEgress"]] == [(443, 443)]


def test_vpc_link_group_reaches_only_the_container_groups_which_admit_only_their_port(render):
    from generator.template.api import CONTAINER_PORTS

    food = ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", port=8080)
    pet = ServiceSpec(name="petstore", path="/petstore/pets/{petId}", port=9090)
    template = render(StackConfig(services=(food, pet)))
    egress = template["Resources"]["VpcLinkSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert [(r["DestinationSecurityGroupId"]["Ref"], r["FromPort"], r["ToPort"]) for r in egress] == [
        ("FoodstoreSecurityGroup", *CONTAINER_PORTS), ("PetstoreSecurityGroup", *CONTAINER_PORTS)
    ]
    assert "SecurityGroupIngress" not in template["Resources"]["VpcLinkSecurityGroup"]["Properties"]
    ingress = {n: template["Resources"][f"{n}IngressFromVpcLink"]["Properties"] for n in ("Foodstore", "Petstore")}
    assert [(r["FromPort"], r["ToPort"]) for r in ingress.values()] == [(8080, 8080), (9090, 9090)]
    # The range is the one ServiceSpec accepts: any port a service can have.
    for port in CONTAINER_PORTS:
        ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", port=port)
    for port in (CONTAINER_PORTS[0] - 1, CONTAINER_PORTS[1] + 1):
        with pytest.raises(ConfigError):
            ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}", port=port)


def test_a_port_change_keeps_the_old_port_reachable_until_the_deployment_is_done(render):
    """The link's egress stays; the ingress rule is replaced, so CloudFormation adds the new port's
    rule before the service update and removes the old one only in its cleanup, after it."""
    from generator.tooling import changes

    food = StackConfig().services[0]
    old = render(StackConfig())
    new = render(StackConfig(services=(dataclasses.replace(food, port=9000), *StackConfig().services[1:])))
    result = changes.compare(old, new)
    changed = {c.logical_id: c for c in result.changed}
    assert "VpcLinkSecurityGroup" not in changed
    assert changed["FoodstoreIngressFromVpcLink"].replacement == "yes"
    assert changed["FoodstoreService"].replacement == "no"  # a rolling deployment of the new port


def test_scaling_tracks_cpu_with_the_ecs_service_linked_role(default_template):
    target = default_template["Resources"]["FoodstoreScalableTarget"]["Properties"]
    assert target["MinCapacity"] == {"Ref": "FoodstoreMinTasks"}
    assert target["MaxCapacity"] == {"Ref": "FoodstoreMaxTasks"}
    assert target["RoleARN"]["Fn::Sub"].endswith(
        "role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    )
    assert target["ResourceId"] == {"Fn::Sub": "service/${Cluster}/${FoodstoreService.Name}"}
    policy = default_template["Resources"]["FoodstoreScalingPolicy"]["Properties"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert config["TargetValue"] == {"Ref": "FoodstoreCpuTarget"}
    assert not resources(default_template, "AWS::IAM::Role").keys() & {"AutoscalingRole", "ScalingRole"}


def test_spec_scaling_values_become_parameter_defaults(render):
    spec = ServiceSpec(name="foodstore", path="/f/{id}", min_tasks=2, max_tasks=9, cpu_target=70)
    parameters = render(StackConfig(services=(spec,)))["Parameters"]
    assert (parameters["FoodstoreMinTasks"]["Default"], parameters["FoodstoreMaxTasks"]["Default"],
            parameters["FoodstoreCpuTarget"]["Default"]) == ("2", "9", 70)


def test_every_log_group_has_retention(default_template):
    groups = resources(default_template, "AWS::Logs::LogGroup")
    assert set(groups) == {
        "FoodstoreLogGroup", "PetstoreLogGroup", "ApiAccessLogGroup", "ImageBuildLogGroup", "ImageBuildFunctionLogGroup",
        "ImageBuildAnswerFunctionLogGroup", "SitePublishFunctionLogGroup", "ZoneChoiceFunctionLogGroup",
        "EcsServiceLinkedRoleFunctionLogGroup",
    }
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {30}


def test_cluster_has_container_insights(default_template):
    settings = default_template["Resources"]["Cluster"]["Properties"]["ClusterSettings"]
    assert settings == [{"Name": "containerInsights", "Value": "enabled"}]


def test_the_container_stop_timeout_leaves_gunicorn_its_graceful_timeout(default_template):
    for name, task in resources(default_template, "AWS::ECS::TaskDefinition").items():
        [container] = task["Properties"]["ContainerDefinitions"]
        # Fargate accepts at most 120 s (Amazon ECS API Reference, ContainerDefinition stopTimeout).
        assert GRACEFUL_TIMEOUT_SECONDS < container["StopTimeout"] <= 120, name


def test_the_stop_timeout_covers_the_drain_and_graceful_stop_the_container_reads(default_template, monkeypatch):
    # Both sides of the contract: the template's StopTimeout, and what gunicorn_conf reads from the
    # environment the same task definition gives the container.
    import importlib

    from itemstore import gunicorn_conf
    from itemstore.contract import DEFAULT_DRAIN_SECONDS, STOP_MARGIN_SECONDS

    for name, task in resources(default_template, "AWS::ECS::TaskDefinition").items():
        [container] = task["Properties"]["ContainerDefinitions"]
        environment = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert environment["DRAIN_SECONDS"] == str(DEFAULT_DRAIN_SECONDS), name
        monkeypatch.delenv("GUNICORN_GRACEFUL_TIMEOUT", raising=False)
        for variable in ("DRAIN_SECONDS", "GUNICORN_GRACEFUL_TIMEOUT"):
            if variable in environment:
                monkeypatch.setenv(variable, environment[variable])
        conf = importlib.reload(gunicorn_conf)
        assert container["StopTimeout"] == conf.drain_seconds + conf.graceful_timeout + STOP_MARGIN_SECONDS, name
    monkeypatch.undo()
    importlib.reload(gunicorn_conf)


def test_a_service_drain_and_graceful_timeout_set_the_task_stop_timeout():
    from generator.template.stack import build_template

    spec = ServiceSpec("foodstore", "/foodstore/foods/{foodId}", drain_seconds=10,
                       environment={"GUNICORN_GRACEFUL_TIMEOUT": "15"})
    template = json.loads(build_template(StackConfig(services=(spec,))).to_json())
    [container] = template["Resources"]["FoodstoreTaskDefinition"]["Properties"]["ContainerDefinitions"]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert (environment["DRAIN_SECONDS"], environment["GUNICORN_GRACEFUL_TIMEOUT"]) == ("10", "15")
    assert container["StopTimeout"] == 10 + 15 + 5


def test_a_new_task_is_checked_soon_after_gunicorn_is_ready(default_template):
    for name, task in resources(default_template, "AWS::ECS::TaskDefinition").items():
        [container] = task["Properties"]["ContainerDefinitions"]
        check = container["HealthCheck"]
        # The first check runs one interval after the start; ECS allows 5-300 s; gunicorn is
        # ready within ~1 s here, a few seconds on a quarter vCPU (services.py).
        assert 5 <= check["Interval"] <= 10 and check["StartPeriod"] >= 5, name


# --- task counts: the Rules assertion, the floor, updates, and the order around capacity providers ---

def evaluate(expression, parameters: dict[str, str]) -> bool | str | list:
    """A rule expression evaluated as CloudFormation does, for the functions the rules use
    ("Rule functions", AWS CloudFormation Template Reference); any other function is an error."""
    if isinstance(expression, str):
        return expression
    if isinstance(expression, list):
        return [evaluate(item, parameters) for item in expression]
    ((function, argument),) = expression.items()
    if function == "Ref":
        return parameters[argument]
    values = [evaluate(item, parameters) for item in argument]
    if function == "Fn::And":
        assert 2 <= len(values) <= 10, "Fn::And takes 2 to 10 conditions"
        return all(values)
    if function == "Fn::Or":
        assert 2 <= len(values) <= 10
        return any(values)
    if function == "Fn::Not":
        return not values[0]
    if function == "Fn::Equals":
        return values[0] == values[1]
    if function == "Fn::Contains":
        return values[1] in values[0]
    raise AssertionError(f"{function} is not a rule function")


def rule_allows(template: dict, name: str, parameters: dict[str, str]) -> bool:
    rule = template["Rules"][f"{name}TaskCounts"]
    applies = evaluate(rule.get("RuleCondition", {"Fn::Equals": ["x", "x"]}), parameters)
    return not applies or all(evaluate(a["Assert"], parameters) for a in rule["Assertions"])


def test_the_rules_refuse_min_tasks_above_max_tasks_and_allow_every_other_pair(default_template):
    # Rules compare strings; the parameters admit each count in one spelling only, so every pair
    # they admit is here, and the rule must decide each as the numbers compare.
    minimum, maximum = (default_template["Parameters"][f"Foodstore{p}"] for p in ("MinTasks", "MaxTasks"))
    assert minimum["AllowedValues"] == [str(n) for n in range(1, 11)]
    spelled = [str(n) for n in range(1, 1001)]
    assert all(re.fullmatch(maximum["AllowedPattern"], text) for text in spelled)
    for other in ("0", "01", "4.0", "+4", " 4", "1001", "", "1e2"):
        assert not re.fullmatch(maximum["AllowedPattern"], other), other
    for low in minimum["AllowedValues"]:
        for high in spelled:
            values = {"FoodstoreMinTasks": low, "FoodstoreMaxTasks": high}
            assert rule_allows(default_template, "Foodstore", values) == (int(low) <= int(high)), values
    description = default_template["Rules"]["FoodstoreTaskCounts"]["Assertions"][0]["AssertDescription"]
    assert description == "FoodstoreMinTasks must not exceed FoodstoreMaxTasks (foodstore service)"
    assert sorted(default_template["Rules"]) == ["FoodstoreTaskCounts", "PetstoreTaskCounts"]


@pytest.mark.parametrize("min_tasks", [0, 11])
def test_a_floor_of_zero_or_above_ten_tasks_is_refused(min_tasks):
    with pytest.raises(ConfigError) as caught:
        ServiceSpec(name="foodstore", path="/f/{id}", min_tasks=min_tasks, max_tasks=20)
    assert caught.value.field == "min_tasks"
    assert "1-10" in str(caught.value) or "from 1 to 10" in str(caught.value)
    if min_tasks == 0:
        assert "cannot scale out a service that runs no tasks" in str(caught.value)


def test_a_stack_update_never_resets_the_desired_count(default_template):
    # Without DesiredCount CloudFormation leaves the count of an existing service alone; the
    # scalable target keeps it within the parameters.
    for service in resources(default_template, "AWS::ECS::Service").values():
        assert "DesiredCount" not in service["Properties"]
    target = default_template["Resources"]["FoodstoreScalableTarget"]
    assert target["Properties"]["MinCapacity"] == {"Ref": "FoodstoreMinTasks"}


@pytest.mark.parametrize(("percent", "strategy"), [
    (0, [{"CapacityProvider": "FARGATE", "Weight": 1}]),
    (30, [{"CapacityProvider": "FARGATE", "Weight": 70}, {"CapacityProvider": "FARGATE_SPOT", "Weight": 30}]),
    (100, [{"CapacityProvider": "FARGATE_SPOT", "Weight": 100}]),
])
def test_a_spot_share_is_a_strategy_over_an_association_that_always_exists(render, percent, strategy):
    """0 % <-> more is then a change of weights, never LaunchType (conditionally create-only) and
    never the association's removal while a Spot task may still run."""
    template = render(StackConfig(fargate_spot_percent=percent))
    association = template["Resources"]["ClusterCapacityProviders"]["Properties"]
    assert association["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    for service in resources(template, "AWS::ECS::Service").values():
        assert "ClusterCapacityProviders" in service["DependsOn"]
        assert "LaunchType" not in service["Properties"]
        assert service["Properties"]["CapacityProviderStrategy"] == strategy


def test_a_spot_share_change_updates_the_services_in_place(render):
    from generator.tooling import changes

    for old, new in ((0, 50), (50, 0), (0, 100), (100, 0)):
        result = changes.compare(render(StackConfig(fargate_spot_percent=old)),
                                 render(StackConfig(fargate_spot_percent=new)))
        assert not result.added and not result.removed, (old, new)
        services = {c.logical_id: c.replacement for c in result.changed if c.type == "AWS::ECS::Service"}
        assert services == {"FoodstoreService": "no", "PetstoreService": "no"}, (old, new)
