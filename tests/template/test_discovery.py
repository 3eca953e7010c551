"""Cloud Map: a private namespace in the VPC, SRV records per service, health from ECS."""

from __future__ import annotations

from tests.support.templates import resources


def test_namespace_is_private_dns_in_the_vpc_named_by_parameter(default_template):
    namespace = default_template["Resources"]["Namespace"]
    assert namespace["Type"] == "AWS::ServiceDiscovery::PrivateDnsNamespace"
    assert namespace["Properties"] == {"Name": {"Ref": "NamespaceName"}, "Vpc": {"Ref": "Vpc"}}
    assert default_template["Parameters"]["NamespaceName"]["Default"] == "service"


def test_each_service_publishes_srv_records_with_custom_health(default_template):
    services = resources(default_template, "AWS::ServiceDiscovery::Service")
    assert sorted(s["Properties"]["Name"] for s in services.values()) == ["foodstore", "petstore"]
    for service in services.values():
        props = service["Properties"]
        assert [r["Type"] for r in props["DnsConfig"]["DnsRecords"]] == ["SRV"]
        assert props["NamespaceId"] == {"Ref": "Namespace"}
        assert "HealthCheckCustomConfig" in props and "HealthCheckConfig" not in props
