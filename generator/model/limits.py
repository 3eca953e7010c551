"""CloudFormation and API Gateway quotas, checked before anything is written.

A stack that breaks a quota fails at deploy time, minutes in and after a rollback; checking the
rendered template here turns that into an error that says how many services fit.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from generator.model.config import StackConfig
from generator.model.errors import ConfigError
from generator.model.records import dataclass

# CloudFormation quotas (AWS CloudFormation User Guide, "Understand CloudFormation quotas").
MAX_RESOURCES = 500
MAX_PARAMETERS = 200
MAX_OUTPUTS = 200
MAX_TEMPLATE_BYTES_S3 = 1_000_000  # template body hosted in S3, as Launch Stack links use
# A template sent in the request itself (TemplateBody: "maximum length of 51,200 bytes", AWS
# CloudFormation API Reference), as `aws cloudformation deploy --template-file` does without
# --s3-bucket. Not a quota the stack breaks: the CLI warns, and the README gives the S3 route.
MAX_TEMPLATE_BYTES_INLINE = 51_200
MAX_LOGICAL_ID = 255
# Security groups hold at most 60 outbound rules by default; the VPC link group has one per service.
MAX_SECURITY_GROUP_RULES = 60
# HTTP API quotas (API Gateway developer guide): routes and integrations per API.
MAX_ROUTES = 300


@dataclass(frozen=True)
class Usage:
    """How much of each quota a rendered template uses."""

    resources: int
    parameters: int
    outputs: int
    template_bytes: int
    longest_logical_id: int
    vpc_link_rules: int
    routes: int

    @classmethod
    def of(cls, template: dict, text: str) -> Usage:
        names = [*template["Resources"], *template.get("Parameters", {}), *template.get("Outputs", {})]
        types = Counter(resource["Type"] for resource in template["Resources"].values())
        link_group = template["Resources"].get("VpcLinkSecurityGroup", {}).get("Properties", {})
        return cls(
            resources=len(template["Resources"]),
            parameters=len(template.get("Parameters", {})),
            outputs=len(template.get("Outputs", {})),
            template_bytes=len(text.encode("utf-8")),
            longest_logical_id=max(map(len, names)),
            vpc_link_rules=len(link_group.get("SecurityGroupEgress", [])),
            routes=types["AWS::ApiGatewayV2::Route"],
        )


QUOTAS = (
    ("resources", MAX_RESOURCES, "resources per template"),
    ("parameters", MAX_PARAMETERS, "parameters per template"),
    ("outputs", MAX_OUTPUTS, "outputs per template"),
    ("template_bytes", MAX_TEMPLATE_BYTES_S3, "bytes of template body (S3-hosted)"),
    ("longest_logical_id", MAX_LOGICAL_ID, "characters per logical id"),
    ("vpc_link_rules", MAX_SECURITY_GROUP_RULES, "outbound rules in the VPC link security group"),
    ("routes", MAX_ROUTES, "routes per HTTP API"),
)


def services_that_fit(usage_one: Usage, usage_two: Usage) -> int:
    """How many services like these fit every quota, from the usage of one and of two services
    (each quota grows linearly per service)."""
    fits = []
    for name, limit, _ in QUOTAS:
        base, step = getattr(usage_one, name), getattr(usage_two, name) - getattr(usage_one, name)
        if step > 0:
            fits.append(1 + (limit - base) // step)
    return max(0, min(fits)) if fits else 0


def check_limits(config: StackConfig, usage: Usage, render_usage) -> None:
    """Raise :class:`ConfigError` if ``usage`` breaks a quota.

    ``render_usage(config)`` renders another config and returns its :class:`Usage`; it is called
    only on failure, to say how many services would fit.
    """
    broken = [(name, limit, what) for name, limit, what in QUOTAS if getattr(usage, name) > limit]
    if broken:
        name, limit, what = broken[0]
        raise quota_error(
            config, f"the template would have {getattr(usage, name)} {what}, over the limit of {limit}", render_usage
        )


def is_troposphere_quota(error: ValueError) -> bool:
    """troposphere refuses the 501st resource (or 201st parameter or output) as it is added, with
    a plain ValueError whose message starts "Maximum"."""
    return not isinstance(error, ConfigError) and str(error).startswith("Maximum")


def fit_of(config: StackConfig, render_usage) -> int | None:
    """How many services like the first two of ``config`` fit every quota (``None`` with fewer
    than two services): quotas grow linearly, so the first one and two services give base and step."""
    if len(config.services) < 2:
        return None
    try:
        one = render_usage(dataclasses.replace(config, services=config.services[:1]))
        two = render_usage(dataclasses.replace(config, services=config.services[:2]))
    except ConfigError:
        # The first services alone may not make a stack (a machine client whose scopes are all on
        # a later service's routes): then there is no base and step to measure.
        return None
    return services_that_fit(one, two)


def quota_error(config: StackConfig, message: str, render_usage) -> ConfigError:
    """The error for a broken quota, saying how many services like the configured ones fit."""
    fit = fit_of(config, render_usage)
    if fit is not None:
        message += f"; at most {fit} services like these fit"
    return ConfigError("services", f"{len(config.services)} services", message)


def inline_size_warning(path: str, template_bytes: int) -> str | None:
    """One line when a template is too large to send inline, saying what to do; else None."""
    if template_bytes <= MAX_TEMPLATE_BYTES_INLINE:
        return None
    return (
        f"{path} is {template_bytes:,} bytes, over the {MAX_TEMPLATE_BYTES_INLINE:,} that CloudFormation accepts "
        "in a request: deploy it from S3 (aws cloudformation deploy --s3-bucket BUCKET, or create-stack "
        "--template-url); see the README, Deploying from the command line"
    )
