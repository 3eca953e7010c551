"""An optional customer-managed KMS key for the stack's tables and log groups.

Off by default: AWS managed keys already encrypt everything at rest. The key is for teams that need
to control and audit the key policy themselves, at about $1 a month plus requests.
"""

from __future__ import annotations

from awacs.aws import Action, Allow, ArnEquals, ArnLike, AWSPrincipal, Condition, Principal, Statement, StringEquals
from troposphere import Sub, Template, kms

from generator.model.config import StackConfig
from generator.template.actions import kms as kms_actions
from generator.template.alarm_names import stack_alarms
from generator.template.iam import policy
from generator.template.retention import data_policies


def add_stack_key(
    template: Template, config: StackConfig, other_users: tuple[Statement, ...] = ()
) -> kms.Key | None:
    """The key, or ``None`` when ``config.customer_managed_key`` is off.

    ``other_users`` are the key policy statements of builders that come later and need the key
    (the test page's :func:`cloudfront_decrypts`): they are written with the key, never appended to
    it afterwards. In a key policy ``Resource: "*"`` means "this key", so every statement is scoped
    to the key.
    """
    if not config.customer_managed_key:
        return None
    return template.add_resource(
        kms.Key(
            "StackKey",
            Description=Sub("${AWS::StackName}: tables and log groups"),
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy=policy(
                # Without this statement nobody, not even the account, could manage the key; IAM
                # policies then decide who may use it (the task roles get kms via DynamoDB only).
                Statement(
                    Sid="AccountAdministers",
                    Effect=Allow,
                    Principal=AWSPrincipal(Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")),
                    Action=[Action("kms", "*")],
                    Resource=["*"],
                ),
                Statement(
                    Sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                    Effect=Allow,
                    Principal=Principal("Service", Sub("logs.${AWS::Region}.${AWS::URLSuffix}")),
                    Action=[kms_actions.Encrypt, kms_actions.Decrypt, kms_actions.ReEncryptFrom,
                            kms_actions.ReEncryptTo, kms_actions.GenerateDataKey,
                            kms_actions.GenerateDataKeyWithoutPlaintext, kms_actions.DescribeKey],
                    Resource=["*"],
                    Condition=Condition(
                        ArnLike({
                            "kms:EncryptionContext:aws:logs:arn": Sub(
                                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
                            )
                        })
                    ),
                ),
                *([_cloudwatch_alarms_publish(config)] if config.alarms else []),
                *other_users,
            ),
            # Retained data stays readable only while its key exists.
            **data_policies(config),
        )
    )


def _cloudwatch_alarms_publish(config: StackConfig) -> Statement:
    """CloudWatch, for this stack's alarms only, may use the key to publish to the alarm topic
    (generator/template/monitoring.py), which the key encrypts.

    CloudWatch calls KMS itself when an alarm publishes to an encrypted topic, so the key policy
    must admit it ("How do I configure a CloudWatch alarm with an encrypted SNS topic?", AWS
    re:Post Knowledge Center: kms:Decrypt and kms:GenerateDataKey* for cloudwatch.amazonaws.com).
    That is also why a topic is never encrypted with the AWS managed key alias/aws/sns, whose policy
    nobody can change: its alarms would fail with "CloudWatch Alarms does not have authorization
    to access the SNS topic encryption key" and send nothing.
    """
    return Statement(
        Sid="CloudWatchAlarmsOfThisStackPublishToItsTopic",
        Effect=Allow,
        Principal=Principal("Service", "cloudwatch.amazonaws.com"),
        Action=[kms_actions.Decrypt, kms_actions.GenerateDataKey],
        Resource=["*"],
        Condition=Condition([
            StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")}),
            ArnEquals({"aws:SourceArn": alarm_arns(config)}),
        ]),
    )


def alarm_arns(config: StackConfig) -> list[Sub]:
    """The ARN of every alarm of this stack, each exactly (alarm_names.stack_alarms)."""
    return [name.arn for name in stack_alarms(config)]


def cloudfront_decrypts() -> Statement:
    """The key policy statement by which CloudFront may decrypt objects it reads for this account's
    distributions, which an S3 origin encrypted with this key needs ("Restricting access to an
    Amazon S3 origin", SSE-KMS, Amazon CloudFront Developer Guide).

    AWS names the one distribution; here any distribution of this account may, because the key
    encrypts the bucket the distribution reads, so naming the distribution in the key policy would
    be a dependency cycle (key -> distribution -> bucket -> key). The bucket policy still admits
    only this distribution, and KMS decrypts nothing CloudFront was not allowed to read.
    """
    return Statement(
        Sid="CloudFrontDecryptsForThisAccountsDistributions",
        Effect=Allow,
        Principal=Principal("Service", "cloudfront.amazonaws.com"),
        Action=[kms_actions.Decrypt],
        Resource=["*"],
        # The condition AWS documents for origin access control (AWS:SourceArn), widened to
        # the account's distributions; the ARN carries the account id.
        Condition=Condition(
            ArnLike({"AWS:SourceArn": Sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*")})
        ),
    )
