"""The API on a domain of the user's own: a Regional API Gateway custom domain name mapped to the
stage, its certificate (given, or requested and validated by DNS), and the alias records in the
user's hosted zone, for the API and for the test page's own name.

The stack never creates a hosted zone: it writes records into the one ``hosted_zone_id`` names.
What happens when these resources are replaced (their create-only properties, from the resource
schemas cfn-lint ships): an ``AWS::ApiGatewayV2::DomainName`` is replaced when its ``DomainName``
changes, an ``ApiMapping`` when its ``DomainName`` does, a certificate when its ``DomainName`` or
validation options do, a record when its zone does. A replaced domain name is a new one: callers of
the old name lose the API when CloudFormation deletes it, and a record kept outside the stack
still points at the old target; ``ecsapi diff`` warns (generator/tooling/domain_changes.py).
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Template, cloudfront, route53
from troposphere import apigatewayv2 as apigw
from troposphere import certificatemanager as acm

from generator.model.domain import DomainSpec
from generator.model.records import dataclass
from generator.template.api import Api

# TLS 1.2 at least ("SecurityPolicy", AWS::ApiGatewayV2::DomainName DomainNameConfiguration: TLS_1_0
# or TLS_1_2); TLS_1_2 is also what multi-level API mapping keys need.
SECURITY_POLICY = "TLS_1_2"
ENDPOINT_TYPE = "REGIONAL"
# The alias target's zone for every CloudFront distribution ("AliasTarget", HostedZoneId, Amazon
# Route 53 API Reference: "Specify Z2FDTNDATAQYW2" for a CloudFront distribution).
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"
# An HTTP API without IpAddressType answers over IPv4 only ("IpAddressType", AWS::ApiGatewayV2::Api:
# ipv4 or dualstack); an AAAA alias to it would resolve to nothing. The page's distribution has
# IPv6 on (generator/template/site.py), so the page gets both.
DUALSTACK = "dualstack"
CERTIFICATE_REGION_RULE = "CertificateInStackRegion"


@dataclass(frozen=True)
class Domain:
    """The API's custom domain: its name, mapping, certificate and alias records."""

    spec: DomainSpec
    domain_name: apigw.DomainName
    mapping: apigw.ApiMapping
    certificate: acm.Certificate | None
    """The certificate the stack requested; None when ``certificate_arn`` names one."""
    records: tuple[route53.RecordSetType, ...]
    """The alias records the stack writes into ``hosted_zone_id`` (none without it)."""

    @property
    def target(self) -> GetAtt:
        """The custom domain's Regional target name, where ``spec.name`` must point."""
        return GetAtt(self.domain_name, "RegionalDomainName")


def record_types(ip_address_type: str | None) -> tuple[str, ...]:
    """The alias record types a name needs to reach a target answering on ``ip_address_type``."""
    return ("A", "AAAA") if ip_address_type == DUALSTACK else ("A",)


def add_domain(template: Template, spec: DomainSpec, api: Api, page: cloudfront.Distribution | None = None) -> Domain:
    """The custom domain of ``api`` on ``spec.name``, its certificate and records; with ``page``
    (the test page's distribution, which already carries ``spec.page_name``), the page's records."""
    certificate = None
    if spec.certificate_arn is None:
        certificate = _add_certificate(template, spec)
        certificate_arn = Ref(certificate)
    else:
        certificate_arn = spec.certificate_arn
        _add_region_rule(template, spec)
    ip_address_type = getattr(api.api, "IpAddressType", None)
    domain_name = template.add_resource(
        apigw.DomainName(
            "ApiDomainName",
            DomainName=spec.name,
            DomainNameConfigurations=[
                apigw.DomainNameConfiguration(
                    CertificateArn=certificate_arn,
                    EndpointType=ENDPOINT_TYPE,
                    SecurityPolicy=SECURITY_POLICY,
                    **({"IpAddressType": ip_address_type} if ip_address_type else {}),
                )
            ],
        )
    )
    mapping = template.add_resource(
        apigw.ApiMapping(
            "ApiMapping",
            ApiId=Ref(api.api),
            DomainName=Ref(domain_name),
            Stage=Ref(api.stage),
            **({"ApiMappingKey": spec.base_path} if spec.base_path else {}),
        )
    )
    records: list[route53.RecordSetType] = []
    if spec.hosted_zone_id is not None:
        records += [
            _alias(template, "ApiDomain", kind, spec.hosted_zone_id, spec.name,
                   GetAtt(domain_name, "RegionalDomainName"), GetAtt(domain_name, "RegionalHostedZoneId"))
            for kind in record_types(ip_address_type)
        ]
        if page is not None and spec.page_name is not None:
            records += [
                _alias(template, "PageDomain", kind, spec.hosted_zone_id, spec.page_name,
                       GetAtt(page, "DomainName"), CLOUDFRONT_HOSTED_ZONE_ID)
                for kind in record_types(DUALSTACK)
            ]
    return Domain(spec=spec, domain_name=domain_name, mapping=mapping, certificate=certificate, records=tuple(records))


def _add_certificate(template: Template, spec: DomainSpec) -> acm.Certificate:
    """A public certificate for ``spec.name``, validated by DNS: in the hosted zone when there is
    one (CloudFormation writes the record), else by a record the user adds while the create waits."""
    validation = (
        {"DomainValidationOptions": [acm.DomainValidationOption(DomainName=spec.name, HostedZoneId=spec.hosted_zone_id)]}
        if spec.hosted_zone_id
        else {}
    )
    return template.add_resource(
        acm.Certificate("ApiCertificate", DomainName=spec.name, ValidationMethod="DNS", **validation)
    )


def _add_region_rule(template: Template, spec: DomainSpec) -> None:
    """The template is Region-agnostic, but a Regional custom domain takes a certificate from its
    own Region only: a rule refuses the launch anywhere else, before any resource is created."""
    region = spec.certificate_region
    template.add_rule(
        CERTIFICATE_REGION_RULE,
        {
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [{"Ref": "AWS::Region"}, region]},
                    "AssertDescription": (
                        f"domain.certificate_arn is in {region}: API Gateway takes a Regional custom domain's "
                        f"certificate from the stack's own Region, so launch this template in {region}, or give "
                        "a certificate of this Region"
                    ),
                }
            ]
        },
    )


def _alias(template: Template, prefix: str, kind: str, zone: str, name: str, target, target_zone) -> route53.RecordSetType:
    return template.add_resource(
        route53.RecordSetType(
            f"{prefix}{kind.capitalize()}Record",
            HostedZoneId=zone,
            Name=name,
            Type=kind,
            AliasTarget=route53.AliasTarget(DNSName=target, HostedZoneId=target_zone, EvaluateTargetHealth=False),
        )
    )
