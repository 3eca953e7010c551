"""CloudWatch log groups: every one with a retention period, so logs never pile up unbounded."""

from __future__ import annotations

from troposphere import Template, logs

from .config import StackConfig


def add_log_group(template: Template, config: StackConfig, title: str, retention_days: int | None = None) -> logs.LogGroup:
    """A log group named by CloudFormation (so two stacks never collide), kept for
    ``retention_days`` (default: the stack's), deleted or retained with the stack's data."""
    policy = config.data_deletion_policy.value
    return template.add_resource(
        logs.LogGroup(
            title,
            RetentionInDays=retention_days or config.log_retention_days,
            DeletionPolicy=policy,
            UpdateReplacePolicy=policy,
        )
    )
