"""Account and Region quotas a launch draws on, which a template cannot check: other stacks and
resources of the account use them too. ``ecsapi preflight`` reads each one's value and usage with
the caller's credentials (generator/tooling/preflight.py); ``ecsapi describe`` lists them with
what the configuration needs. Each quota is named by its Service Quotas code, with the page that
gives its default, and the fallback that needs less of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from generator.model.config import CpuArchitecture, NatMode, StackConfig
from generator.model.records import dataclass


def nat_gateways(config: StackConfig) -> int:
    """NAT gateways (and so Elastic IPs) the stack creates: one per AZ, one, or none."""
    match config.nat_mode:
        case NatMode.PER_AZ:
            return config.az_count
        case NatMode.SINGLE:
            return 1
        case NatMode.NONE:
            return 0
        case _:
            assert_never(config.nat_mode)


def builds_an_image(config: StackConfig) -> bool:
    """Whether a service runs the image the stack builds (CodeBuild) rather than one it was given."""
    return any(spec.image is None for spec in config.services)


def builds_on(architecture: CpuArchitecture) -> Callable[[StackConfig], int]:
    """One build of the small compute type on ``architecture``'s environment, when the stack builds:
    X86_64 builds take a Linux/Small slot, ARM64 builds an ARM/Small one (generator/template/image.py
    builds with BUILD_GENERAL1_SMALL on LINUX_CONTAINER or ARM_CONTAINER)."""
    return lambda config: 1 if builds_an_image(config) and config.cpu_architecture is architecture else 0


@dataclass(frozen=True)
class AccountQuota:
    key: str
    """Short name, for the command line and tests."""
    name: str
    """As Service Quotas names it."""
    service_code: str
    quota_code: str
    default: int | None
    """AWS's default value; None where AWS sets it per account."""
    scope: str
    source: str
    """Where the default (and the code) is documented."""
    fallback: str
    """What needs less of the quota, when the account has too little left."""
    needs: Callable[[StackConfig], int]
    """How much of it one launch of the configuration takes."""


VPC_QUOTAS = "Amazon Virtual Private Cloud endpoints and quotas (AWS General Reference)"
ACCOUNT_QUOTAS: tuple[AccountQuota, ...] = (
    AccountQuota(
        "elastic-ips", "EC2-VPC Elastic IPs", "ec2", "L-0263D0A3", 5, "per Region",
        "Elastic IP address quotas (Amazon VPC User Guide): 5 per Region",
        'nat_mode = "single" takes one Elastic IP instead of one per AZ; or release unused addresses, or ask for '
        "more in Service Quotas",
        nat_gateways,
    ),
    AccountQuota(
        "vpcs", "VPCs per Region", "vpc", "L-F678F1CE", 5, "per Region", VPC_QUOTAS,
        "delete an unused VPC (the default VPC counts too), or ask for more in Service Quotas",
        lambda config: 1,
    ),
    AccountQuota(
        "nat-gateways-per-az", "NAT gateways per Availability Zone", "vpc", "L-FE5A380F", 5, "per AZ", VPC_QUOTAS,
        "delete unused NAT gateways, pin other AZs (AvailabilityZones), or ask for more in Service Quotas",
        lambda config: 1 if nat_gateways(config) else 0,
    ),
    AccountQuota(
        "vpc-links", "VPC links per account per Region", "apigateway", "L-608BDCD4", 10, "per Region",
        "Quotas for configuring and running an HTTP API in API Gateway (API Gateway Developer Guide): 10",
        "delete unused VPC links, or ask for more in Service Quotas (a change of AZs replaces the stack's link, "
        "which briefly takes a second one)",
        lambda config: 1,
    ),
    AccountQuota(
        "codebuild-small", "Concurrently running builds for Linux/Small environment", "codebuild", "L-9D07B6EF", None,
        "per Region",
        'Quotas for AWS CodeBuild (AWS CodeBuild User Guide): "Internal metrics will determine the default quotas '
        'for concurrent running builds"; new accounts can have 0 ("Cannot have more than 0 builds in queue")',
        "give every service an image (image = in the config, or the <Service>Image parameters), so nothing is "
        "built; or ask for more in Service Quotas",
        builds_on(CpuArchitecture.X86_64),
    ),
    AccountQuota(
        "codebuild-arm-small", "Concurrently running builds for ARM/Small environment", "codebuild", "L-5ED1D25B",
        None, "per Region",
        'Quotas for AWS CodeBuild (AWS CodeBuild User Guide): "Concurrently running builds for ARM/Small '
        'environment", a quota of its own, set per account like the Linux ones',
        "give every service an image (image = in the config, or the <Service>Image parameters), so nothing is "
        "built; or ask for more in Service Quotas",
        builds_on(CpuArchitecture.ARM64),
    ),
    AccountQuota(
        "response-headers-policies", "Response headers policies per AWS account", "cloudfront", "L-CF0D4FC5", 20,
        "per account",
        "Quotas (Amazon CloudFront Developer Guide): 20 custom response headers policies per account",
        "test_page = false (no distribution, no policy); or delete unused policies",
        lambda config: 1 if config.test_page else 0,
    ),
    AccountQuota(
        "custom-domain-names", "Public custom domain names per account per Region", "apigateway", "L-A93447B8", 120,
        "per Region",
        "Quotas for configuring and running a REST API in API Gateway (API Gateway Developer Guide): 120 public "
        "custom domain names per account per Region, REST and HTTP APIs together",
        "delete an unused custom domain name, or ask for more in Service Quotas",
        lambda config: 1 if config.domain is not None else 0,
    ),
)


@dataclass(frozen=True)
class Unverifiable:
    """Account state no read-only API call reveals, with the fallback that avoids it."""

    what: str
    fallback: str
    applies: Callable[[StackConfig], bool]


UNVERIFIABLE: tuple[Unverifiable, ...] = (
    Unverifiable(
        "CodeBuild's effective limit in a new account can be below what Service Quotas shows; the image build then "
        'fails with "Cannot have more than 0 builds in queue for the account"',
        "give every service an image (image = in the config, or the <Service>Image parameters), or ask AWS Support "
        "to raise the limit",
        builds_an_image,
    ),
    Unverifiable(
        "CloudFront refuses new distributions in accounts AWS has not verified yet (AccessDenied: \"Your account "
        'must be verified before you can add new CloudFront resources")',
        "test_page = false (the API works without the page); or ask AWS Support to verify the account",
        lambda config: config.test_page,
    ),
    Unverifiable(
        "A custom domain name is unique in a Region across all AWS accounts (\"Custom domain name for REST APIs "
        "in API Gateway\", Considerations): a name another account already holds there fails the create, and no "
        "read-only call shows another account's names",
        "use a name of your own zone that no other account serves, or give the name to this account first",
        lambda config: config.domain is not None,
    ),
)
