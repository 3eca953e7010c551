"""``ecsapi preflight``'s checks of the ``[domain]`` table: what the account can tell before a launch
that would otherwise fail (or wait) minutes in. Read-only calls with the caller's credentials:

- the hosted zone exists, is public, and its name is a suffix of the API's name and the page's;
- each given certificate exists, is ISSUED, covers its name, and is in the Region it must be in
  (the stack's for the API, us-east-1 for CloudFront's page certificate).

generator/tooling/preflight.py runs :func:`check_domain` and prints :func:`domain_report_lines`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from generator.model.domain import CLOUDFRONT_CERTIFICATE_REGION, DomainSpec, certificate_region, covers, zone_holds

# ACM's answer for a certificate that can be used ("CertificateDetail", Status: PENDING_VALIDATION |
# ISSUED | INACTIVE | EXPIRED | VALIDATION_TIMED_OUT | REVOKED | FAILED; AWS Certificate Manager API Reference).
ISSUED = "ISSUED"


class DomainOutcome(enum.Enum):
    OK = "ok"
    FAILS = "FAILS"
    UNKNOWN = "not checked"


@dataclass(frozen=True)
class DomainCheck:
    what: str
    outcome: DomainOutcome
    note: str = ""


# (service, Region) -> a boto3 client with bounded waits (preflight's ``client``).
ClientFor = Callable[[str, str], object]


def check_domain(domain: DomainSpec | None, region: str, client_for: ClientFor) -> tuple[DomainCheck, ...]:
    """Every check of ``domain`` for a stack in ``region`` (none without a domain)."""
    if domain is None:
        return ()
    checks = []
    if domain.hosted_zone_id is not None:
        checks.append(_check_zone(client_for, domain, region))
    if domain.certificate_arn is not None:
        checks.append(_check_certificate(client_for, "API certificate", domain.certificate_arn, domain.name, region))
    if domain.page_certificate_arn is not None:
        checks.append(_check_certificate(client_for, "page certificate", domain.page_certificate_arn, domain.page_name,
                                         CLOUDFRONT_CERTIFICATE_REGION))
    return tuple(checks)


def _why(error: Exception) -> str:
    response = getattr(error, "response", None)
    details = response.get("Error", {}) if isinstance(response, dict) else {}
    return f"{details.get('Code', '')}: {details.get('Message', '')}".strip(": ") or str(error)


def _check_zone(client_for: ClientFor, domain: DomainSpec, region: str) -> DomainCheck:
    from botocore.exceptions import BotoCoreError, ClientError

    what = f"hosted zone {domain.hosted_zone_id}"
    try:
        # Route 53 is global: any Region's endpoint answers for every zone.
        zone = client_for("route53", region).get_hosted_zone(Id=domain.hosted_zone_id)["HostedZone"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchHostedZone":
            return DomainCheck(what, DomainOutcome.FAILS, "no such hosted zone in this account: check hosted_zone_id")
        return DomainCheck(what, DomainOutcome.UNKNOWN, f"not read: {_why(error)}")
    except BotoCoreError as error:
        return DomainCheck(what, DomainOutcome.UNKNOWN, f"not read: {_why(error)}")
    zone_name = zone["Name"].rstrip(".")
    if zone.get("Config", {}).get("PrivateZone"):
        return DomainCheck(what, DomainOutcome.FAILS,
                           f"{zone_name} is a private zone: nothing outside its VPCs would resolve the names; "
                           "give a public zone")
    for name in (domain.name, domain.page_name):
        if name is not None and not zone_holds(zone_name, name):
            return DomainCheck(what, DomainOutcome.FAILS,
                               f"the zone is {zone_name}, which cannot hold a record for {name}: give the zone of {name}")
    return DomainCheck(what, DomainOutcome.OK, f"{zone_name}")


def _check_certificate(client_for: ClientFor, what: str, arn: str, name: str, region: str) -> DomainCheck:
    from botocore.exceptions import BotoCoreError, ClientError

    where = certificate_region(arn)
    if where != region:
        return DomainCheck(what, DomainOutcome.FAILS,
                           f"{arn} is in {where}, but it must be in {region}"
                           + (" (CloudFront's)" if region == CLOUDFRONT_CERTIFICATE_REGION and what.startswith("page")
                              else " (the stack's Region: a Regional custom domain takes its certificate from there)"))
    try:
        detail = client_for("acm", where).describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return DomainCheck(what, DomainOutcome.FAILS, f"no certificate {arn} in this account")
        return DomainCheck(what, DomainOutcome.UNKNOWN, f"not read: {_why(error)}")
    except BotoCoreError as error:
        return DomainCheck(what, DomainOutcome.UNKNOWN, f"not read: {_why(error)}")
    if detail.get("Status") != ISSUED:
        return DomainCheck(what, DomainOutcome.FAILS,
                           f"its status is {detail.get('Status')}, not {ISSUED}: finish its validation, or give another")
    names = [detail.get("DomainName", ""), *detail.get("SubjectAlternativeNames", [])]
    if not covers(names, name):
        return DomainCheck(what, DomainOutcome.FAILS,
                           f"it covers {', '.join(sorted(set(names)))}, not {name}: give a certificate for {name}")
    return DomainCheck(what, DomainOutcome.OK, f"issued, covers {name}, in {where}")


def domain_report_lines(checks: tuple[DomainCheck, ...]) -> list[str]:
    """The domain section of the preflight report (nothing without checks)."""
    if not checks:
        return []
    lines = ["", "Domain ([domain] table):"]
    lines += [f"  - {check.what}: {check.outcome.value}" + (f" ({check.note})" if check.note else "")
              for check in checks]
    return lines
