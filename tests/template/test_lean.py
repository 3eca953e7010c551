"""The no-NAT network mode and stacks/lean.toml: no NAT, no Elastic IP, public IPv4 addresses on the
tasks only, and nothing but the VPC link able to reach a task."""

from __future__ import annotations

import dataclasses

import pytest

from generator import CpuArchitecture, NatMode, StackConfig
from generator.model.config_file import load_config
from generator.template.checkov import TASK_PUBLIC_IP
from tests.support.processes import REPO
from tests.support.templates import resources

LEAN = REPO / "stacks" / "lean.toml"


@pytest.fixture(scope="module")
def lean(render) -> dict:
    return render(load_config(LEAN))


@pytest.fixture(scope="module")
def lean_config() -> StackConfig:
    return load_config(LEAN)


def test_the_lean_stack_runs_without_nat_on_arm64_spot_with_one_task_and_short_logs(lean_config):
    assert lean_config.nat_mode is NatMode.NONE
    assert lean_config.cpu_architecture is CpuArchitecture.ARM64
    assert lean_config.fargate_spot_percent == 100
    assert lean_config.container_insights is False
    assert lean_config.log_retention_days == 1
    assert [(s.cpu, s.memory, s.min_tasks) for s in lean_config.services] == [(256, 512, 1)]


def test_no_nat_mode_creates_no_nat_gateway_no_elastic_ip_and_no_route_through_nat(lean):
    assert resources(lean, "AWS::EC2::NatGateway") == {}
    assert resources(lean, "AWS::EC2::EIP") == {}
    routes = resources(lean, "AWS::EC2::Route")
    assert list(routes) == ["PublicDefaultRoute"]
    assert routes["PublicDefaultRoute"]["Properties"]["GatewayId"] == {"Ref": "InternetGateway"}


def test_public_ipv4_addresses_go_to_the_tasks_only(lean):
    # No subnet hands out addresses on its own: only the ECS services ask for one per task.
    for subnet in resources(lean, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    for service in resources(lean, "AWS::ECS::Service").values():
        network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "ENABLED"
        assert network["Subnets"] == [{"Ref": "PublicSubnet1"}, {"Ref": "PublicSubnet2"}]
    # The VPC link stays in the private subnets, which have no route out at all.
    (link,) = resources(lean, "AWS::ApiGatewayV2::VpcLink").values()
    assert link["Properties"]["SubnetIds"] == [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]
    for kind in ("AWS::EC2::NetworkInterface", "AWS::EC2::Instance", "AWS::ElasticLoadBalancingV2::LoadBalancer"):
        assert resources(lean, kind) == {}


def test_no_security_group_admits_the_world_and_tasks_admit_only_the_vpc_link(lean):
    groups = resources(lean, "AWS::EC2::SecurityGroup")
    for name, group in groups.items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") not in ("0.0.0.0/0",) and rule.get("CidrIpv6") != "::/0", name
    ingress = resources(lean, "AWS::EC2::SecurityGroupIngress")
    assert list(ingress) == ["FoodstoreIngressFromVpcLink"]
    (rule,) = ingress.values()
    assert rule["Properties"] == {
        "GroupId": {"Ref": "FoodstoreSecurityGroup"},
        "IpProtocol": "tcp",
        "FromPort": 8080,
        "ToPort": 8080,
        "SourceSecurityGroupId": {"Ref": "VpcLinkSecurityGroup"},
        "Description": "From the API Gateway VPC link only",
    }
    assert "SecurityGroupIngress" not in groups["FoodstoreSecurityGroup"]["Properties"]
    # The service's tasks wear exactly that group.
    service = lean["Resources"]["FoodstoreService"]["Properties"]
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"] == [
        {"Ref": "FoodstoreSecurityGroup"}
    ]


def test_tasks_wait_for_the_internet_route_and_dynamodb_stays_on_its_gateway_endpoint(lean):
    assert "PublicDefaultRoute" in lean["Resources"]["FoodstoreService"]["DependsOn"]
    endpoint = lean["Resources"]["DynamoDbEndpoint"]["Properties"]
    # The tasks' public subnets route through PublicRouteTable: the endpoint must be on it.
    assert endpoint["RouteTableIds"] == [
        {"Ref": "PrivateRouteTable1"}, {"Ref": "PrivateRouteTable2"}, {"Ref": "PublicRouteTable"}
    ]


def test_the_public_ip_skip_is_justified_in_the_metadata_of_no_nat_services_only(lean, render):
    check, reason = TASK_PUBLIC_IP
    skips = lean["Resources"]["FoodstoreService"]["Metadata"]["checkov"]["skip"]
    assert {"id": check, "comment": reason} in skips
    assert "VPC link" in reason
    for mode in (NatMode.PER_AZ, NatMode.SINGLE):
        template = render(StackConfig(nat_mode=mode, az_count=2))
        for name, service in resources(template, "AWS::ECS::Service").items():
            assert "Metadata" not in service, name
            assert service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
            assert service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == [
                {"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}
            ]


def test_every_nat_mode_is_handled_when_building_the_network(render):
    # A mode added to NatMode without a case in network.py fails here (assert_never), not in AWS.
    for mode in NatMode:
        template = render(StackConfig(nat_mode=mode, az_count=2))
        gateways = len(resources(template, "AWS::EC2::NatGateway"))
        assert gateways == {NatMode.PER_AZ: 2, NatMode.SINGLE: 1, NatMode.NONE: 0}[mode]
        assert len(resources(template, "AWS::EC2::EIP")) == gateways


def test_arm64_sets_the_task_runtime_platform_and_builds_on_arm_codebuild(lean):
    (definition,) = resources(lean, "AWS::ECS::TaskDefinition").values()
    assert definition["Properties"]["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    environment = lean["Resources"]["ImageBuildProject"]["Properties"]["Environment"]
    assert environment["Type"] == "ARM_CONTAINER"
    assert environment["Image"] == "aws/codebuild/amazonlinux-aarch64-standard:3.0"
    variables = {v["Name"]: v["Value"] for v in environment["EnvironmentVariables"]}
    assert variables["ARCHITECTURE"] == "ARM64"
    assert variables["IMAGE_TAG"].startswith("source-arm64-")
    assert lean["Resources"]["ImageBuild"]["Properties"]["ImageTag"] == variables["IMAGE_TAG"]


def test_arm64_with_spot_uses_the_fargate_spot_capacity_provider(lean):
    strategy = lean["Resources"]["FoodstoreService"]["Properties"]["CapacityProviderStrategy"]
    assert strategy == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 100}]


def test_container_insights_is_on_by_default_and_off_with_its_checkov_skip_when_asked(default_template, lean):
    assert default_template["Resources"]["Cluster"]["Properties"]["ClusterSettings"] == [
        {"Name": "containerInsights", "Value": "enabled"}
    ]
    assert "Metadata" not in default_template["Resources"]["Cluster"]
    cluster = lean["Resources"]["Cluster"]
    assert cluster["Properties"]["ClusterSettings"] == [{"Name": "containerInsights", "Value": "disabled"}]
    assert [skip["id"] for skip in cluster["Metadata"]["checkov"]["skip"]] == ["CKV_AWS_65"]


def test_the_default_stack_keeps_private_subnets_behind_nat(default_template):
    assert StackConfig().nat_mode is NatMode.PER_AZ
    assert dataclasses.replace(StackConfig()).cpu_architecture is CpuArchitecture.X86_64
    for service in resources(default_template, "AWS::ECS::Service").values():
        assert service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
