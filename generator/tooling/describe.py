"""``ecsapi describe``: what a configuration will create, its quotas and its idle cost, as text."""

from __future__ import annotations

from collections import Counter

from generator.model.account_quotas import ACCOUNT_QUOTAS, UNVERIFIABLE
from generator.model.config import StackConfig
from generator.model.constants import ITEM_METHODS
from generator.model.limits import QUOTAS, Usage
from generator.model.prices import (
    FARGATE_GB_HOUR,
    FARGATE_VCPU_HOUR,
    HOURS_PER_MONTH,
    NAT_GATEWAY_HOUR,
    PUBLIC_IPV4_HOUR,
)
from generator.tooling.assets import SOURCE_ARCHIVE, pinned_digests
from generator.tooling.release import ReleaseSettings

# What a service without an image runs: generator/template/image.py builds it in the deploying account.
BUILT_IMAGE = "(built by the stack)"


def _table(rows: list[tuple], header: tuple) -> list[str]:
    """Left-aligned columns under ``header``, a dashed rule between them."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: tuple) -> str:
        return "  " + "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *map(line, rows)]


def idle_monthly_cost(config: StackConfig) -> list[tuple[str, str, float]]:
    """(item, how it is computed, USD per month) for what runs even with no traffic."""
    nat = config.az_count if config.nat_mode.value == "per-az" else 1
    task_hour = sum(
        s.min_tasks * (s.cpu / 1024 * FARGATE_VCPU_HOUR + s.memory / 1024 * FARGATE_GB_HOUR) for s in config.services
    )
    tasks = sum(s.min_tasks for s in config.services)
    return [
        ("NAT gateways", f"{nat} x ${NAT_GATEWAY_HOUR}/h", nat * NAT_GATEWAY_HOUR * HOURS_PER_MONTH),
        ("Elastic IPs (public IPv4)", f"{nat} x ${PUBLIC_IPV4_HOUR}/h", nat * PUBLIC_IPV4_HOUR * HOURS_PER_MONTH),
        ("Fargate tasks at minimum", f"{tasks} task(s), ${task_hour:.5f}/h in all", task_hour * HOURS_PER_MONTH),
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
    costs = idle_monthly_cost(config)
    lines += [
        "",
        f"Estimated idle monthly cost: an estimate at us-east-1 on-demand list prices, {HOURS_PER_MONTH} h a month",
        "(requests, data transfer, logs, DynamoDB and Cognito are billed by use on top; Spot tasks cost less)",
    ]
    lines += _table([(item, how, f"${usd:,.2f}") for item, how, usd in costs], ("item", "inputs", "USD/month"))
    lines.append(f"  total: ${sum(usd for *_, usd in costs):,.2f} a month")
    return "\n".join(lines) + "\n"
