"""The VPC: subnets per AZ, NAT per mode, and a DynamoDB endpoint that admits only the stack's tables."""

from __future__ import annotations

from generator import NatMode, StackConfig

from .conftest import resources


def test_default_network_has_a_public_and_private_subnet_in_each_of_three_azs(default_template):
    subnets = resources(default_template, "AWS::EC2::Subnet")
    assert sorted(subnets) == sorted(
        [f"PublicSubnet{n}" for n in (1, 2, 3)] + [f"PrivateSubnet{n}" for n in (1, 2, 3)]
    )
    for name, subnet in subnets.items():
        index = int(name[-1]) - 1
        # The AZs the ZoneChoice custom resource picked (test_availability_zones.py), by position.
        assert subnet["Properties"]["AvailabilityZone"] == {"Fn::GetAtt": ["ZoneChoice", f"Zone{index + 1}"]}
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    cidrs = [s["Properties"]["CidrBlock"] for s in subnets.values()]
    assert len(set(cidrs)) == 6


def test_per_az_nat_gives_each_private_route_table_its_own_gateway(default_template):
    gateways = resources(default_template, "AWS::EC2::NatGateway")
    assert len(gateways) == 3 and len(resources(default_template, "AWS::EC2::EIP")) == 3
    routes = {n: r["Properties"] for n, r in resources(default_template, "AWS::EC2::Route").items()
              if n.startswith("PrivateDefaultRoute")}
    assert {r["NatGatewayId"]["Ref"] for r in routes.values()} == set(gateways)


def test_single_nat_mode_shares_one_gateway(render):
    template = render(StackConfig(nat_mode=NatMode.SINGLE, az_count=2))
    assert list(resources(template, "AWS::EC2::NatGateway")) == ["NatGateway1"]
    routes = [r for n, r in resources(template, "AWS::EC2::Route").items() if n.startswith("PrivateDefaultRoute")]
    assert [r["Properties"]["NatGatewayId"] for r in routes] == [{"Ref": "NatGateway1"}] * 2


def test_dynamodb_endpoint_policy_admits_only_item_access_to_the_stack_tables(default_template):
    endpoint = default_template["Resources"]["DynamoDbEndpoint"]["Properties"]
    assert endpoint["VpcEndpointType"] == "Gateway"
    assert endpoint["RouteTableIds"] == [{"Ref": f"PrivateRouteTable{n}"} for n in (1, 2, 3)]
    (statement,) = endpoint["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["FoodstoreTable", "Arn"]}, {"Fn::GetAtt": ["PetstoreTable", "Arn"]}
    ]
