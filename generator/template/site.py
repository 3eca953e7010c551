"""The stack serves its own API test page: a private S3 bucket behind a CloudFront distribution,
and a custom resource that writes the page and its ``config.json`` into the bucket.

Only CloudFront reads the bucket, through origin access control: the bucket blocks every form of
public access, and its policy admits the CloudFront service principal only for requests signed on
behalf of this distribution ("Restricting access to an Amazon S3 origin", Amazon CloudFront
Developer Guide). Viewers get HTTPS only, with security headers from a response headers policy.

Two halves, because the API sits between them: :func:`add_site` (bucket, distribution) comes
before the API, which takes the distribution's origin (:attr:`Site.origin`) among its CORS origins;
:func:`add_site_page` (the files and the stack's values) comes after it, because ``config.json``
carries the API's URL. What the key needs for the site comes first of all: :func:`key_statements`.
"""

from __future__ import annotations

import json

from awacs.aws import Statement
from troposphere import GetAtt, Ref, Sub, Template, awslambda, cloudfront, kms, s3
from troposphere.cloudformation import CustomResource

from generator.model import page as page_contract
from generator.model.assets import WEB_PREFIX, pinned_digests
from generator.model.config import StackConfig
from generator.model.page import FRAME_OPTION, INDEX_DOCUMENT, PAGE_FILES, REFERRER_POLICY, content_security_policy
from generator.model.records import dataclass
from generator.model.release import ReleaseSettings
from generator.template import iam as policies
from generator.template.api import Api
from generator.template.auth import Auth
from generator.template.checkov import (
    BUCKET_WITHOUT_ACCESS_LOGS,
    DISTRIBUTION_WITH_DEFAULT_CERTIFICATE,
    DISTRIBUTION_WITHOUT_ACCESS_LOGS,
    DISTRIBUTION_WITHOUT_WAF,
    skip_checks,
)
from generator.template.functions import add_function
from generator.template.keys import cloudfront_decrypts
from generator.template.names import unique_name

# The managed cache policy "CachingOptimized" (id from "Use managed cache policies", Amazon
# CloudFront Developer Guide): no cookies or query strings in the cache key, gzip and brotli on,
# TTL 1 s to 1 year, honouring the origin's Cache-Control (the publisher sets it per file).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ORIGIN_ID = "SiteBucket"
# A year of HSTS, the value browsers' preload lists ask for. includeSubDomains is on and changes
# nothing (the distribution's *.cloudfront.net host has no subdomains); preload stays off, as
# cloudfront.net is not ours to submit.
HSTS_SECONDS = 31_536_000
# What the page connects to besides itself: the API and Cognito's JSON API. The API is admitted as
# any HTTP API of this region, not by its exact endpoint: the API's CORS names the distribution's
# origin, so the distribution (through this policy) cannot also name the API — CloudFormation
# refuses the cycle HttpApi -> SiteDistribution -> SiteHeadersPolicy -> HttpApi. The exact origin
# is on the API's side, where it decides what browsers may read.
CONNECT_ORIGINS = (
    "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}",
    "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}",
)


def connect_origins(config: StackConfig) -> tuple[str, ...]:
    """What the page's CSP lets it fetch from: with a domain, the API's own origin on it (a name in
    the configuration, so no cycle), and the execute-api endpoints only while they answer."""
    domain = config.domain
    if domain is None:
        return CONNECT_ORIGINS
    default_endpoint = () if domain.disable_execute_api_endpoint else CONNECT_ORIGINS[:1]
    return (domain.origin, *default_endpoint, *CONNECT_ORIGINS[1:])
# The publisher downloads three small files and writes four: well within a minute; the rest of
# the timeout is the protocol's margin to report a hang as FAILED.
PUBLISH_TIMEOUT_SECONDS = 120
# How long an overwritten or removed page file is kept, to restore it by hand.
NONCURRENT_VERSION_DAYS = 30


@dataclass(frozen=True)
class Site:
    """The test page's bucket, bucket policy and CloudFront distribution."""

    bucket: s3.Bucket
    bucket_policy: s3.BucketPolicy
    """The page can be served only once it is in place: the page publisher waits for it."""
    distribution: cloudfront.Distribution
    page_name: str | None = None
    """The page's own name (``domain.page_name``), an alternate name of the distribution."""

    @property
    def origin(self) -> str | Sub:
        """``https://<page name or distribution domain>``: the page's origin, which the API's CORS admits."""
        return f"https://{self.page_name}" if self.page_name else Sub(f"https://${{{self.distribution.title}.DomainName}}")

    @property
    def url(self) -> str | Sub:
        """``https://<page name or distribution domain>/``: the page (the distribution serves index.html at /)."""
        return f"https://{self.page_name}/" if self.page_name else Sub(f"https://${{{self.distribution.title}.DomainName}}/")

    @property
    def distribution_arn(self) -> Sub:
        return _distribution_arn(self.distribution)


def _distribution_arn(distribution: cloudfront.Distribution) -> Sub:
    # AWS::CloudFront::Distribution has no Arn attribute (only Id and DomainName); CloudFront
    # ARNs have no region.
    return Sub(f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{distribution.title}}}")


class SitePage(CustomResource):
    """The page's files and config.json in the site bucket (generator/runs_in_aws/site_publish.py)."""

    resource_type = "Custom::SitePage"
    props = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (int, False),
        "Bucket": (str, True),
        "DistributionId": (str, True),
        "Files": (list, True),
        "Config": (str, True),
    }


def key_statements(config: StackConfig) -> tuple[Statement, ...]:
    """What the site needs in the stack key's policy (:func:`generator.template.keys.add_stack_key`
    writes it): CloudFront decrypts the bucket's objects. Nothing without ``test_page``."""
    return (cloudfront_decrypts(),) if config.test_page else ()


def add_site(template: Template, config: StackConfig, key: kms.Key | None) -> Site | None:
    """The bucket, its policy, the distribution and its headers; ``None`` without ``test_page``.
    With ``key``, the key's policy already lets CloudFront decrypt (:func:`key_statements`)."""
    if not config.test_page:
        return None
    bucket = _add_bucket(template, key)
    origin_access_control = template.add_resource(
        cloudfront.OriginAccessControl(
            "SiteOriginAccessControl",
            OriginAccessControlConfig=cloudfront.OriginAccessControlConfig(
                Name=unique_name("site"),
                Description="CloudFront signs every request to the test page bucket",
                OriginAccessControlOriginType="s3",
                # "always": every origin request is signed, whatever the viewer sent.
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )
    headers_policy = _add_headers_policy(template, connect_origins(config))
    page_name = config.domain.page_name if config.domain else None
    distribution = template.add_resource(
        skip_checks(
            cloudfront.Distribution(
                "SiteDistribution",
                DistributionConfig=cloudfront.DistributionConfig(
                    Comment="ecsapi API test page",
                    Enabled=True,
                    DefaultRootObject=INDEX_DOCUMENT,
                    HttpVersion="http2and3",
                    IPV6Enabled=True,
                    # North America and Europe: the cheapest class; a test page needs no more.
                    PriceClass="PriceClass_100",
                    Origins=[
                        cloudfront.Origin(
                            Id=ORIGIN_ID,
                            DomainName=GetAtt(bucket, "RegionalDomainName"),
                            OriginAccessControlId=GetAtt(origin_access_control, "Id"),
                            # With origin access control the origin access identity stays empty
                            # ("AWS::CloudFront::Distribution S3OriginConfig").
                            S3OriginConfig=cloudfront.S3OriginConfig(OriginAccessIdentity=""),
                        )
                    ],
                    DefaultCacheBehavior=cloudfront.DefaultCacheBehavior(
                        TargetOriginId=ORIGIN_ID,
                        ViewerProtocolPolicy="redirect-to-https",
                        AllowedMethods=["GET", "HEAD"],
                        CachedMethods=["GET", "HEAD"],
                        CachePolicyId=CACHING_OPTIMIZED_POLICY_ID,
                        ResponseHeadersPolicyId=Ref(headers_policy),
                        Compress=True,
                    ),
                    **_viewer_names(config),
                ),
            ),
            *(() if page_name else (DISTRIBUTION_WITH_DEFAULT_CERTIFICATE,)),
            DISTRIBUTION_WITHOUT_ACCESS_LOGS,
            DISTRIBUTION_WITHOUT_WAF,
                )
    )
    bucket_policy = template.add_resource(
        s3.BucketPolicy(
            "SiteBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=policies.policy(
                policies.cloudfront_reads_objects(bucket, _distribution_arn(distribution)),
                policies.deny_requests_without_tls(bucket),
            ),
        )
    )
    return Site(
        bucket=bucket,
        bucket_policy=bucket_policy,
        distribution=distribution,
        page_name=page_name,
    )


def _viewer_names(config: StackConfig) -> dict:
    """The names viewers reach the page at and the certificate for them: the page's own name with
    the user's us-east-1 certificate (SNI, TLS 1.2 at least), else *.cloudfront.net with
    CloudFront's default certificate, which needs no domain or certificate of the user's own."""
    if config.domain is None or config.domain.page_name is None:
        return {"ViewerCertificate": cloudfront.ViewerCertificate(CloudFrontDefaultCertificate=True)}
    return {
        "Aliases": [config.domain.page_name],
        "ViewerCertificate": cloudfront.ViewerCertificate(
            AcmCertificateArn=config.domain.page_certificate_arn,
            SslSupportMethod="sni-only",
            # "Supported protocols and ciphers between viewers and CloudFront", Amazon CloudFront
            # Developer Guide: TLSv1.2_2021 accepts TLS 1.2 and 1.3 with modern ciphers only.
            MinimumProtocolVersion="TLSv1.2_2021",
        ),
    }


def _add_bucket(template: Template, key: kms.Key | None) -> s3.Bucket:
    """A private bucket: every public access blocked, ACLs off, encrypted at rest."""
    encryption = (
        s3.ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=GetAtt(key, "Arn"))
        if key is not None
        else s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
    )
    return template.add_resource(
        skip_checks(
            s3.Bucket(
                "SiteBucket",
                BucketEncryption=s3.BucketEncryption(
                    ServerSideEncryptionConfiguration=[
                        # A bucket key cuts KMS requests (and their cost) to one per bucket and period.
                        s3.ServerSideEncryptionRule(ServerSideEncryptionByDefault=encryption, BucketKeyEnabled=True)
                    ]
                ),
                PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                    BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
                ),
                # Origin access control needs "bucket owner enforced" (ACLs disabled).
                OwnershipControls=s3.OwnershipControls(
                    Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
                ),
                # Versions let an overwritten page be restored; the rule below expires them (and
                # the delete markers left behind), so they cost nothing at this size.
                VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
                LifecycleConfiguration=s3.LifecycleConfiguration(
                    Rules=[
                        s3.LifecycleRule(
                            Id="ExpireOldVersions",
                            Status="Enabled",
                            NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                                NoncurrentDays=NONCURRENT_VERSION_DAYS
                            ),
                            ExpiredObjectDeleteMarker=True,
                            AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(DaysAfterInitiation=1),
                        )
                    ]
                ),
                # Nothing here is data: the page comes from the release and config.json from the
                # stack, both rewritten at every update. The publisher empties the bucket (every
                # version) on delete, so the stack deletes it.
                DeletionPolicy="Delete",
                UpdateReplacePolicy="Delete",
            ),
            BUCKET_WITHOUT_ACCESS_LOGS,
        )
    )


def _add_headers_policy(template: Template, connect: tuple[str, ...]) -> cloudfront.ResponseHeadersPolicy:
    """Security headers on every response; each overrides whatever the origin might send."""
    return template.add_resource(
        cloudfront.ResponseHeadersPolicy(
            "SiteHeadersPolicy",
            ResponseHeadersPolicyConfig=cloudfront.ResponseHeadersPolicyConfig(
                Name=unique_name("site-headers"),
                Comment="ecsapi API test page: CSP, HSTS, nosniff, no framing, no referrer",
                SecurityHeadersConfig=cloudfront.SecurityHeadersConfig(
                    ContentSecurityPolicy=cloudfront.ContentSecurityPolicy(
                        ContentSecurityPolicy=Sub(content_security_policy(connect)), Override=True
                    ),
                    StrictTransportSecurity=cloudfront.StrictTransportSecurity(
                        AccessControlMaxAgeSec=HSTS_SECONDS, IncludeSubdomains=True, Preload=False, Override=True
                    ),
                    ContentTypeOptions=cloudfront.ContentTypeOptions(Override=True),
                    FrameOptions=cloudfront.FrameOptions(FrameOption=FRAME_OPTION, Override=True),
                    ReferrerPolicy=cloudfront.ReferrerPolicy(ReferrerPolicy=REFERRER_POLICY, Override=True),
                ),
            ),
        )
    )


def page_files(release: ReleaseSettings, digests: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The page's files the release holds, each with its URL and pinned SHA-256, in a fixed order.

    Only files the manifest pins are published: a file without a digest could not be verified.
    """
    digests = pinned_digests() if digests is None else digests
    return [
        {"Key": name, "Url": release.url(WEB_PREFIX + name), "Sha256": digests[WEB_PREFIX + name]}
        for name in PAGE_FILES
        if WEB_PREFIX + name in digests
    ]


def page_config(config: StackConfig, api: Api, auth: Auth) -> dict:
    """config.json as the page reads it (web/config.schema.json), with ``${...}`` for ``Fn::Sub``
    where the value is the stack's own: region, API URL, user pool and app client."""
    domain = config.domain
    return page_contract.page_config(
        region="${AWS::Region}",
        # With a domain the page calls the API there (generator/model/domain.py).
        api_url=domain.api_url if domain else f"${{{api.api.title}.ApiEndpoint}}",
        api_domain=domain.name if domain else None,
        user_pool_id=f"${{{auth.user_pool.title}}}",
        client_id=f"${{{auth.client.title}}}",
        password_policy=auth.user_pool.Policies.PasswordPolicy.to_dict(),
        services=page_contract.services_of(config),
    )


def add_site_page(
    template: Template,
    config: StackConfig,
    key: kms.Key | None,
    release: ReleaseSettings,
    site: Site,
    api: Api,
    auth: Auth,
) -> awslambda.Function:
    """The publisher function and the custom resource that runs it at create, update and delete;
    returns the function (the dashboard shows its errors)."""
    statements = [
        policies.write_and_delete_objects(site.bucket),
        *policies.empty_versioned_bucket(site.bucket),
        policies.invalidate_distribution(site.distribution_arn),
    ]
    if key is not None:
        statements.append(policies.use_key_through_s3(key))
    publisher = add_function(
        template, config, key, "SitePublish", "site_publish", statements, timeout_seconds=PUBLISH_TIMEOUT_SECONDS
    )
    # Fn::Sub fills in the stack's values; the rest of the document is literal (a service path
    # cannot hold "${", so nothing in it is taken for a variable).
    document = json.dumps(page_config(config, api, auth), sort_keys=True, separators=(",", ":"))
    template.add_resource(
        SitePage(
            "SitePage",
            ServiceToken=GetAtt(publisher.function, "Arn"),
            Bucket=Ref(site.bucket),
            DistributionId=Ref(site.distribution),
            Files=page_files(release),
            Config=Sub(document),
            # CloudFormation's own bound on waiting for an answer, should even the function's
            # watchdog never run (default: an hour).
            ServiceTimeout=PUBLISH_TIMEOUT_SECONDS + 60,
            # The bucket policy is not a property the publisher reads, but CloudFront can serve
            # the page only once it is in place.
            # And the function's retry setting must be in place before its first event.
            DependsOn=[site.bucket_policy.title, *publisher.ready],
        )
    )
    return publisher.function
