"""The VPC: public and private subnets per AZ, internet and NAT gateways, flow logs (the DynamoDB
gateway endpoint is storage.py's, beside the tables it serves)."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub, Tags, Template, ec2, kms

from generator.model.config import NatMode, StackConfig
from generator.template import iam as policies
from generator.template.logs import add_log_group
from generator.template.names import logical_id
from generator.template.zones import Zones


@dataclass(frozen=True)
class Network:
    vpc: ec2.VPC
    private_subnets: tuple[ec2.Subnet, ...]
    private_route_tables: tuple[ec2.RouteTable, ...]
    private_default_routes: tuple[ec2.Route, ...]
    """Tasks need these routes (through NAT) before they can pull images; services depend on them."""


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
    template.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attachment.title,
            RouteTableId=Ref(public_table),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(gateway),
        )
    )

    public_cidrs, private_cidrs = config.subnet_cidrs()
    private_subnets, private_tables, private_routes = [], [], []
    nat_gateways: list[ec2.NatGateway] = []
    for index in range(config.az_count):
        number = index + 1
        # Not GetAZs: its first names may be AZs without VPC link or Fargate support in this account.
        zone = zones.name(index)
        public = _add_subnet(template, "Public", number, vpc, zone, public_cidrs[index], public_table)
        if config.nat_mode is NatMode.PER_AZ or index == 0:
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
        route = template.add_resource(
            ec2.Route(
                logical_id("PrivateDefaultRoute", number),
                RouteTableId=Ref(table),
                DestinationCidrBlock="0.0.0.0/0",
                NatGatewayId=Ref(nat_gateways[-1]),
            )
        )
        private = _add_subnet(template, "Private", number, vpc, zone, private_cidrs[index], table)
        private_subnets.append(private)
        private_tables.append(table)
        private_routes.append(route)

    if config.vpc_flow_logs:
        _add_flow_logs(template, config, key, vpc)
    return Network(
        vpc=vpc,
        private_subnets=tuple(private_subnets),
        private_route_tables=tuple(private_tables),
        private_default_routes=tuple(private_routes),
    )


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
            # Public subnets hold only NAT gateways: nothing gets a public address by default.
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
