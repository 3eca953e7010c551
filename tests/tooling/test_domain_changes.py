"""``ecsapi diff``'s domain warnings (generator/tooling/domain_changes.py): replacing the API's custom
domain name, its certificate, or removing it, between two real renders."""

from __future__ import annotations

import pytest

from generator import DomainSpec, StackConfig
from generator.tooling import changes

ZONE = "Z0123456789ABCDEFGHIJ"


@pytest.fixture(scope="module")
def on(render):
    def _on(name: str | None, zone: str | None = ZONE) -> dict:
        return render(StackConfig(domain=DomainSpec(name=name, hosted_zone_id=zone)) if name else StackConfig())

    return _on


def warnings(old: dict, new: dict) -> dict[str, changes.Warning_]:
    return {w.kind: w for w in changes.compare(old, new).warnings if w.kind.startswith(("domain", "certificate"))}


def test_the_schemas_say_a_new_name_replaces_the_domain_mapping_and_certificate():
    assert changes.create_only_properties("AWS::ApiGatewayV2::DomainName") == (("DomainName",),)
    assert changes.create_only_properties("AWS::ApiGatewayV2::ApiMapping") == (("DomainName",),)
    assert ("DomainName",) in changes.create_only_properties("AWS::CertificateManager::Certificate")


def test_a_new_domain_name_warns_that_callers_of_the_old_one_lose_the_api(on):
    old, new = on("api.example.com"), on("api2.example.com")
    result = changes.compare(old, new)
    assert {"ApiDomainName", "ApiCertificate", "ApiMapping"} <= set(result.replaced())
    found = warnings(old, new)
    domain = found["domain-replaced"]
    assert domain.certain and domain.logical_id == "ApiDomainName"
    assert "https://api.example.com" in domain.message and "api2.example.com" in domain.message
    assert "moves its alias record" in domain.message  # the stack owns the record in the zone
    assert found["certificate-replaced"].logical_id == "ApiCertificate"


def test_without_a_zone_the_warning_says_to_move_the_record_kept_elsewhere(on):
    found = warnings(on("api.example.com", zone=None), on("api2.example.com", zone=None))
    assert "ApiDomainTarget" in found["domain-replaced"].message
    assert "add its DNS validation record" in found["certificate-replaced"].message


def test_removing_the_domain_warns_and_an_unchanged_domain_does_not(on):
    assert warnings(on("api.example.com"), on(None))["domain-removed"].logical_id == "ApiDomainName"
    assert warnings(on("api.example.com"), on("api.example.com")) == {}
    assert warnings(on(None), on("api.example.com")) == {}  # adding one breaks no caller
