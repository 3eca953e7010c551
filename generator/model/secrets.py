"""Secrets a task reads at start: Secrets Manager secrets and SSM parameters, by ARN.

ECS puts each into the container's environment before it starts, fetched with the task's
*execution* role ("Pass sensitive data to an Amazon ECS container", Amazon ECS Developer Guide):
``secretsmanager:GetSecretValue`` on the secret, ``ssm:GetParameters`` on the parameter, and
``kms:Decrypt`` on a customer managed key that encrypts either. The task definition's ``ValueFrom``
takes "the full ARN of the AWS Secrets Manager secret or the full ARN of the parameter in the SSM
Parameter Store" (AWS::ECS::TaskDefinition Secret, AWS CloudFormation Template Reference); full ARNs
also work across Regions, so the Region of an ARN may differ from the stack's. A Secrets Manager
ARN may name one JSON key, version stage or version id: ``...:secret:name-AbCdEf:json-key:stage:id``
(each part may be empty), which ECS supports on Fargate platform 1.4.0 and later.
"""

from __future__ import annotations

from generator.model.errors import ConfigError
from generator.model.patterns import lazy
from generator.model.records import dataclass

PARTITION = r"aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f)?"
REGION = r"[a-z]{2}(-[a-z]+)+-[0-9]+"
ACCOUNT = r"[0-9]{12}"
SECRETS_MANAGER_ARN = lazy(
    rf"^arn:(?P<partition>{PARTITION}):secretsmanager:(?P<region>{REGION}):(?P<account>{ACCOUNT}):secret:"
    r"(?P<name>[A-Za-z0-9/_+=.@-]{1,512})(?P<selector>:[^:]*:[^:]*:[^:]*)?$"
)
SSM_PARAMETER_ARN = lazy(
    rf"^arn:(?P<partition>{PARTITION}):ssm:(?P<region>{REGION}):(?P<account>{ACCOUNT}):parameter/"
    r"(?P<name>[A-Za-z0-9/_.-]{1,2048})$"
)
KMS_KEY_ARN = lazy(
    rf"^arn:(?P<partition>{PARTITION}):kms:(?P<region>{REGION}):(?P<account>{ACCOUNT}):key/"
    r"(?P<name>[A-Za-z0-9-]{1,128})$"
)
# Secrets Manager ends every secret's ARN with '-' and six random characters. An ARN without them is
# "partial"; Secrets Manager itself takes a name that ends in '-' and six characters for a complete
# ARN ("Finding a secret from a partial ARN", AWS Secrets Manager User Guide, troubleshooting), and
# so does this module. IAM matches a partial ARN only with the suffix spelled as wildcards: '-??????'.
COMPLETE_SECRET_SUFFIX = lazy(r"-[A-Za-z0-9]{6}$")

ALLOWED_SECRET = (
    "give the full ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf, "
    "optionally :json-key:version-stage:version-id) or of an SSM parameter "
    "(arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)"
)


@dataclass(frozen=True)
class SecretSource:
    """Where one secret comes from, and what the execution role must be allowed to read it."""

    value_from: str
    """The task definition's ``ValueFrom``: the ARN as given."""
    service: str
    """``secretsmanager`` or ``ssm``."""
    partition: str
    region: str
    account: str
    iam_resource: str
    """The one resource the execution role may read: the secret's ARN without a JSON-key selector
    (with ``-??????`` for a partial ARN), or the parameter's ARN."""


def secret_source(field: str, arn: object) -> SecretSource:
    """Parse ``arn``; a :class:`ConfigError` on ``field`` unless it is a secret or parameter ARN."""
    if not isinstance(arn, str):
        raise ConfigError(field, arn, ALLOWED_SECRET)
    match = SECRETS_MANAGER_ARN.match(arn)
    if match:
        base = arn[: match.start("selector")] if match.group("selector") else arn
        resource = base if COMPLETE_SECRET_SUFFIX.search(match.group("name")) else base + "-??????"
        return SecretSource(arn, "secretsmanager", match.group("partition"), match.group("region"),
                            match.group("account"), resource)
    match = SSM_PARAMETER_ARN.match(arn)
    if match:
        return SecretSource(arn, "ssm", match.group("partition"), match.group("region"), match.group("account"), arn)
    raise ConfigError(field, arn, ALLOWED_SECRET)


def kms_key_partition(field: str, arn: object) -> str:
    """The partition of a KMS key ARN (``arn:aws:kms:REGION:ACCOUNT:key/ID``); aliases are refused
    because IAM policies match keys by key ARN, never by alias."""
    match = KMS_KEY_ARN.match(arn) if isinstance(arn, str) else None
    if not match:
        raise ConfigError(
            field, arn, "give the key's ARN, arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (not an alias: IAM "
            "policies match keys by key ARN)",
        )
    return match.group("partition")
