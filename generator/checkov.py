"""Checkov checks this template skips on purpose, each with the reason a reviewer would accept.

A skip lives in the resource's Metadata, where checkov reads it; every reason is written here once.
"""

from __future__ import annotations

from troposphere import AWSObject

# Without ``customer_managed_key`` the data is still encrypted at rest, with AWS managed keys.
LOG_GROUP_WITHOUT_CMK = (
    "CKV_AWS_158",
    "Encrypted at rest by CloudWatch Logs with an AWS managed key; set customer_managed_key = true "
    "for a KMS key you control (about $1 a month plus requests)",
)
TABLE_WITHOUT_CMK = (
    "CKV_AWS_119",
    "Encrypted at rest with the AWS managed key aws/dynamodb; set customer_managed_key = true for a "
    "KMS key you control (about $1 a month plus requests)",
)


def skip_checks(resource: AWSObject, *checks: tuple[str, str]) -> AWSObject:
    """Record ``checks`` (id, reason) as checkov skips on ``resource``; returns the resource."""
    if checks:
        resource.Metadata = {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in checks]}}
    return resource
