"""The VPC: public and private subnets per AZ, the internet gateway, and NAT per ``nat_mode``.

Where the tasks run follows the NAT mode: in the private subnets behind NAT (``per-az``,
``single``), or in the public subnets with a public IPv4 address each (``none``). The VPC link's
network interfaces stay in the private subnets in every mode.
"""

from __future__ import annotations

from typing import assert_never

from troposphere import GetAtt, Ref, Sub, Tags, Template, ec2, kms

from generator.model.config import NatMode, StackConfig
from generator.model.records import dataclass
from generator.template import iam as policies
from generator.template.logs import add_log_group
from generator.template.names import logical_id
from generator.template.zones import Zones


@dataclass(frozen=True)
class Network:
    """The VPC, its subnets and routes, and where the tasks run."""

    vpc: ec2.VPC
    private_subnets: tuple[ec2.Subnet, ...]
    private_route_tables: tuple[ec2.RouteTable, ...]
    private_default_routes: tuple[ec2.Route, ...]
    """The private subnets' routes through NAT; none with ``nat_mode = "none"``."""
    task_subnets: tuple[ec2.Subnet, ...]
    """Where the ECS services place their tasks: the private subnets, or the public ones without NAT."""
    task_public_ip: bool
    """Whether each task gets a public IPv4 address (its only way out without NAT)."""
    task_default_routes: tuple[ec2.Route, ...]
    """The routes the tasks' outbound calls take; tasks cannot pull images before they exist, so
    the services depend on them."""
    gateway_endpoint_route_tables: tuple[ec2.RouteTable, ...]
    """The route tables gateway endpoints (DynamoDB, S3) must be on: those of the tasks' subnets too."""


def add_network(template: Template, config: StackConfig, key: kms.Key | None, zones: Zones) -> Network:
    """A VPC across ``config.az_count`` AZs (the ones ``zones`` chose) with NAT per
    ``config.nat_mode``, and flow logs when ``config.vpc_flow_logs`` is on."""
    vpc = template.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=config.vpc_cidr,
            EnableDnsHostnames=True,  # Cloud Map private DNS needs both
            EnableDnsSupport=True,
            Tags=Tags(Name=Sub("${AWS::StackName}")),
        )
    )
    gateway = template.add_resource(ec2.InternetGateway("InternetGateway"))
    attachment = template.add_resource(
        ec2.VPCGatewayAttachment("InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(gateway))
    )
    public_table = template.add_resource(
        ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=Tags(Name=Sub("${AWS::StackName}-public")))
    )
    public_route = template.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attachment.title,
            RouteTableId=Ref(public_table),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(gateway),
        )
    )

    public_cidrs, private_cidrs = config.subnet_cidrs()
    public_subnets, private_subnets, private_tables, private_routes = [], [], [], []
    nat_gateways: list[ec2.NatGateway] = []
    for index in range(config.az_count):
        number = index + 1
        # Not GetAZs: its first names may be AZs without VPC link or Fargate support in this account.
        zone = zones.name(index)
        public = _add_subnet(template, "Public", number, vpc, zone, public_cidrs[index], public_table)
        public_subnets.append(public)
        if _has_nat_gateway(config.nat_mode, index):
            eip = template.add_resource(
                ec2.EIP(logical_id("NatGateway", number, "Eip"), Domain="vpc", DependsOn=attachment.title)
            )
            nat_gateways.append(
                template.add_resource(
                    ec2.NatGateway(
                        logical_id("NatGateway", number),
                        AllocationId=eip.GetAtt("AllocationId"),
                        SubnetId=Ref(public),
                        Tags=Tags(Name=Sub(f"${{AWS::StackName}}-nat-{number}")),
                    )
                )
            )

        table = template.add_resource(
            ec2.RouteTable(
                logical_id("PrivateRouteTable", number),
                VpcId=Ref(vpc),
                Tags=Tags(Name=Sub(f"${{AWS::StackName}}-private-{number}")),
            )
        )
        if nat_gateways:
            private_routes.append(
                template.add_resource(
                    ec2.Route(
                        logical_id("PrivateDefaultRoute", number),
                        RouteTableId=Ref(table),
                        DestinationCidrBlock="0.0.0.0/0",
                        NatGatewayId=Ref(nat_gateways[-1]),
                    )
                )
            )
        private = _add_subnet(template, "Private", number, vpc, zone, private_cidrs[index], table)
        private_subnets.append(private)
        private_tables.append(table)

    if config.vpc_flow_logs:
        _add_flow_logs(template, config, key, vpc)
    match config.nat_mode:
        case NatMode.PER_AZ | NatMode.SINGLE:
            tasks = dict(
                task_subnets=tuple(private_subnets),
                task_public_ip=False,
                task_default_routes=tuple(private_routes),
                gateway_endpoint_route_tables=tuple(private_tables),
            )
        case NatMode.NONE:
            # The tasks' traffic to DynamoDB (and S3) takes the public route table, so the gateway
            # endpoints must be on it; they stay on the private ones as in the NAT modes.
            tasks = dict(
                task_subnets=tuple(public_subnets),
                task_public_ip=True,
                task_default_routes=(public_route,),
                gateway_endpoint_route_tables=(*private_tables, public_table),
            )
        case _:
            assert_never(config.nat_mode)
    return Network(
        vpc=vpc,
        private_subnets=tuple(private_subnets),
        private_route_tables=tuple(private_tables),
        private_default_routes=tuple(private_routes),
        **tasks,
    )


def _has_nat_gateway(mode: NatMode, index: int) -> bool:
    """Whether the AZ at ``index`` gets a NAT gateway (and its Elastic IP)."""
    match mode:
        case NatMode.PER_AZ:
            return True
        case NatMode.SINGLE:
            return index == 0
        case NatMode.NONE:
            return False
        case _:
            assert_never(mode)


def _add_subnet(
    template: Template, kind: str, number: int, vpc: ec2.VPC, zone, cidr: str, route_table: ec2.RouteTable
) -> ec2.Subnet:
    """``PublicSubnet2`` or ``PrivateSubnet2`` with its route table association."""
    subnet = template.add_resource(
        ec2.Subnet(
            logical_id(kind, "Subnet", number),
            VpcId=Ref(vpc),
            AvailabilityZone=zone,
            CidrBlock=cidr,
            # Nothing gets a public address by default: NAT gateways have their Elastic IPs, and
            # without NAT only the tasks ask for one (AssignPublicIp on the ECS service).
            MapPublicIpOnLaunch=False,
            Tags=Tags(Name=Sub(f"${{AWS::StackName}}-{kind.lower()}-{number}")),
        )
    )
    template.add_resource(
        ec2.SubnetRouteTableAssociation(
            logical_id(kind, "Subnet", number, "RouteTableAssociation"),
            SubnetId=Ref(subnet),
            RouteTableId=Ref(route_table),
        )
    )
    return subnet


def _add_flow_logs(template: Template, config: StackConfig, key: kms.Key | None, vpc: ec2.VPC) -> None:
    """Accepted and rejected traffic of the whole VPC, to a log group of its own."""
    log_group = add_log_group(template, config, key, "FlowLogGroup")
    role = template.add_resource(
        policies.role(
            "FlowLogRole", policies.flow_logs_trust(), "deliver-flow-logs", *policies.write_flow_logs(log_group)
        )
    )
    template.add_resource(
        ec2.FlowLog(
            "FlowLog",
            ResourceId=Ref(vpc),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(log_group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
        )
    )
