"""``ecsapi preflight``'s [domain] checks (generator/tooling/domain_checks.py) against moto in server
mode over HTTP: the zone and the certificates are made with real boto3 calls (moto 5 serves Route 53
and ACM; an imported certificate is ISSUED, a requested one stays PENDING_VALIDATION), then
preflight reads them with read-only calls. Nothing here reaches AWS."""

from __future__ import annotations

import datetime

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from generator import DomainSpec, StackConfig
from generator.tooling import preflight as pf
from generator.tooling.aws import boto3_session
from generator.tooling.domain_checks import DomainOutcome
from tests.support.moto import moto_for_boto3

pytestmark = pytest.mark.integration

REGION = "eu-west-1"


@pytest.fixture
def moto(monkeypatch):
    with moto_for_boto3(monkeypatch) as url:
        yield url


def zone(name: str, private: bool = False) -> str:
    settings = {"HostedZoneConfig": {"PrivateZone": True}, "VPC": {"VPCRegion": REGION, "VPCId": vpc()}} if private else {}
    created = boto3.client("route53").create_hosted_zone(Name=name, CallerReference=name, **settings)
    return created["HostedZone"]["Id"].rsplit("/", 1)[1]


def vpc() -> str:
    return boto3.client("ec2", region_name=REGION).create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]


def issued_certificate(region: str, *names: str) -> str:
    """A self-signed certificate for ``names`` imported into ACM in ``region``: ISSUED."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return boto3.client("acm", region_name=region).import_certificate(
        Certificate=certificate.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()),
    )["CertificateArn"]


def report(domain: DomainSpec) -> pf.Report:
    return pf.preflight(StackConfig(domain=domain), boto3_session(REGION))


def test_a_zone_for_the_names_and_issued_certificates_that_cover_them_pass(moto):
    zone_id = zone("example.com")
    found = report(DomainSpec(
        name="api.example.com", hosted_zone_id=zone_id,
        certificate_arn=issued_certificate(REGION, "api.example.com"),
        page_name="try.example.com", page_certificate_arn=issued_certificate("us-east-1", "*.example.com"),
    ))
    assert [check.outcome for check in found.domain] == [DomainOutcome.OK] * 3
    assert "FAILS" not in pf.format_report(found)


def test_a_zone_that_cannot_hold_the_name_fails_the_launch(moto):
    found = report(DomainSpec(name="api.example.org", hosted_zone_id=zone("example.com")))
    [check] = found.domain
    assert check.outcome is DomainOutcome.FAILS and "example.com" in check.note and "api.example.org" in check.note
    assert found.exit_status() == pf.EXIT_SHORT
    assert "FAILS" in pf.format_report(found)


def test_a_missing_zone_and_a_private_zone_fail(moto):
    [missing] = report(DomainSpec(name="api.example.com", hosted_zone_id="Z0000000000NOSUCHZONE")).domain
    assert missing.outcome is DomainOutcome.FAILS and "no such hosted zone" in missing.note
    [private] = report(DomainSpec(name="api.example.com", hosted_zone_id=zone("example.com", private=True))).domain
    assert private.outcome is DomainOutcome.FAILS and "private" in private.note


def test_a_certificate_in_another_region_not_issued_or_for_another_name_fails(moto):
    elsewhere = issued_certificate("us-west-2", "api.example.com")
    [check] = report(DomainSpec(name="api.example.com", certificate_arn=elsewhere)).domain
    assert check.outcome is DomainOutcome.FAILS and "us-west-2" in check.note and REGION in check.note
    pending = boto3.client("acm", region_name=REGION).request_certificate(
        DomainName="api.example.com", ValidationMethod="DNS")["CertificateArn"]
    [check] = report(DomainSpec(name="api.example.com", certificate_arn=pending)).domain
    assert check.outcome is DomainOutcome.FAILS and "PENDING_VALIDATION" in check.note
    other = issued_certificate(REGION, "www.example.com")
    [check] = report(DomainSpec(name="api.example.com", certificate_arn=other)).domain
    assert check.outcome is DomainOutcome.FAILS and "www.example.com" in check.note
    gone = other[:-12] + "000000000000"
    [check] = report(DomainSpec(name="api.example.com", certificate_arn=gone)).domain
    assert check.outcome is DomainOutcome.FAILS and "no certificate" in check.note


def test_a_stack_without_a_domain_runs_no_domain_check(moto):
    assert pf.preflight(StackConfig(), boto3_session(REGION)).domain == ()


def test_custom_domain_names_in_use_are_counted_against_the_quota_only_for_a_stack_with_a_domain(moto):
    domains = boto3.client("apigatewayv2", region_name=REGION)
    for number in range(3):
        domains.create_domain_name(DomainName=f"other{number}.example.net")
    found = {check.quota.key: check for check in report(DomainSpec(name="api.example.com")).checks}
    check = found["custom-domain-names"]
    assert (check.in_use, check.needs, check.limit, check.outcome) == (3, 1, 120, pf.Outcome.OK)
    unverifiable = report(DomainSpec(name="api.example.com")).unverifiable
    assert any("unique in a Region across all AWS accounts" in item.what for item in unverifiable)
    without = {c.quota.key: c for c in pf.preflight(StackConfig(), boto3_session(REGION)).checks}
    assert without["custom-domain-names"].outcome is pf.Outcome.NOT_NEEDED
