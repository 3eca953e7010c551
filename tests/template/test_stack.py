"""Services are data: adding one adds exactly its own resources and touches nothing else."""

from __future__ import annotations

from generator import ServiceSpec, StackConfig
from generator.model.config import DEFAULT_SERVICES
from generator.template import stack

ORDERS = ServiceSpec(name="orders", path="/shop/orders/{orderId}")
ORDERS_RESOURCES = {
    "OrdersTable", "OrdersLogGroup", "OrdersExecutionRole", "OrdersTaskRole", "OrdersTaskDefinition",
    "OrdersSecurityGroup", "OrdersIngressFromVpcLink", "OrdersService", "OrdersDiscoveryService",
    "OrdersScalableTarget", "OrdersScalingPolicy", "OrdersIntegration", "OrdersGetRoute", "OrdersPutRoute",
    "OrdersTasksAlarm", "OrdersScalingCeilingAlarm", "OrdersTableAlarm",
}


def test_a_third_service_adds_exactly_its_own_resources(render, default_template):
    three = render(StackConfig(services=(*DEFAULT_SERVICES, ORDERS)))
    assert set(three["Resources"]) - set(default_template["Resources"]) == ORDERS_RESOURCES
    assert set(default_template["Resources"]) <= set(three["Resources"])
    # A service's route and table and its link egress are the only shared things that grow, and
    # the test page's config.json, which lists the services.
    changed = {name for name, r in default_template["Resources"].items() if three["Resources"][name] != r}
    # The dashboard shows every service; the alarm topic's policy lists every alarm.
    assert changed == {"VpcLinkSecurityGroup", "DynamoDbEndpoint", "SitePage", "Dashboard", "AlarmTopicPolicy"}
    assert set(three["Parameters"]) - set(default_template["Parameters"]) == {
        "OrdersImage", "OrdersMinTasks", "OrdersMaxTasks", "OrdersCpuTarget"
    }
    assert set(three["Outputs"]) - set(default_template["Outputs"]) == {"OrdersUrl"}


def test_the_third_service_is_wired_like_the_others(render):
    three = render(StackConfig(services=(*DEFAULT_SERVICES, ORDERS)))["Resources"]
    assert three["OrdersTable"]["Properties"]["KeySchema"] == [{"AttributeName": "orderId", "KeyType": "HASH"}]
    assert three["OrdersGetRoute"]["Properties"]["RouteKey"] == "GET /shop/orders/{orderId}"
    assert three["OrdersIntegration"]["Properties"]["IntegrationUri"] == {"Fn::GetAtt": ["OrdersDiscoveryService", "Arn"]}
    statement = three["OrdersTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert statement["Resource"] == [{"Fn::GetAtt": ["OrdersTable", "Arn"]}]


def test_services_keep_their_order_in_the_template(render):
    reversed_services = render(StackConfig(services=tuple(reversed(DEFAULT_SERVICES))))
    egress = reversed_services["Resources"]["VpcLinkSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert [r["DestinationSecurityGroupId"]["Ref"] for r in egress] == ["PetstoreSecurityGroup", "FoodstoreSecurityGroup"]


def test_handles_carry_what_later_code_wires_to(monkeypatch):
    """A service's handle holds its table, scalable target and task-count parameters, the
    cluster's its capacity-provider association; dependencies go through them, not by name."""
    built: dict[str, list] = {"service": [], "cluster": []}
    for name, original in (("service", stack.add_service), ("cluster", stack.add_cluster)):
        def record(*args, _original=original, _name=name, **kwargs):
            built[_name].append(_original(*args, **kwargs))
            return built[_name][-1]
        monkeypatch.setattr(stack, f"add_{name}", record)
    template = stack.build_template(StackConfig(fargate_spot_percent=50)).to_dict()
    [cluster] = built["cluster"]
    food = built["service"][0]
    assert [table.resource.title for table in food.tables] == ["FoodstoreTable"]
    assert food.scalable_target.title == "FoodstoreScalableTarget"
    assert (food.parameters.min_tasks.title, food.parameters.max_tasks.title) == ("FoodstoreMinTasks", "FoodstoreMaxTasks")
    target = template["Resources"][food.scalable_target.title]["Properties"]
    assert target["MinCapacity"] == {"Ref": food.parameters.min_tasks.title}
    assert target["MaxCapacity"] == {"Ref": food.parameters.max_tasks.title}
    assert cluster.capacity_providers is not None
    assert cluster.capacity_providers.title in template["Resources"][food.service.title]["DependsOn"]
