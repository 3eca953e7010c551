"""``ecsapi describe``: what a configuration will create, its quotas and its idle cost, as text."""

from __future__ import annotations

from collections import Counter
from typing import assert_never

from generator.model.account_quotas import ACCOUNT_QUOTAS, UNVERIFIABLE, nat_gateways
from generator.model.config import CpuArchitecture, NatMode, StackConfig
from generator.model.constants import ITEM_METHODS
from generator.model.limits import QUOTAS, Usage
from generator.model.prices import (
    CLOUD_MAP_RESOURCE_MONTH,
    CLOUDWATCH_METRIC_MONTH,
    CONTAINER_INSIGHTS_METRICS_PER_CLUSTER,
    CONTAINER_INSIGHTS_METRICS_PER_SERVICE,
    CONTAINER_INSIGHTS_METRICS_PER_TASK_FAMILY,
    ECR_GB_MONTH,
    FARGATE_ARM_GB_HOUR,
    FARGATE_ARM_VCPU_HOUR,
    FARGATE_GB_HOUR,
    FARGATE_VCPU_HOUR,
    HOSTED_ZONE_MONTH,
    HOURS_PER_MONTH,
    HTTP_API_PER_MILLION_REQUESTS,
    ITEMSTORE_CPU_MS_PER_REQUEST,
    KMS_KEY_MONTH,
    NAT_GATEWAY_HOUR,
    PUBLIC_IPV4_HOUR,
)
from generator.tooling.assets import SOURCE_ARCHIVE, pinned_digests
from generator.tooling.monitoring_cost import idle_monitoring_items, monitoring_lines
from generator.tooling.release import ReleaseSettings

# What a service without an image runs: generator/template/image.py builds it in the deploying account.
BUILT_IMAGE = "(built by the stack)"


def _table(rows: list[tuple], header: tuple) -> list[str]:
    """Left-aligned columns under ``header``, a dashed rule between them."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: tuple) -> str:
        return "  " + "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *map(line, rows)]


def tasks_with_public_ip(config: StackConfig) -> int:
    """How many tasks hold a public IPv4 address at the scaling floor."""
    match config.nat_mode:
        case NatMode.PER_AZ | NatMode.SINGLE:
            return 0
        case NatMode.NONE:
            return sum(s.min_tasks for s in config.services)
        case _:
            assert_never(config.nat_mode)


def network_summary(config: StackConfig) -> str:
    """One line on where the tasks run and how they reach the internet."""
    match config.nat_mode:
        case NatMode.PER_AZ:
            way = f"private subnets, a NAT gateway in each of the {config.az_count} AZs"
        case NatMode.SINGLE:
            way = "private subnets, one NAT gateway shared by every AZ"
        case NatMode.NONE:
            way = "public subnets, a public IPv4 address each for outbound calls; only the VPC link reaches them"
        case _:
            assert_never(config.nat_mode)
    return f"Tasks: {config.cpu_architecture.value} on Fargate, in {way} (nat_mode {config.nat_mode.value})"


def fargate_prices(architecture: CpuArchitecture) -> tuple[float, float]:
    """(USD per vCPU hour, USD per GB hour) of on-demand Fargate on ``architecture``."""
    match architecture:
        case CpuArchitecture.X86_64:
            return FARGATE_VCPU_HOUR, FARGATE_GB_HOUR
        case CpuArchitecture.ARM64:
            return FARGATE_ARM_VCPU_HOUR, FARGATE_ARM_GB_HOUR
        case _:
            assert_never(architecture)


def container_insights_metrics(config: StackConfig) -> int:
    """Custom metrics Container Insights publishes for the cluster (0 when off): the cluster's,
    each service's and each task definition family's (one family per service here)."""
    if not config.container_insights:
        return 0
    services = len(config.services)
    return (
        CONTAINER_INSIGHTS_METRICS_PER_CLUSTER
        + services * CONTAINER_INSIGHTS_METRICS_PER_SERVICE
        + services * CONTAINER_INSIGHTS_METRICS_PER_TASK_FAMILY
    )


# The built image's compressed size in ECR, an upper bound: the slim Python base image and the
# pinned wheels are well under it. Not measured here (no registry); at $0.10/GB-month it is cents.
BUILT_IMAGE_GB = 0.2


def idle_monthly_cost(config: StackConfig) -> list[tuple[str, str, float]]:
    """(item, how it is computed, USD per month) for everything billed while no request comes in.

    Spot tasks are priced on demand (Fargate Spot's price varies; it is lower), so the total is
    an upper bound. Lines at $0.00 name what exists but is billed only by use."""
    nat = nat_gateways(config)
    vcpu_hour, gb_hour = fargate_prices(config.cpu_architecture)
    task_hour = sum(s.min_tasks * (s.cpu / 1024 * vcpu_hour + s.memory / 1024 * gb_hour) for s in config.services)
    tasks = sum(s.min_tasks for s in config.services)
    public_tasks = tasks_with_public_ip(config)
    metrics = container_insights_metrics(config)
    spot = f", {config.fargate_spot_percent}% on Spot priced on demand" if config.fargate_spot_percent else ""
    rows = [
        ("NAT gateways", f"{nat} x ${NAT_GATEWAY_HOUR}/h", nat * NAT_GATEWAY_HOUR * HOURS_PER_MONTH),
        ("Elastic IPs (public IPv4)", f"{nat} x ${PUBLIC_IPV4_HOUR}/h", nat * PUBLIC_IPV4_HOUR * HOURS_PER_MONTH),
        (
            "Fargate tasks at minimum",
            f"{tasks} task(s) {config.cpu_architecture.value}, ${task_hour:.5f}/h in all{spot}",
            task_hour * HOURS_PER_MONTH,
        ),
        (
            "Tasks' public IPv4",
            f"{public_tasks} x ${PUBLIC_IPV4_HOUR}/h (nat_mode {config.nat_mode.value})",
            public_tasks * PUBLIC_IPV4_HOUR * HOURS_PER_MONTH,
        ),
        ("Cloud Map namespace's hosted zone", f"1 x ${HOSTED_ZONE_MONTH:.2f}/month", HOSTED_ZONE_MONTH),
        (
            "Cloud Map instances",
            f"{tasks} registered task(s) x ${CLOUD_MAP_RESOURCE_MONTH:.2f}/month",
            tasks * CLOUD_MAP_RESOURCE_MONTH,
        ),
        (
            "Container Insights",
            f"{metrics} metrics x ${CLOUDWATCH_METRIC_MONTH:.2f}/month"
            + ("" if config.container_insights else " (container_insights off)"),
            metrics * CLOUDWATCH_METRIC_MONTH,
        ),
    ]
    if any(s.image is None for s in config.services):
        rows.append(
            ("ECR image storage", f"1 image, <= {BUILT_IMAGE_GB} GB x ${ECR_GB_MONTH:.2f}/GB-month",
             BUILT_IMAGE_GB * ECR_GB_MONTH)
        )
    if config.customer_managed_key:
        rows.append(("KMS key", f"1 x ${KMS_KEY_MONTH:.2f}/month", KMS_KEY_MONTH))
    rows.append(
        ("Billed only by use", "HTTP API and VPC link, DynamoDB, Lambda, Cognito"
         + (", CloudFront and S3 (test page)" if config.test_page else "")
         # The stack writes records into the user's zone and creates none: the zone and its
         # queries are billed to the zone's owner, as before the stack existed.
         + (", DNS queries in your hosted zone" if config.domain and config.domain.hosted_zone_id else ""), 0.0)
    )
    return rows


def domain_lines(config: StackConfig) -> list[str]:
    """What the stack creates for ``config.domain``: the name, the certificate, the records."""
    domain = config.domain
    if domain is None:
        return []
    lines = ["", f"Domain: the API at {domain.api_url} (a Regional custom domain, TLS 1.2, mapped to the stage)"]
    zone = domain.hosted_zone_id
    if domain.certificate_arn:
        lines.append(f"  certificate: {domain.certificate_arn} (yours; the stack must be in {domain.certificate_region})")
    elif zone:
        lines.append(f"  certificate: a new ACM certificate for {domain.name}, validated by DNS in hosted zone {zone}")
    else:
        lines.append(f"  certificate: a new ACM certificate for {domain.name}, validated by DNS; {domain.validation_wait}")
    if zone:
        lines.append(f"  records in hosted zone {zone} (the stack creates no zone): {domain.name} alias (A) to the "
                     "domain's Regional target")
    else:
        lines.append(f"  records: none; point {domain.name} at the ApiDomainTarget output yourself (CNAME)")
    lines.append("  default execute-api endpoint: " + ("OFF, only the domain answers"
                                                      if domain.disable_execute_api_endpoint else "still answers"))
    if domain.page_name:
        where = (f"alias (A, AAAA) in hosted zone {zone}" if zone
                 else "no record: point it at the PageDomainTarget output yourself (CNAME)")
        lines.append(f"  test page: https://{domain.page_name}/ with certificate {domain.page_certificate_arn}; {where}")
    return lines


def cost_per_million_requests(config: StackConfig) -> list[tuple[str, str, float]]:
    """(item, how it is computed, USD) for one million requests on top of the idle figure: the
    HTTP API's charge, and the Fargate vCPU time the item store spends on them at the CPU per
    request ``make bench-containers`` measured (generator/model/prices.py). Memory is already
    paid for by the running tasks; DynamoDB and logs are billed per use besides."""
    vcpu_hour, _ = fargate_prices(config.cpu_architecture)
    vcpu_hours = 1_000_000 * ITEMSTORE_CPU_MS_PER_REQUEST / 1000 / 3600
    return [
        ("HTTP API requests", f"1M x ${HTTP_API_PER_MILLION_REQUESTS:.2f}/M", HTTP_API_PER_MILLION_REQUESTS),
        (
            "Fargate vCPU time",
            f"1M x {ITEMSTORE_CPU_MS_PER_REQUEST} ms = {vcpu_hours:.3f} vCPU-h x ${vcpu_hour}/h",
            vcpu_hours * vcpu_hour,
        ),
    ]


def account_quota_lines(config: StackConfig) -> list[str]:
    """The account and Region quotas a launch draws on (``ecsapi preflight --region R`` checks them)."""
    lines = ["", "Account quotas a launch draws on (ecsapi preflight --region R reads their use)"]
    lines += _table(
        [
            (quota.name, quota.quota_code, quota.scope, quota.needs(config),
             "set per account" if quota.default is None else quota.default)
            for quota in ACCOUNT_QUOTAS
        ],
        ("quota", "code", "scope", "this stack", "AWS default"),
    )
    return lines + [f"  not checkable: {item.what}; fallback: {item.fallback}" for item in UNVERIFIABLE
                    if item.applies(config)]


def describe(config: StackConfig, release: ReleaseSettings, template: dict, usage: Usage, fit: int | None) -> str:
    """The text ``ecsapi describe`` prints; ``fit`` is how many such services fit (None: unknown)."""
    zones = (
        f"pinned to {', '.join(config.availability_zones)} (the AvailabilityZones parameter may change them)"
        if config.availability_zones
        else "chosen at deploy time among those where AWS documents HTTP API VPC links and Fargate"
    )
    lines = [
        f"ecsapi v{release.version}: {len(config.services)} service(s) in {config.az_count} AZs",
        f"AZs: {zones}",
        network_summary(config),
        "",
        "Services",
    ]
    lines += _table(
        [
            (s.name, s.path, s.key_attribute, f"{s.cpu}/{s.memory}", f"{s.min_tasks}-{s.max_tasks}", s.port,
             s.image or BUILT_IMAGE)
            for s in config.services
        ],
        ("name", "path", "table key", "cpu/MiB", "tasks", "port", "image"),
    )
    if any(s.image is None for s in config.services):
        lines += [
            "",
            "Image: a service without one runs, by digest, the image the stack builds in your account",
            f"  (CodeBuild) from {release.url(SOURCE_ARCHIVE)}",
            f"  pinned to SHA-256 {pinned_digests()[SOURCE_ARCHIVE]}",
        ]
    lines += ["", "Routes"]
    lines += _table(
        [
            (method, s.path, "JWT (Cognito)" if method in s.protected_methods else "public", s.name)
            for s in config.services for method in ITEM_METHODS
        ],
        ("method", "path", "authorization", "service"),
    )
    lines += domain_lines(config)
    counts = Counter(resource["Type"] for resource in template["Resources"].values())
    lines += ["", f"Resources ({usage.resources})"]
    lines += _table(sorted(counts.items()), ("type", "count"))
    lines += ["", "CloudFormation and API Gateway quotas"]
    lines += _table(
        [(what, f"{getattr(usage, name):,}", f"{limit:,}") for name, limit, what in QUOTAS],
        ("quota", "used", "limit"),
    )
    lines.append(
        f"  services like these that fit: {fit}" if fit is not None
        else "  services that fit: measured from two services; this configuration has one"
    )
    lines += account_quota_lines(config)
    # Alarms and a dashboard are billed every month whether or not a request comes: they are idle
    # costs. Detailed route metrics bill only the hours the route is called (monitoring section).
    *fixed, by_use = idle_monthly_cost(config)
    costs = [*fixed, *idle_monitoring_items(config, template), by_use]
    lines += [
        "",
        f"Estimated idle monthly cost: an estimate at us-east-1 on-demand list prices, {HOURS_PER_MONTH} h a month",
        "(requests, data transfer, logs, DynamoDB and Cognito are billed by use on top; Spot tasks cost less)",
    ]
    lines += _table([(item, how, f"${usd:,.2f}") for item, how, usd in costs], ("item", "inputs", "USD/month"))
    lines.append(f"  total: ${sum(usd for *_, usd in costs):,.2f} a month")
    per_million = cost_per_million_requests(config)
    lines += ["", "Estimated cost per million requests, on top of the idle cost"]
    lines += _table([(item, how, f"${usd:,.2f}") for item, how, usd in per_million], ("item", "inputs", "USD"))
    lines.append(f"  total: ${sum(usd for *_, usd in per_million):,.2f} per million requests")
    lines += monitoring_lines(config, template, _table)
    return "\n".join(lines) + "\n"
