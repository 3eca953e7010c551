"""The VPC: subnets per AZ, NAT per mode, and a DynamoDB endpoint that admits only the stack's tables."""

from __future__ import annotations

import pytest

from generator import NatMode, StackConfig
from generator.model.errors import ConfigError
from tests.support.cloudformation import schema
from tests.support.templates import resources


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


def _subnet_cidrs(template: dict) -> dict[str, str]:
    return {name: s["Properties"]["CidrBlock"] for name, s in resources(template, "AWS::EC2::Subnet").items()}


def test_the_default_stack_keeps_the_subnet_blocks_of_2_0_0(default_template):
    # 2.0.0 carved public blocks first, then private ones: for 3 AZs these. An upgrade that moved
    # one would replace the subnet (CidrBlock is create-only) and everything in it.
    assert _subnet_cidrs(default_template) == {
        "PublicSubnet1": "10.0.0.0/20", "PublicSubnet2": "10.0.16.0/20", "PublicSubnet3": "10.0.32.0/20",
        "PrivateSubnet1": "10.0.48.0/20", "PrivateSubnet2": "10.0.64.0/20", "PrivateSubnet3": "10.0.80.0/20",
    }


def test_adding_or_removing_an_az_moves_no_other_subnet(render):
    by_count = {count: _subnet_cidrs(render(StackConfig(az_count=count))) for count in range(2, 7)}
    for fewer in range(2, 6):
        more = by_count[fewer + 1]
        for name, cidr in by_count[fewer].items():
            assert more[name] == cidr, f"{name} moves between {fewer} and {fewer + 1} AZs"
        # The added AZ's subnets take blocks no subnet of the smaller stack holds.
        added = set(more.values()) - set(by_count[fewer].values())
        assert len(added) == 2
    six = by_count[6]
    assert len(set(six.values())) == 12


def test_a_vpc_too_small_for_the_fixed_slots_is_refused_naming_the_blocks_needed():
    # 2 AZs use blocks 0, 1 (public) and 3, 4 (private): five /24 blocks, and a /22 holds four.
    with pytest.raises(ConfigError) as raised:
        StackConfig(az_count=2, vpc_cidr="10.0.0.0/22", subnet_prefix_length=24)
    assert raised.value.field == "subnet_prefix_length"
    assert "5 subnets" in str(raised.value) and "holds only 4" in str(raised.value)
    assert StackConfig(az_count=2, vpc_cidr="10.0.0.0/21", subnet_prefix_length=24).subnet_cidrs() == (
        ["10.0.0.0/24", "10.0.1.0/24"], ["10.0.3.0/24", "10.0.4.0/24"],
    )


def _blocks_of_2_0_0(config: StackConfig) -> dict[str, str]:
    """What 2.0.0 gave each subnet: public blocks first, then private ones, in order."""
    import ipaddress

    blocks = list(ipaddress.IPv4Network(config.vpc_cidr).subnets(new_prefix=config.subnet_prefix_length))
    count = config.az_count
    return {
        **{f"PublicSubnet{n + 1}": str(blocks[n]) for n in range(count)},
        **{f"PrivateSubnet{n + 1}": str(blocks[count + n]) for n in range(count)},
    }


def test_from_2_0_0_only_stacks_of_three_azs_keep_every_subnet(render):
    # What the README's "Updating a stack" says: a moved CidrBlock (create-only in the subnet's
    # resource schema) is a replacement, and with 2 AZs PrivateSubnet1's new block is the one the
    # old PrivateSubnet2 still holds.
    assert {"/properties/CidrBlock", "/properties/AvailabilityZone"} <= set(
        schema("AWS::EC2::Subnet")["createOnlyProperties"]
    )
    moved = {}
    for count in range(2, 7):
        config = StackConfig(az_count=count)
        old, new = _blocks_of_2_0_0(config), _subnet_cidrs(render(config))
        moved[count] = sorted(name for name in new if new[name] != old[name])
    assert moved[3] == []
    assert moved[2] == ["PrivateSubnet1", "PrivateSubnet2"]
    assert all(moved[count] for count in (2, 4, 5, 6))
    two = StackConfig(az_count=2)
    assert _subnet_cidrs(render(two))["PrivateSubnet1"] == _blocks_of_2_0_0(two)["PrivateSubnet2"] == "10.0.48.0/20"


def test_a_change_of_azs_replaces_the_vpc_link_its_subnets_are_create_only(render):
    assert "/properties/SubnetIds" in schema("AWS::ApiGatewayV2::VpcLink")["createOnlyProperties"]
    two, three = (render(StackConfig(az_count=count))["Resources"]["VpcLink"]["Properties"] for count in (2, 3))
    assert two["SubnetIds"] != three["SubnetIds"]
