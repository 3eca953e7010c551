"""``ecsapi diff``'s warnings about the API's custom domain: what replacing or removing it does to
the people calling the API (generator/template/domain.py builds it).

Kept apart from generator/tooling/changes.py, which calls :func:`domain_warnings` once.

``AWS::ApiGatewayV2::DomainName`` has one create-only property, ``DomainName`` (its resource schema),
so a replacement is always a new name: the old name stops answering when CloudFormation deletes the
old resource at the end of the update, and the new name needs its certificate and a DNS record
first. A record the stack writes (``hosted_zone_id``) follows; one kept at another DNS provider
still points at the old Regional target, which is deleted with the old name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types only: changes.py imports this module
    from generator.tooling.changes import Changes, Warning_

DOMAIN_NAME = "AWS::ApiGatewayV2::DomainName"
CERTIFICATE = "AWS::CertificateManager::Certificate"


def _name(resource: dict) -> object:
    return resource.get("Properties", {}).get("DomainName")


def _has_records(resources: dict) -> bool:
    return any(r["Type"] == "AWS::Route53::RecordSet" for r in resources.values())


def domain_warnings(old_resources: dict, new_resources: dict, changes: Changes, warning: type[Warning_]) -> list[Warning_]:
    """Warnings for a custom domain (or its certificate) that the update replaces or removes."""
    out = []
    for change in changes.changed:
        if change.replacement == "no" or change.type not in (DOMAIN_NAME, CERTIFICATE):
            continue
        certain = change.replacement == "yes"
        will = "will be" if certain else "may be"
        old, new = _name(old_resources[change.logical_id]), _name(new_resources[change.logical_id])
        if change.type == DOMAIN_NAME:
            dns = ("the stack moves its alias record to the new name" if _has_records(new_resources) else
                   f"no record of the stack's follows: point {new} at the new ApiDomainTarget output yourself, and "
                   f"remove the record of {old}, whose target is deleted")
            out.append(warning(
                "domain-replaced", change.logical_id, certain,
                f"the API's custom domain {will} REPLACED ({old} -> {new}): callers of https://{old} get no answer "
                f"from the API once the old domain name is deleted at the end of the update; {dns}"))
        else:
            zone = new_resources[change.logical_id].get("Properties", {}).get("DomainValidationOptions")
            validation = ("CloudFormation writes its validation record into the hosted zone" if zone else
                          "with no hosted zone, until you add its DNS validation record (the certificate's stack "
                          "event shows it)")
            out.append(warning(
                "certificate-replaced", change.logical_id, certain,
                f"the API's certificate {will} REPLACED ({old} -> {new}): the update waits until ACM issues the new "
                f"one, {validation}"))
    for name, resource_type in changes.removed:
        if resource_type == DOMAIN_NAME:
            old = _name(old_resources[name])
            out.append(warning(
                "domain-removed", name, True,
                f"the API's custom domain {old} is REMOVED: callers of https://{old} get no answer from the API; "
                "the API answers at its execute-api endpoint again (the ApiUrl output)"))
    return out
