"""Cloud Map: a private DNS namespace in the VPC and one SRV-record discovery service per service."""

from __future__ import annotations

from troposphere import Parameter, Ref, Template, servicediscovery

from generator.model.config import ServiceSpec
from generator.model.constants import SRV_RECORD_TTL_SECONDS
from generator.model.records import dataclass
from generator.template.names import logical_id
from generator.template.network import Network
from generator.template.parameters import ParameterInterface


@dataclass(frozen=True)
class Discovery:
    """The Cloud Map namespace the services register in."""

    namespace: servicediscovery.PrivateDnsNamespace


def add_namespace(template: Template, interface: ParameterInterface, network: Network) -> Discovery:
    name = interface.add(
        template,
        "Service discovery",
        "Cloud Map namespace (private DNS name)",
        Parameter(
            "NamespaceName",
            Type="String",
            Default="service",
            AllowedPattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
            ConstraintDescription="a DNS name: lower-case labels of letters, digits and hyphens",
            Description="Private DNS namespace in which the services register (e.g. foodstore.service).",
        ),
    )
    namespace = template.add_resource(
        servicediscovery.PrivateDnsNamespace("Namespace", Name=Ref(name), Vpc=Ref(network.vpc))
    )
    return Discovery(namespace=namespace)


def add_discovery_service(
    template: Template, discovery: Discovery, service: ServiceSpec
) -> servicediscovery.Service:
    """SRV records (API Gateway needs the port) whose health ECS reports from its task health."""
    return template.add_resource(
        servicediscovery.Service(
            logical_id(service.name, "DiscoveryService"),
            Name=service.name,
            NamespaceId=Ref(discovery.namespace),
            DnsConfig=servicediscovery.DnsConfig(
                DnsRecords=[servicediscovery.DnsRecord(Type="SRV", TTL=SRV_RECORD_TTL_SECONDS)],
                RoutingPolicy="MULTIVALUE",
            ),
            # Custom health checks are what ECS drives; AWS always applies a FailureThreshold of 1
            # whatever is set, so the template states the value that takes effect.
            HealthCheckCustomConfig=servicediscovery.HealthCheckCustomConfig(FailureThreshold=1),
        )
    )
