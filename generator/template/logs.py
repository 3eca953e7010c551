"""CloudWatch log groups: every one with a retention period, so logs never pile up unbounded."""

from __future__ import annotations

from troposphere import AWSHelperFn, GetAtt, Template, kms, logs

from generator.model.config import StackConfig
from generator.template.checkov import LOG_GROUP_WITHOUT_CMK, skip_checks
from generator.template.retention import log_policies


def add_log_group(
    template: Template,
    config: StackConfig,
    key: kms.Key | None,
    title: str,
    retention_days: int | None = None,
    name: AWSHelperFn | None = None,
    condition: str | None = None,
) -> logs.LogGroup:
    """A log group named ``name``, or by CloudFormation (so two stacks never collide) when None,
    kept for ``retention_days`` (default: the stack's), encrypted with ``key`` when there is one,
    and deleted or retained with the stack's data; only under ``condition`` when one is named."""
    encryption = {"KmsKeyId": GetAtt(key, "Arn")} if key is not None else {}
    named = {"LogGroupName": name} if name is not None else {}
    log_group = template.add_resource(
        logs.LogGroup(
            title,
            RetentionInDays=retention_days or config.log_retention_days,
            **({"Condition": condition} if condition else {}),
            **encryption,
            **named,
            **log_policies(config),
        )
    )
    return skip_checks(log_group, *([] if key is not None else [LOG_GROUP_WITHOUT_CMK]))
