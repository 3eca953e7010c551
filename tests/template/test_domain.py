"""The API on a domain of its own ([domain], generator/model/domain.py and generator/template/domain.py):
each refusal, the resources of each shape (with and without a hosted zone, with and without an
existing certificate, the page on its own name), and the URL followed into every place that names
it: the outputs, config.json, CORS, the page's CSP, the OpenAPI servers, describe and make local."""

from __future__ import annotations

import json
import re

import pytest

from ecsapi_local.template_reader import read_template
from generator import ConfigError, DomainSpec, StackConfig, build_template
from generator.model.config_file import config_from_mapping, load_config
from generator.model.domain import covers, zone_holds
from generator.model.limits import Usage
from generator.template.domain import CLOUDFRONT_HOSTED_ZONE_ID, SECURITY_POLICY
from generator.template.openapi import build_openapi
from generator.tooling.describe import describe, domain_lines, idle_monthly_cost
from generator.tooling.render import template_json
from tests.support.processes import REPO
from tests.support.templates import (
    API_CERTIFICATE,
    DOMAIN_NAME,
    DOMAIN_SHAPES,
    DOMAIN_ZONE,
    PAGE_CERTIFICATE,
    VARIANTS,
    cfn_lint,
    resolve_sub,
    resources,
)

# DOMAIN_SHAPES: the four shapes the issue names, each on its own, and the page on its own name (their
# checkov scan is tests/template/test_security.py's, with every other template).
VALUES = {  # what CloudFormation would substitute into Fn::Sub
    "AWS::Region": "eu-west-1", "HttpApi.ApiEndpoint": "https://a1b2c3.execute-api.eu-west-1.amazonaws.com",
    "UserPool": "eu-west-1_AbCdEfGhI", "UserPoolClient": "4example0client0id0abcdefgh", "AWS::URLSuffix": "amazonaws.com",
    "SiteDistribution.DomainName": "d111111abcdef8.cloudfront.net",
}


def domain_config(spec: DomainSpec, **settings) -> StackConfig:
    return StackConfig(domain=spec, **settings)


# --- refusals ------------------------------------------------------------------------------------

REFUSED = [
    ("no-name", {}, "domain.name"),
    ("upper-case", {"name": "API.example.com"}, "domain.name"),
    ("underscore", {"name": "my_api.example.com"}, "domain.name"),
    ("one-label", {"name": "localhost"}, "domain.name"),
    ("wildcard", {"name": "*.example.com"}, "domain.name"),
    ("trailing-dot", {"name": "api.example.com."}, "domain.name"),
    ("zone-with-prefix", {"name": DOMAIN_NAME, "hosted_zone_id": f"/hostedzone/{DOMAIN_ZONE}"}, "domain.hosted_zone_id"),
    ("certificate-not-acm", {"name": DOMAIN_NAME, "certificate_arn": "arn:aws:iam::123456789012:server-certificate/x"},
     "domain.certificate_arn"),
    ("base-path-slash", {"name": DOMAIN_NAME, "base_path": "/v1"}, "domain.base_path"),
    ("base-path-space", {"name": DOMAIN_NAME, "base_path": "v 1"}, "domain.base_path"),
    ("disable-not-bool", {"name": DOMAIN_NAME, "disable_execute_api_endpoint": "yes"}, "domain.disable_execute_api_endpoint"),
    ("disable-without-domain", {"disable_execute_api_endpoint": True}, "domain.disable_execute_api_endpoint"),
    ("page-without-certificate", {"name": DOMAIN_NAME, "page_name": "try.example.com"}, "domain.page_certificate_arn"),
    ("page-certificate-without-page", {"name": DOMAIN_NAME, "page_certificate_arn": PAGE_CERTIFICATE}, "domain.page_certificate_arn"),
    ("page-certificate-not-us-east-1", {"name": DOMAIN_NAME, "page_name": "try.example.com", "page_certificate_arn": API_CERTIFICATE},
     "domain.page_certificate_arn"),
    ("page-on-the-apis-name", {"name": DOMAIN_NAME, "page_name": DOMAIN_NAME, "page_certificate_arn": PAGE_CERTIFICATE}, "domain.page_name"),
    ("unknown-key", {"name": DOMAIN_NAME, "zone": DOMAIN_ZONE}, "domain.zone"),
]


@pytest.mark.parametrize(("table", "field"), [(t, f) for _, t, f in REFUSED], ids=[i for i, _, _ in REFUSED])
def test_a_bad_domain_table_is_refused_naming_the_field(table, field):
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"domain": table})
    assert caught.value.field == field


def test_a_page_certificate_outside_us_east_1_is_refused_because_cloudfront_reads_only_there():
    with pytest.raises(ConfigError) as caught:
        DomainSpec(name=DOMAIN_NAME, page_name="try.example.com", page_certificate_arn=API_CERTIFICATE)
    assert "us-east-1" in caught.value.allowed and "eu-west-1" in caught.value.allowed


def test_disabling_the_default_endpoint_without_a_domain_name_says_the_page_and_make_local_need_it():
    with pytest.raises(ConfigError) as caught:
        DomainSpec(name=None, disable_execute_api_endpoint=True)
    assert "test page" in caught.value.allowed and "make local" in caught.value.allowed


def test_the_page_on_its_own_name_is_refused_when_the_stack_serves_no_page():
    with pytest.raises(ConfigError) as caught:
        StackConfig(domain=DOMAIN_SHAPES["page-on-its-own-name"], test_page=False)
    assert caught.value.field == "domain.page_name"


def test_the_pages_own_origin_is_not_listed_twice_for_cors():
    with pytest.raises(ConfigError) as caught:
        StackConfig(domain=DOMAIN_SHAPES["page-on-its-own-name"], cors_origins=("https://try.example.com",))
    assert caught.value.field == "cors_origins"


def test_a_domain_that_is_not_a_table_is_refused():
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"domain": "api.example.com"})
    assert caught.value.field == "domain"


def test_the_shipped_domain_variant_loads_its_table():
    config = VARIANTS["domain"]
    assert (config.domain.name, config.domain.hosted_zone_id, config.domain.base_path) == (DOMAIN_NAME, DOMAIN_ZONE, "v1")
    assert config.domain.page_name == "try.example.com"


def test_certificate_names_cover_exact_names_and_one_wildcard_level():
    assert covers(["api.example.com"], "api.example.com")
    assert covers(["example.com", "*.example.com"], "api.example.com")
    assert not covers(["*.example.com"], "a.b.example.com")
    assert not covers(["*.example.com"], "example.com")
    assert zone_holds("example.com.", "api.example.com") and zone_holds("example.com.", "example.com")
    assert not zone_holds("example.com.", "api.badexample.com")


# --- the resources of each shape -----------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(render) -> dict[str, dict]:
    return {name: render(domain_config(spec)) for name, spec in DOMAIN_SHAPES.items()}


def test_every_shape_has_a_regional_tls_1_2_domain_mapped_to_the_stage(rendered):
    for name, template in rendered.items():
        [domain] = resources(template, "AWS::ApiGatewayV2::DomainName").values()
        assert domain["Properties"]["DomainName"] == DOMAIN_NAME, name
        [configuration] = domain["Properties"]["DomainNameConfigurations"]
        assert (configuration["EndpointType"], configuration["SecurityPolicy"]) == ("REGIONAL", SECURITY_POLICY)
        [mapping] = resources(template, "AWS::ApiGatewayV2::ApiMapping").values()
        assert mapping["Properties"]["ApiId"] == {"Ref": "HttpApi"}
        assert mapping["Properties"]["Stage"] == {"Ref": "ApiStage"}
        assert mapping["Properties"]["DomainName"] == {"Ref": "ApiDomainName"}
    assert rendered["page-on-its-own-name"]["Resources"]["ApiMapping"]["Properties"]["ApiMappingKey"] == "v1"
    assert "ApiMappingKey" not in rendered["zone-new-certificate"]["Resources"]["ApiMapping"]["Properties"]


def test_a_new_certificate_is_validated_by_dns_in_the_zone_or_waits_for_a_record_without_one(rendered):
    with_zone = rendered["zone-new-certificate"]["Resources"]
    assert with_zone["ApiCertificate"]["Properties"] == {
        "DomainName": DOMAIN_NAME, "ValidationMethod": "DNS",
        "DomainValidationOptions": [{"DomainName": DOMAIN_NAME, "HostedZoneId": DOMAIN_ZONE}],
    }
    [configuration] = with_zone["ApiDomainName"]["Properties"]["DomainNameConfigurations"]
    assert configuration["CertificateArn"] == {"Ref": "ApiCertificate"}
    without = rendered["no-zone-new-certificate"]["Resources"]
    assert without["ApiCertificate"]["Properties"] == {"DomainName": DOMAIN_NAME, "ValidationMethod": "DNS"}
    assert DOMAIN_SHAPES["no-zone-new-certificate"].validation_wait is not None
    assert DOMAIN_SHAPES["zone-new-certificate"].validation_wait is None


def test_an_existing_certificate_is_used_as_given_and_a_rule_holds_the_stack_to_its_region(rendered):
    for name in ("zone-existing-certificate", "no-zone-existing-certificate"):
        template = rendered[name]
        assert resources(template, "AWS::CertificateManager::Certificate") == {}
        [configuration] = template["Resources"]["ApiDomainName"]["Properties"]["DomainNameConfigurations"]
        assert configuration["CertificateArn"] == API_CERTIFICATE
        [assertion] = template["Rules"]["CertificateInStackRegion"]["Assertions"]
        assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}
    assert "CertificateInStackRegion" not in rendered["zone-new-certificate"]["Rules"]


def test_with_a_zone_the_api_gets_an_ipv4_alias_to_its_regional_target_and_without_one_no_record(rendered):
    records = resources(rendered["zone-new-certificate"], "AWS::Route53::RecordSet")
    # The HTTP API has no IpAddressType, so it answers on IPv4 only: an A record, no AAAA.
    assert list(records) == ["ApiDomainARecord"]
    record = records["ApiDomainARecord"]["Properties"]
    assert (record["HostedZoneId"], record["Name"], record["Type"]) == (DOMAIN_ZONE, DOMAIN_NAME, "A")
    assert record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]}
    assert record["AliasTarget"]["HostedZoneId"] == {"Fn::GetAtt": ["ApiDomainName", "RegionalHostedZoneId"]}
    assert "IpAddressType" not in rendered["zone-new-certificate"]["Resources"]["HttpApi"]["Properties"]
    for name in ("no-zone-new-certificate", "no-zone-existing-certificate"):
        assert resources(rendered[name], "AWS::Route53::RecordSet") == {}
        assert rendered[name]["Outputs"]["ApiDomainTarget"]["Value"] == {
            "Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]}


def test_the_page_on_its_own_name_is_a_cloudfront_alias_with_its_certificate_and_records(rendered):
    template = rendered["page-on-its-own-name"]
    distribution = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert distribution["Aliases"] == ["try.example.com"]
    assert distribution["ViewerCertificate"] == {
        "AcmCertificateArn": PAGE_CERTIFICATE, "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"}
    # With a certificate of its own the default-certificate skip no longer applies.
    skips = template["Resources"]["SiteDistribution"]["Metadata"]["checkov"]["skip"]
    assert "CKV_AWS_174" not in {skip["id"] for skip in skips}
    for kind in ("A", "AAAA"):  # the distribution has IPv6 on
        record = template["Resources"][f"PageDomain{kind.capitalize()}Record"]["Properties"]
        assert (record["Name"], record["Type"], record["HostedZoneId"]) == ("try.example.com", kind, DOMAIN_ZONE)
        assert record["AliasTarget"] == {"DNSName": {"Fn::GetAtt": ["SiteDistribution", "DomainName"]},
                                         "HostedZoneId": CLOUDFRONT_HOSTED_ZONE_ID, "EvaluateTargetHealth": False}
    assert template["Outputs"]["APITestPage"]["Value"] == "https://try.example.com/"


def test_disabling_the_default_endpoint_sets_it_on_the_api_only_when_asked(rendered):
    assert rendered["no-zone-existing-certificate"]["Resources"]["HttpApi"]["Properties"]["DisableExecuteApiEndpoint"]
    assert "ApiEndpoint" not in rendered["no-zone-existing-certificate"]["Outputs"]
    assert "DisableExecuteApiEndpoint" not in rendered["zone-new-certificate"]["Resources"]["HttpApi"]["Properties"]
    assert rendered["zone-new-certificate"]["Outputs"]["ApiEndpoint"]["Value"] == {
        "Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}


def test_the_stack_tags_reach_the_domain_name_as_a_mapping(render):
    template = render(StackConfig(domain=DOMAIN_SHAPES["zone-new-certificate"], tags={"team": "api"}))
    assert template["Resources"]["ApiDomainName"]["Properties"]["Tags"] == {"team": "api"}


def test_a_stack_without_a_domain_has_none_of_it(default_template):
    for kind in ("AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping",
                 "AWS::CertificateManager::Certificate", "AWS::Route53::RecordSet"):
        assert resources(default_template, kind) == {}
    assert "CertificateInStackRegion" not in default_template["Rules"]
    assert "ApiDomainTarget" not in default_template["Outputs"]


# --- the URL, followed into everything that names it ---------------------------------------------

def page_config(template: dict) -> dict:
    return json.loads(resolve_sub(template["Resources"]["SitePage"]["Properties"]["Config"], VALUES))


def csp_connect_sources(template: dict) -> list[str]:
    policy = template["Resources"]["SiteHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    text = resolve_sub(policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"], VALUES)
    [directive] = [d.strip() for d in text.split(";") if d.strip().startswith("connect-src ")]
    return directive.split()[1:]


@pytest.mark.parametrize("shape", sorted(DOMAIN_SHAPES))
def test_the_domain_url_is_in_every_output_config_json_csp_and_openapi_server(shape, rendered, release):
    spec, template = DOMAIN_SHAPES[shape], rendered[shape]
    url = spec.api_url
    outputs = template["Outputs"]
    assert outputs["ApiUrl"]["Value"] == url
    for service in StackConfig().services:
        assert outputs[f"{service.name.capitalize()}Url"]["Value"] == url + service.path_prefix
    config = page_config(template)
    assert (config["apiUrl"], config["apiDomain"]) == (url, DOMAIN_NAME)
    sources = csp_connect_sources(template)
    assert f"https://{DOMAIN_NAME}" in sources
    # The execute-api endpoints stay admitted exactly while they answer.
    assert ("https://*.execute-api.eu-west-1.amazonaws.com" in sources) is (not spec.disable_execute_api_endpoint)
    servers = [server["url"] for server in build_openapi(domain_config(spec), release)["servers"]]
    assert servers[0] == url
    assert len(servers) == (1 if spec.disable_execute_api_endpoint else 2)


def test_cors_admits_the_pages_own_name_when_it_has_one_and_the_distribution_otherwise(rendered):
    cors = rendered["page-on-its-own-name"]["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["https://try.example.com"]
    cors = rendered["zone-new-certificate"]["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${SiteDistribution.DomainName}"}]


def test_without_a_domain_the_urls_stay_on_the_execute_api_endpoint(default_template, release):
    assert default_template["Outputs"]["ApiUrl"]["Value"] == {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}
    config = page_config(default_template)
    assert config["apiUrl"] == VALUES["HttpApi.ApiEndpoint"] and "apiDomain" not in config
    assert csp_connect_sources(default_template)[1] == "https://*.execute-api.eu-west-1.amazonaws.com"
    [server] = build_openapi(StackConfig(), release)["servers"]
    assert server["url"].startswith("https://{apiId}.execute-api.")


def test_make_local_serves_on_loopback_and_its_config_json_names_the_deployed_domain(release, tmp_path):
    """The emulator reads the rendered template; its page keeps calling the loopback gateway."""
    path = tmp_path / "template.json"
    path.write_text(template_json(build_template(VARIANTS["domain"], release)))
    stack = read_template(path)
    assert stack.api_domain == DOMAIN_NAME
    resolver = stack.resolver("us-east-1", "local", {"UserPool": "us-east-1_Local", "UserPoolClient": "localclient"})
    config = stack.page_config(resolver, "http://127.0.0.1:8001", "http://127.0.0.1:8002/")
    assert (config["apiUrl"], config["apiDomain"]) == ("http://127.0.0.1:8001", DOMAIN_NAME)
    default = tmp_path / "default.json"
    default.write_text(template_json(build_template(StackConfig(), release)))
    assert "apiDomain" not in read_template(default).page_config(resolver, "http://127.0.0.1:8001", "http://x/")


# --- describe ------------------------------------------------------------------------------------

def test_describe_lists_the_domain_certificate_and_records_and_adds_no_hosted_zone_cost(rendered):
    spec = DOMAIN_SHAPES["page-on-its-own-name"]
    lines = "\n".join(domain_lines(domain_config(spec)))
    assert spec.api_url in lines and DOMAIN_ZONE in lines and "try.example.com" in lines and PAGE_CERTIFICATE in lines
    waiting = "\n".join(domain_lines(domain_config(DOMAIN_SHAPES["no-zone-new-certificate"])))
    assert "WAITS" in waiting and "ApiDomainTarget" in waiting
    assert API_CERTIFICATE in "\n".join(domain_lines(domain_config(DOMAIN_SHAPES["zone-existing-certificate"])))
    # The stack writes into the user's zone and creates none: the only zone priced is Cloud Map's.
    zones = [row for row in idle_monthly_cost(domain_config(spec)) if "hosted zone" in row[0].lower()]
    assert zones == [row for row in idle_monthly_cost(StackConfig()) if "hosted zone" in row[0].lower()]
    assert domain_lines(StackConfig()) == []


def test_describe_prints_the_domain_section(release, rendered):
    template = rendered["zone-new-certificate"]
    text = describe(domain_config(DOMAIN_SHAPES["zone-new-certificate"]), release, template,
                    Usage.of(template, json.dumps(template)), None)
    assert f"Domain: the API at https://{DOMAIN_NAME}" in text


# --- lint every shape ----------------------------------------------------------------------------

@pytest.mark.integration
def test_every_domain_shape_lints_clean(release, tmp_path):
    for name, spec in DOMAIN_SHAPES.items():
        path = tmp_path / f"{name}.json"
        path.write_text(template_json(build_template(domain_config(spec), release)))
        assert cfn_lint(path) == [], name


def test_the_docs_page_shows_the_shipped_domain_variant(tmp_path):
    """docs/domain.md's TOML sample is stacks/domain.toml's [domain] table, so the page shows a stack that renders."""
    (toml,) = re.findall(r"```toml\n(.*?)```", (REPO / "docs" / "domain.md").read_text(), re.S)
    (tmp_path / "domain.toml").write_text(toml)
    assert load_config(tmp_path / "domain.toml").domain == VARIANTS["domain"].domain
