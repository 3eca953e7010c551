"""``ecsapi preflight --region R``: can this account launch the stack in Region R now?

A launch also draws on quotas of the account and Region that other stacks use too (Elastic IPs,
VPCs, VPC links, CodeBuild builds, CloudFront policies: generator/model/account_quotas.py), and
fails minutes in, with a rollback, when one is used up. This command reads, with the caller's own
credentials and read-only calls only, each quota's value (Service Quotas; the documented default
when Service Quotas does not answer) and how much of it is in use (the service's own list or
describe call), and compares the rest with what the configuration needs. It then lists what no
API call can tell (generator/model/account_quotas.py, ``UNVERIFIABLE``), with the fallback for each.

Exit status: 0 every quota has room; 1 at least one is short (the report says which, and the
fallback); 2 a usage or configuration error, or boto3 is not installed; 3 nothing is short but
something could not be checked (no credentials, a call denied or not answered), or AWS could not
be reached at all.
"""

from __future__ import annotations

import enum
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from generator.model.account_quotas import ACCOUNT_QUOTAS, UNVERIFIABLE, AccountQuota, Unverifiable
from generator.model.config import CpuArchitecture, StackConfig
from generator.tooling.domain_checks import DomainCheck, DomainOutcome, check_domain, domain_report_lines

EXIT_OK = 0
EXIT_SHORT = 1
EXIT_USAGE = 2
EXIT_UNCHECKED = 3
# Service Quotas answers for global quotas (CloudFront's are per account) only in us-east-1 in the
# commercial partition ("Global quotas apply to all AWS regions, but can only be accessed in
# us-east-1", the Service Quotas notes of the Pulumi AWS provider, which calls the same API).
GLOBAL_QUOTAS_REGION = "us-east-1"
# ListBuilds answers 100 build ids a page, sorted by id, not by time ("ListBuilds", AWS CodeBuild API
# Reference), and BatchGetBuilds takes 100 ids a call: running builds are counted among the first
# pages only, so an account with thousands of builds costs a bounded number of calls.
BUILD_PAGES = 5


def client(session, service: str, region: str | None = None):
    """A client with bounded waits: a check that cannot get an answer says so instead of hanging."""
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})
    return session.client(service, region_name=region or session.region_name, config=config)


class Outcome(enum.Enum):
    OK = "ok"
    SHORT = "SHORT"
    UNKNOWN = "not checked"
    NOT_NEEDED = "not needed"


@dataclass(frozen=True)
class Check:
    quota: AccountQuota
    needs: int
    limit: int | None
    limit_from: str
    """``Service Quotas`` or ``AWS default`` (documented; Service Quotas did not answer)."""
    in_use: int | None
    outcome: Outcome
    note: str = ""


@dataclass(frozen=True)
class ImageCheck:
    """Whether a service's given image has a variant for the tasks' CPU architecture."""

    service: str
    image: str
    outcome: Outcome
    note: str


@dataclass(frozen=True)
class Report:
    account: str
    region: str
    checks: tuple[Check, ...]
    unverifiable: tuple[Unverifiable, ...]
    images: tuple[ImageCheck, ...] = ()
    domain: tuple[DomainCheck, ...] = ()
    """The ``[domain]`` checks (generator/tooling/domain_checks.py): a failed one fails the launch too."""

    def exit_status(self) -> int:
        outcomes = {check.outcome for check in (*self.checks, *self.images)}
        domain = {check.outcome for check in self.domain}
        if Outcome.SHORT in outcomes or DomainOutcome.FAILS in domain:
            return EXIT_SHORT
        return EXIT_UNCHECKED if Outcome.UNKNOWN in outcomes or DomainOutcome.UNKNOWN in domain else EXIT_OK


class AwsUnreachable(Exception):
    """No call reached AWS with these credentials: the message says why."""


def preflight(config: StackConfig, session) -> Report:
    """Every quota of ``ACCOUNT_QUOTAS`` checked in ``session``'s Region (a ``boto3.Session``)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        account = client(session, "sts").get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as error:
        raise AwsUnreachable(_reason(error)) from None
    checks = tuple(_check(session, quota, quota.needs(config)) for quota in ACCOUNT_QUOTAS)
    unverifiable = tuple(item for item in UNVERIFIABLE if item.applies(config))
    domain = check_domain(config.domain, session.region_name, lambda service, region: client(session, service, region))
    return Report(account=account, region=session.region_name, checks=checks, unverifiable=unverifiable,
                  images=image_checks(config, session), domain=domain)


# An image in a private ECR registry: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag][@digest].
ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repository>[^:@]+)"
    r"(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# Manifests that list one image per platform (Docker manifest list, OCI image index), and the
# single-image kinds: BatchGetImage answers only the media types asked for (acceptedMediaTypes).
INDEX_MEDIA_TYPES = ("application/vnd.docker.distribution.manifest.list.v2+json",
                     "application/vnd.oci.image.index.v1+json")
IMAGE_MEDIA_TYPES = ("application/vnd.docker.distribution.manifest.v2+json",
                     "application/vnd.oci.image.manifest.v1+json")
# Fargate's ARM64 tasks run linux/arm64 images ("Amazon ECS task definitions for 64-bit ARM
# workloads", Amazon ECS Developer Guide): an image without that variant fails at task start.
ARM64_PLATFORM = ("linux", "arm64")


def image_checks(config: StackConfig, session) -> tuple[ImageCheck, ...]:
    """For ARM64 tasks, each given image's platforms where the registry tells them (ECR's
    BatchGetImage: the image index lists them); elsewhere a warning. X86_64 needs no check."""
    match config.cpu_architecture:
        case CpuArchitecture.X86_64:
            return ()
        case CpuArchitecture.ARM64:
            return tuple(_image_check(session, spec.name, spec.image) for spec in config.services if spec.image)
        case _:
            assert_never(config.cpu_architecture)


def _image_check(session, service: str, image: str) -> ImageCheck:
    from botocore.exceptions import BotoCoreError, ClientError

    found = ECR_IMAGE.match(image)
    if not found:
        return ImageCheck(service, image, Outcome.UNKNOWN,
                          "not in ECR: its platforms are not read here; make sure it has a linux/arm64 variant, or "
                          "tasks fail at start")
    image_id = {"imageDigest": found["digest"]} if found["digest"] else {"imageTag": found["tag"] or "latest"}
    try:
        answer = client(session, "ecr", found["region"]).batch_get_image(
            registryId=found["registry"], repositoryName=found["repository"], imageIds=[image_id],
            acceptedMediaTypes=[*INDEX_MEDIA_TYPES, *IMAGE_MEDIA_TYPES],
        )
    except (BotoCoreError, ClientError) as error:
        return ImageCheck(service, image, Outcome.UNKNOWN, f"manifest not read: {_reason(error)}")
    if not answer.get("images"):
        reasons = "; ".join(f.get("failureReason", "") for f in answer.get("failures", [])) or "no such image"
        return ImageCheck(service, image, Outcome.UNKNOWN, f"manifest not read: {reasons}")
    manifest = json.loads(answer["images"][0]["imageManifest"])
    media_type = answer["images"][0].get("imageManifestMediaType") or manifest.get("mediaType", "")
    if media_type not in INDEX_MEDIA_TYPES:
        return ImageCheck(service, image, Outcome.UNKNOWN,
                          "a single-platform image: its architecture is in its config, which is not read here; an "
                          "x86-only image fails at task start on ARM64")
    platforms = sorted({(m.get("platform", {}).get("os", "?"), m.get("platform", {}).get("architecture", "?"))
                        for m in manifest.get("manifests", [])})
    if ARM64_PLATFORM in platforms:
        return ImageCheck(service, image, Outcome.OK, "has linux/arm64")
    listed = ", ".join(f"{os_}/{arch}" for os_, arch in platforms) or "none"
    return ImageCheck(service, image, Outcome.SHORT,
                      f"no linux/arm64 variant (platforms: {listed}): its tasks would fail to start on ARM64; "
                      'give an arm64 image or set cpu_architecture = "X86_64"')


def _check(session, quota: AccountQuota, needs: int) -> Check:
    from botocore.exceptions import BotoCoreError, ClientError

    if needs == 0:
        return Check(quota, needs, None, "", None, Outcome.NOT_NEEDED, "this configuration does not use it")
    limit, limit_from = read_limit(session, quota)
    try:
        in_use = USAGE[quota.key](session)
    except (BotoCoreError, ClientError) as error:
        return Check(quota, needs, limit, limit_from, None, Outcome.UNKNOWN, f"usage not read: {_reason(error)}")
    if limit is None:
        return Check(quota, needs, None, limit_from, in_use, Outcome.UNKNOWN,
                     "Service Quotas did not answer, and AWS sets this one per account")
    if in_use + needs > limit:
        return Check(quota, needs, limit, limit_from, in_use, Outcome.SHORT,
                     f"{limit - in_use} left, the stack needs {needs}: {quota.fallback}")
    return Check(quota, needs, limit, limit_from, in_use, Outcome.OK)


def read_limit(session, quota: AccountQuota) -> tuple[int | None, str]:
    """The quota's value for this account: applied (or default) from Service Quotas, else the
    documented default."""
    from botocore.exceptions import BotoCoreError, ClientError

    region = GLOBAL_QUOTAS_REGION if quota.scope == "per account" else session.region_name
    quotas = client(session, "service-quotas", region)
    for call in (quotas.get_service_quota, quotas.get_aws_default_service_quota):
        try:
            value = call(ServiceCode=quota.service_code, QuotaCode=quota.quota_code)["Quota"]["Value"]
        except (BotoCoreError, ClientError):
            continue
        return int(value), "Service Quotas"
    return quota.default, "AWS default"


def _elastic_ips(session) -> int:
    return len(client(session, "ec2").describe_addresses()["Addresses"])


def _vpcs(session) -> int:
    pages = client(session, "ec2").get_paginator("describe_vpcs").paginate()
    return sum(len(page["Vpcs"]) for page in pages)


def _nat_gateways_per_az(session) -> int:
    """The most NAT gateways (pending or available) in any one AZ of the Region."""
    ec2 = client(session, "ec2")
    alive = [{"Name": "state", "Values": ["pending", "available"]}]
    subnets = [
        gateway["SubnetId"]
        for page in ec2.get_paginator("describe_nat_gateways").paginate(Filters=alive)
        for gateway in page["NatGateways"]
    ]
    if not subnets:
        return 0
    zone_of = {
        subnet["SubnetId"]: subnet["AvailabilityZone"]
        for page in ec2.get_paginator("describe_subnets").paginate(SubnetIds=sorted(set(subnets)))
        for subnet in page["Subnets"]
    }
    return max(Counter(zone_of[subnet] for subnet in subnets).values())


def _vpc_links(session) -> int:
    apigateway = client(session, "apigatewayv2")
    count, token = 0, None
    while True:
        page = apigateway.get_vpc_links(**({"NextToken": token} if token else {}))
        count += len(page.get("Items", []))
        token = page.get("NextToken")
        if not token:
            return count


def _running_builds_on(environment: str) -> Callable[[object], int]:
    """Builds in progress in the Region on ``environment`` (LINUX_CONTAINER, ARM_CONTAINER) of the
    small compute type: each environment and compute type has its own quota."""
    return lambda session: _running_builds(session, environment)


def _running_builds(session, environment: str) -> int:
    """Builds in progress in the Region, among the first ``BUILD_PAGES`` pages of build ids."""
    codebuild = client(session, "codebuild")
    running, token = 0, None
    for _ in range(BUILD_PAGES):
        page = codebuild.list_builds(**({"nextToken": token} if token else {}))
        if page.get("ids"):
            builds = codebuild.batch_get_builds(ids=page["ids"])["builds"]
            running += sum(
                1 for build in builds if build.get("buildStatus") == "IN_PROGRESS"
                and build.get("environment", {}).get("type", environment) == environment
                and build.get("environment", {}).get("computeType", "BUILD_GENERAL1_SMALL") == "BUILD_GENERAL1_SMALL"
            )
        token = page.get("nextToken")
        if not token:
            break
    return running


def _response_headers_policies(session) -> int:
    cloudfront = client(session, "cloudfront")
    count, marker = 0, None
    while True:
        page = cloudfront.list_response_headers_policies(Type="custom", **({"Marker": marker} if marker else {}))
        listing = page["ResponseHeadersPolicyList"]
        count += len(listing.get("Items", []))
        marker = listing.get("NextMarker")
        if not marker:
            return count


def _custom_domain_names(session) -> int:
    apigateway = client(session, "apigatewayv2")
    count, token = 0, None
    while True:
        page = apigateway.get_domain_names(**({"NextToken": token} if token else {}))
        count += len(page.get("Items", []))
        token = page.get("NextToken")
        if not token:
            return count


# How much of each quota is in use, by ACCOUNT_QUOTAS key: every call is a read.
USAGE: dict[str, Callable[[object], int]] = {
    "elastic-ips": _elastic_ips,
    "vpcs": _vpcs,
    "nat-gateways-per-az": _nat_gateways_per_az,
    "vpc-links": _vpc_links,
    "codebuild-small": _running_builds_on("LINUX_CONTAINER"),
    "codebuild-arm-small": _running_builds_on("ARM_CONTAINER"),
    "response-headers-policies": _response_headers_policies,
    "custom-domain-names": _custom_domain_names,
}


def _reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        details = response["Error"]
        return f"{details.get('Code', '')}: {details.get('Message', '')}".strip(": ")
    return str(error)


def format_report(report: Report) -> str:
    """The report as ``ecsapi preflight`` prints it."""
    lines = [
        f"ecsapi preflight: account {report.account}, Region {report.region} (read-only calls, your credentials)",
        "",
    ]
    rows = [
        (
            check.quota.name, check.quota.quota_code, check.quota.scope,
            "-" if check.limit is None else f"{check.limit} ({check.limit_from})",
            "-" if check.in_use is None else str(check.in_use), str(check.needs), check.outcome.value,
        )
        for check in report.checks
    ]
    header = ("quota", "code", "scope", "limit", "in use", "needs", "result")
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for cells in (header, tuple("-" * width for width in widths), *rows):
        lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())
    notes = [check for check in report.checks if check.outcome in (Outcome.SHORT, Outcome.UNKNOWN)]
    if notes:
        lines += ["", "Short or not checked:"]
        for check in notes:
            lines.append(f"  - {check.quota.name}: {check.note}")
            if check.outcome is Outcome.UNKNOWN:
                lines.append(f"    fallback: {check.quota.fallback}")
    if report.images:
        lines += ["", "Images for ARM64 tasks:"]
        lines += [f"  - {check.service} ({check.image}): {check.outcome.value}: {check.note}" for check in report.images]
    if report.unverifiable:
        lines += ["", "What no API call can tell (check it, or take the fallback):"]
        for item in report.unverifiable:
            lines += [f"  - {item.what}", f"    fallback: {item.fallback}"]
    lines += domain_report_lines(report.domain)
    verdict = {
        EXIT_OK: "every quota has room for this stack",
        EXIT_SHORT: "at least one quota or image is short, or a domain check fails: the launch would fail (see above)",
        EXIT_UNCHECKED: "nothing is short, but not everything could be checked (see above)",
    }[report.exit_status()]
    lines += ["", f"Result: {verdict}."]
    return "\n".join(lines) + "\n"


def run_command(config: StackConfig, region: str | None) -> int:
    """What ``ecsapi preflight`` does: check, print, and return the exit status."""
    import sys

    from generator.tooling.aws import boto3_session

    try:
        session = boto3_session(region)
    except ImportError:
        print("ecsapi: preflight needs boto3: pip install boto3 (or the project's [dev] extra)", file=sys.stderr)
        return EXIT_USAGE
    if not session.region_name:
        print("ecsapi: preflight needs a Region: give --region, e.g. --region us-east-1", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = preflight(config, session)
    except AwsUnreachable as error:
        print(f"ecsapi: preflight could not reach AWS in {session.region_name} with your credentials: {error}",
              file=sys.stderr)
        return EXIT_UNCHECKED
    sys.stdout.write(format_report(report))
    return report.exit_status()
