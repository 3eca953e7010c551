"""The stack's own test page: bucket <-> origin access control <-> distribution <-> bucket policy
SourceArn <-> API CORS origin <-> CSP connect-src <-> APITestPage output, and the option that
leaves it all out."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from generator import StackConfig, build_template
from generator.template.functions import inline_code
from generator.template.site import CACHING_OPTIMIZED_POLICY_ID, page_files
from generator.tooling.assets import pinned_digests
from generator.tooling.render import template_json
from tests.support.processes import REPO
from tests.support.templates import PAGE_WITH_KEY, VARIANTS, cfn_lint, resolve_sub

SITE_TYPES = {
    "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::ResponseHeadersPolicy", "AWS::Lambda::Function",
    "Custom::SitePage",
}
DISTRIBUTION_ORIGIN = {"Fn::Sub": "https://${SiteDistribution.DomainName}"}
DISTRIBUTION_ARN = {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${SiteDistribution}"}


@pytest.fixture(scope="module")
def site(default_template) -> dict:
    return default_template["Resources"]


def test_the_page_is_on_by_default_and_every_part_of_it_is_there(default_template):
    types = {r["Type"] for r in default_template["Resources"].values()}
    assert SITE_TYPES <= types


def test_without_the_page_there_is_no_bucket_distribution_function_output_or_cors(render):
    template = render(StackConfig(test_page=False))
    assert not {r["Type"] for r in template["Resources"].values()} & (SITE_TYPES - {"AWS::Lambda::Function"})
    assert not [name for name in template["Resources"] if name.startswith("Site")]
    assert "APITestPage" not in template["Outputs"]
    assert "CorsConfiguration" not in template["Resources"]["HttpApi"]["Properties"]
    assert "Parameters" not in template or "CorsOrigin" not in template["Parameters"]


def test_without_the_page_cors_admits_exactly_the_configured_origins(render):
    template = render(StackConfig(test_page=False, cors_origins=("https://b.example.com", "https://a.example.com")))
    cors = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["https://a.example.com", "https://b.example.com"]


def test_the_bucket_is_private_encrypted_and_owner_enforced(site):
    bucket = site["SiteBucket"]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "WebsiteConfiguration" not in props and "AccessControl" not in props
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_with_the_stack_key_the_bucket_uses_it_and_cloudfront_may_decrypt_for_this_account_only(render):
    template = render(StackConfig(customer_managed_key=True))
    res = template["Resources"]
    (rule,) = res["SiteBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["StackKey", "Arn"]}}
    statements = {s["Sid"]: s for s in res["StackKey"]["Properties"]["KeyPolicy"]["Statement"]}
    cloudfront = statements["CloudFrontDecryptsForThisAccountsDistributions"]
    assert cloudfront["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert cloudfront["Action"] == ["kms:Decrypt"]
    assert cloudfront["Condition"] == {
        "ArnLike": {"AWS:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*"}},
    }
    publisher = res["SitePublishFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    key_use = [s for s in publisher if s["Action"] == ["kms:GenerateDataKey"]]
    assert key_use == [{
        "Action": ["kms:GenerateDataKey"], "Effect": "Allow", "Resource": [{"Fn::GetAtt": ["StackKey", "Arn"]}],
        "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}"}}},
    }]


def test_only_cloudfront_signing_for_this_distribution_may_read_and_only_over_tls(site):
    policy = site["SiteBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "SiteBucket"}
    read, deny = policy["PolicyDocument"]["Statement"]
    assert read == {
        "Sid": "CloudFrontReadsForThisDistributionOnly", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": ["s3:GetObject"],
        "Resource": [{"Fn::Sub": "${SiteBucket.Arn}/*"}],
        "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION_ARN}},
    }
    assert deny == {
        "Sid": "DenyRequestsWithoutTls", "Effect": "Deny", "Principal": "*", "Action": ["s3:*"],
        "Resource": [{"Fn::GetAtt": ["SiteBucket", "Arn"]}, {"Fn::Sub": "${SiteBucket.Arn}/*"}],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_the_distribution_reads_the_bucket_through_origin_access_control(site):
    oac = site["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == ("s3", "always", "sigv4")
    config = site["SiteDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behavior = config["DefaultCacheBehavior"]
    assert behavior["TargetOriginId"] == origin["Id"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["CachePolicyId"] == CACHING_OPTIMIZED_POLICY_ID
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "SiteHeadersPolicy"}
    assert config["DefaultRootObject"] == "index.html"
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert config["Enabled"] is True


def test_names_cloudfront_wants_unique_per_account_come_from_the_stack_id(site):
    for name in (
        site["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]["Name"],
        site["SiteHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["Name"],
    ):
        text, variables = name["Fn::Sub"]
        assert variables["StackUuid"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
        # OAC names take at most 64 characters; a stack UUID has 36.
        assert len(text.replace("${StackUuid}", "x" * 36)) <= 64


def test_security_headers_override_the_origin_and_the_csp_admits_only_the_api_and_cognito(site):
    headers = site["SiteHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert all(h["Override"] is True for h in headers.values())
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert "ContentTypeOptions" in headers
    csp = resolve_sub(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"],
                      {"AWS::Region": "eu-west-1", "AWS::URLSuffix": "amazonaws.com"})
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives == {
        "default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self'",
        "connect-src": "'self' https://*.execute-api.eu-west-1.amazonaws.com https://cognito-idp.eu-west-1.amazonaws.com",
        "base-uri": "'none'", "form-action": "'none'", "frame-ancestors": "'none'",
    }


def test_the_csp_admits_the_apis_endpoint_and_the_user_pools_issuer_host(site):
    """What the page connects to (config.json's apiUrl, Cognito's endpoint) matches connect-src."""
    values = {"AWS::Region": "ap-southeast-2", "AWS::URLSuffix": "amazonaws.com"}
    csp = resolve_sub(site["SiteHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
                      ["ContentSecurityPolicy"]["ContentSecurityPolicy"], values)
    sources = dict(d.strip().split(" ", 1) for d in csp.split(";"))["connect-src"].split()
    api_endpoint = "https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com"  # HttpApi.ApiEndpoint's shape
    issuer_text, _ = site["JwtAuthorizer"]["Properties"]["JwtConfiguration"]["Issuer"]["Fn::Sub"]
    cognito = resolve_sub({"Fn::Sub": issuer_text}, {**values, "UserPoolId": "pool"}).rsplit("/", 1)[0]

    def admitted(url: str) -> bool:
        return any(re.fullmatch(re.escape(s).replace(r"\*", "[a-z0-9]+"), url) for s in sources if s.startswith("https"))

    assert admitted(api_endpoint) and admitted(cognito)
    assert not admitted("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com")  # another region
    assert not admitted("https://evil.example.com")


def test_the_api_admits_exactly_the_distributions_origin_and_the_output_is_that_origin(site, default_template):
    cors = site["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [DISTRIBUTION_ORIGIN]
    output = default_template["Outputs"]["APITestPage"]["Value"]
    assert output == {"Fn::Sub": DISTRIBUTION_ORIGIN["Fn::Sub"] + "/"}
    assert "CorsOrigin" not in default_template.get("Parameters", {})


def test_configured_origins_are_admitted_after_the_pages(render):
    template = render(StackConfig(cors_origins=("https://app.example.com",)))
    assert template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]["AllowOrigins"] == [
        DISTRIBUTION_ORIGIN, "https://app.example.com"
    ]


def test_the_page_resource_publishes_into_this_bucket_for_this_distribution_after_the_policy(site):
    page = site["SitePage"]
    props = page["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": ["SitePublishFunction", "Arn"]}
    assert props["Bucket"] == {"Ref": "SiteBucket"}
    assert props["DistributionId"] == {"Ref": "SiteDistribution"}
    # The function's retry setting (no retries) is in place before CloudFormation's first event.
    assert page["DependsOn"] == ["SiteBucketPolicy", "SitePublishFunctionInvokeConfig"]
    assert 0 < props["ServiceTimeout"] <= 3600
    assert props["ServiceTimeout"] > site["SitePublishFunction"]["Properties"]["Timeout"]


def test_the_function_runs_the_publisher_module_inline(site):
    function = site["SitePublishFunction"]["Properties"]
    assert function["Code"]["ZipFile"] == inline_code("site_publish")
    assert function["Role"] == {"Fn::GetAtt": ["SitePublishFunctionRole", "Arn"]}


def test_the_template_pins_every_web_file_the_manifest_has(site, release):
    pinned = {name.removeprefix("web/"): digest for name, digest in pinned_digests().items() if name.startswith("web/")}
    files = site["SitePage"]["Properties"]["Files"]
    assert {f["Key"]: f["Sha256"] for f in files} == pinned
    for item in files:
        assert item["Url"] == release.url("web/" + item["Key"])


def test_page_files_lists_the_web_files_in_order_with_release_urls_and_digests(release):
    digests = {"itemstore-source.tar": "0" * 64, "web/style.css": "c" * 64, "web/index.html": "a" * 64,
               "web/app.js": "b" * 64}
    assert page_files(release, digests) == [
        {"Key": "index.html", "Url": release.url("web/index.html"), "Sha256": "a" * 64},
        {"Key": "app.js", "Url": release.url("web/app.js"), "Sha256": "b" * 64},
        {"Key": "style.css", "Url": release.url("web/style.css"), "Sha256": "c" * 64},
    ]
    assert page_files(release, {"itemstore-source.tar": "0" * 64}) == []  # no web files pinned: none published


def test_config_json_carries_the_stacks_own_values_in_the_pages_schema(render):
    orders = VARIANTS["three-services"]
    template = render(orders)
    res = template["Resources"]
    values = {"AWS::Region": "eu-west-1", "HttpApi.ApiEndpoint": "https://abc.execute-api.eu-west-1.amazonaws.com",
              "UserPool": "eu-west-1_Pool", "UserPoolClient": "client123"}
    config = json.loads(resolve_sub(res["SitePage"]["Properties"]["Config"], values))
    assert sorted(config) == ["apiUrl", "clientId", "passwordPolicy", "region", "services", "userPoolId"]
    assert (config["region"], config["apiUrl"], config["userPoolId"], config["clientId"]) == (
        "eu-west-1", values["HttpApi.ApiEndpoint"], "eu-west-1_Pool", "client123")
    pool_policy = res["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]
    assert config["passwordPolicy"] == {
        "minimumLength": pool_policy["MinimumLength"], "requireLowercase": pool_policy["RequireLowercase"],
        "requireUppercase": pool_policy["RequireUppercase"], "requireNumbers": pool_policy["RequireNumbers"],
        "requireSymbols": pool_policy["RequireSymbols"],
    }
    assert config["services"] == [
        {"name": s.name, "path": s.path, "idParameter": s.id_parameter, "protectedMethods": list(s.protected_methods)}
        for s in orders.services
    ]
    assert config["services"][2]["protectedMethods"] == ["GET", "PUT"]


@pytest.mark.integration
def test_the_page_with_the_stack_key_lints_clean(render, tmp_path):
    """No stacks/ variant combines the page with customer_managed_key (hardened turns the page off);
    checkov scans this stack too (PAGE_WITH_KEY, tests/template/test_security.py)."""
    path = tmp_path / "page-with-key.json"
    path.write_text(template_json(build_template(PAGE_WITH_KEY)))
    assert cfn_lint(path) == []


@pytest.mark.parametrize("variant", sorted(name for name, config in VARIANTS.items() if config.test_page))
def test_the_config_the_stack_writes_is_valid_for_the_page(variant, render):
    """The page reads config.json against web/config.schema.json: the stack's own must pass it."""
    template = render(VARIANTS[variant])
    config = json.loads(resolve_sub(template["Resources"]["SitePage"]["Properties"]["Config"], {
        "HttpApi.ApiEndpoint": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
        "UserPoolClient": "4example0client0id0abcdefgh",
        "AWS::Region": "eu-west-1",
        "UserPool": "eu-west-1_AbCdEfGhI",
    }))
    schema = json.loads((REPO / "web" / "config.schema.json").read_text())
    jsonschema.validate(config, schema)
    assert [s["name"] for s in config["services"]] == [s.name for s in VARIANTS[variant].services]


def test_the_page_bucket_keeps_versions_and_expires_old_ones(default_template):
    bucket = default_template["Resources"]["SiteBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["ExpiredObjectDeleteMarker"] is True
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # No skipped versioning check any more (checkov CKV_AWS_21).
    skipped = default_template["Resources"]["SiteBucket"].get("Metadata", {}).get("checkov", {}).get("skip", [])
    assert "CKV_AWS_21" not in {entry["id"] for entry in skipped}
