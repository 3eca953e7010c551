"""IAM: trust policies and least-privilege statements, each scoped to the exact resource.

Every statement the template carries comes from a function here, so a reviewer reads one file.
``UNSCOPED_ACTIONS`` lists the only actions that may appear with ``Resource: "*"``, each with the
reason AWS gives for it.
"""

from __future__ import annotations

from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    Bool,
    Condition,
    Deny,
    Policy,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from awacs.helpers.trust import make_simple_assume_policy
from troposphere import AWSHelperFn, AWSObject, GetAtt, Sub, iam

from generator.template.actions import (
    awslambda,
    cloudfront,
    codebuild,
    dynamodb,
    ec2,
    ecr,
    kms,
    logs,
    s3,
    scheduler,
    secretsmanager,
    ssm,
)
from generator.template.actions import iam as iam_actions

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
CODEBUILD_PRINCIPAL = "codebuild.amazonaws.com"
FLOW_LOGS_PRINCIPAL = "vpc-flow-logs.amazonaws.com"
CLOUDFRONT_PRINCIPAL = "cloudfront.amazonaws.com"

# Actions that cannot be scoped to a resource, with the reason from the AWS Service Authorization
# Reference. Nothing else may be granted on "*"; tests/template/test_security.py enforces it.
UNSCOPED_ACTIONS: dict[str, str] = {
    "ecr:GetAuthorizationToken": (
        "the registry login token is account-wide; the action supports no resource-level "
        "permissions (Service Authorization Reference, Amazon ECR)"
    ),
    "ec2:DescribeAvailabilityZones": (
        "listing a region's AZs is account-wide; the action supports no resource-level permissions "
        "(Service Authorization Reference, Amazon EC2)"
    ),
}


# The only DynamoDB actions the item-store containers call; the task roles and the VPC endpoint
# policy both grant exactly these.
ITEM_STORE_ACTIONS = (dynamodb.GetItem, dynamodb.PutItem)
# What your own services may do with their own tables: reading and writing items, in batches and
# transactions too (TransactGetItems/TransactWriteItems are authorized as the item actions they
# contain, and ConditionCheckItem for their condition checks: "Using IAM with DynamoDB
# transactions", Amazon DynamoDB Developer Guide), queries and scans of the table and its indexes,
# and DescribeTable (which SDK helpers such as boto3's Table resource call). No table management,
# no streams: the stack owns the tables' definitions.
OWN_TABLE_ACTIONS = (
    dynamodb.BatchGetItem, dynamodb.BatchWriteItem, dynamodb.ConditionCheckItem, dynamodb.DeleteItem,
    dynamodb.DescribeTable, dynamodb.GetItem, dynamodb.PutItem, dynamodb.Query, dynamodb.Scan, dynamodb.UpdateItem,
)


def execution_role_trust() -> Policy:
    """ECS assumes the execution role to pull the image and start logging.

    No source conditions: AWS documents them for task roles, not for execution roles, and a
    condition ECS does not send would stop every task from starting.
    """
    return make_simple_assume_policy(ECS_TASKS_PRINCIPAL)


def task_role_trust() -> Policy:
    """Only ECS tasks of this account and region may assume the role (confused-deputy guard)."""
    policy = make_simple_assume_policy(ECS_TASKS_PRINCIPAL)
    policy.Statement[0].Condition = Condition(
        [
            ArnLike({"aws:SourceArn": Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*")}),
            StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")}),
        ]
    )
    return policy


def flow_logs_trust() -> Policy:
    """Only flow logs of this account and region may assume the role: the confused-deputy guard
    "IAM role for publishing flow logs to CloudWatch Logs" (Amazon VPC User Guide) recommends,
    aws:SourceAccount and aws:SourceArn, with the flow log's id a wildcard (the role must exist
    before the flow log that uses it)."""
    policy = make_simple_assume_policy(FLOW_LOGS_PRINCIPAL)
    policy.Statement[0].Condition = Condition(
        [
            ArnLike({"aws:SourceArn": Sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*")}),
            StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")}),
        ]
    )
    return policy


def item_store_access(table: AWSObject) -> Statement:
    """Read and write single items of one table: all the item-store containers do."""
    return Statement(Effect=Allow, Action=list(ITEM_STORE_ACTIONS), Resource=[GetAtt(table, "Arn")])


def own_tables_access(tables: list[AWSObject]) -> Statement:
    """Read and write the items of exactly these tables and query their indexes (``<arn>/index/*``)."""
    resources = []
    for table in tables:
        resources += [GetAtt(table, "Arn"), Sub(f"${{{table.title}.Arn}}/index/*")]
    return Statement(Effect=Allow, Action=list(OWN_TABLE_ACTIONS), Resource=resources)


def read_secrets(resources: list[str]) -> Statement:
    """Read the values of exactly these Secrets Manager secrets (the execution role, at task start).

    ``resources`` are :attr:`generator.model.secrets.SecretSource.iam_resource`: whole-secret ARNs
    (``-??????`` for a partial ARN), never a JSON-key selector, which IAM would not match."""
    return Statement(Effect=Allow, Action=[secretsmanager.GetSecretValue], Resource=list(resources))


def read_parameters(resources: list[str]) -> Statement:
    """Read exactly these SSM parameters (ECS calls ``ssm:GetParameters`` for a task's secrets)."""
    return Statement(Effect=Allow, Action=[ssm.GetParameters], Resource=list(resources))


def decrypt_secrets(key_arn: str, readers: list[tuple[str, str]]) -> Statement:
    """Decrypt with the customer managed key that encrypts the service's secrets, and only when
    the services that hold them call KMS (``readers``: (``secretsmanager`` or ``ssm``, region) pairs,
    a secret's region may differ from the stack's). "Pass sensitive data to an Amazon ECS container"
    asks for kms:Decrypt only with a customer managed key."""
    return Statement(
        Effect=Allow,
        Action=[kms.Decrypt],
        Resource=[key_arn],
        Condition=Condition(StringEquals({"kms:ViaService": [
            Sub(f"{service}.{region}.${{AWS::URLSuffix}}") for service, region in sorted(set(readers))
        ]})),
    )


def write_log_streams(log_group: AWSObject) -> Statement:
    """Create streams in, and write events to, one log group (the awslogs driver's needs).

    A log group's ``Arn`` attribute ends in ``:*``, so it covers that group's streams only.
    """
    return Statement(Effect=Allow, Action=[logs.CreateLogStream, logs.PutLogEvents], Resource=[GetAtt(log_group, "Arn")])


def use_key_through_dynamodb(key: AWSObject) -> Statement:
    """Use the stack's KMS key, but only when DynamoDB calls KMS for this account's tables."""
    return Statement(
        Effect=Allow,
        Action=[kms.Decrypt, kms.Encrypt, kms.GenerateDataKey, kms.DescribeKey],
        Resource=[GetAtt(key, "Arn")],
        Condition=Condition(StringEquals({"kms:ViaService": Sub("dynamodb.${AWS::Region}.${AWS::URLSuffix}")})),
    )


def registry_login() -> Statement:
    """Get an ECR login token: needed to pull a private ECR image (see ``UNSCOPED_ACTIONS``)."""
    return Statement(Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"])


def pull_private_images() -> Statement:
    """Pull layers from this account's ECR repositories in this region, and nothing else."""
    return Statement(
        Effect=Allow,
        Action=[ecr.BatchCheckLayerAvailability, ecr.BatchGetImage, ecr.GetDownloadUrlForLayer],
        Resource=[Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*")],
    )


def pull_image_from(repository_arn: Sub) -> Statement:
    """Pull layers from one named ECR repository, possibly of another account or Region (the
    service's configured image); that repository's own policy must also admit this account."""
    return Statement(
        Effect=Allow,
        Action=[ecr.BatchCheckLayerAvailability, ecr.BatchGetImage, ecr.GetDownloadUrlForLayer],
        Resource=[repository_arn],
    )


def codebuild_trust() -> Policy:
    """Only CodeBuild projects of this account and region may assume the role (the confused-deputy
    guard "Cross-service confused deputy prevention", AWS CodeBuild User Guide, recommends)."""
    policy = make_simple_assume_policy(CODEBUILD_PRINCIPAL)
    policy.Statement[0].Condition = Condition(
        [
            ArnLike({"aws:SourceArn": Sub("arn:${AWS::Partition}:codebuild:${AWS::Region}:${AWS::AccountId}:project/*")}),
            StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")}),
        ]
    )
    return policy


def scheduler_trust() -> Policy:
    """Only EventBridge Scheduler, for schedules of this account, may assume the role ("Set up the
    execution role", EventBridge Scheduler User Guide: aws:SourceAccount against confused deputies)."""
    policy = make_simple_assume_policy("scheduler.amazonaws.com")
    policy.Statement[0].Condition = Condition(StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")}))
    return policy


def invoke_function(function: AWSObject) -> Statement:
    """Invoke one Lambda function (the schedule's target)."""
    return Statement(Effect=Allow, Action=[awslambda.InvokeFunction], Resource=[GetAtt(function, "Arn")])


def create_one_off_schedules(prefix: str) -> Statement:
    """Create schedules named ``<prefix>*`` in the default group (the image build's fallback check;
    they delete themselves after running)."""
    return Statement(
        Effect=Allow,
        Action=[scheduler.CreateSchedule],
        Resource=[Sub(f"arn:${{AWS::Partition}}:scheduler:${{AWS::Region}}:${{AWS::AccountId}}:schedule/default/{prefix}*")],
    )


def pass_role_to_scheduler(role: AWSObject) -> Statement:
    """Hand one role to EventBridge Scheduler, and to no other service."""
    return Statement(
        Effect=Allow,
        Action=[iam_actions.PassRole],
        Resource=[GetAtt(role, "Arn")],
        Condition=Condition(StringEquals({"iam:PassedToService": "scheduler.amazonaws.com"})),
    )


def push_images(repository: AWSObject) -> Statement:
    """Push images to one repository: the actions "IAM permissions for pushing an image to an
    Amazon ECR private repository" (Amazon ECR User Guide) lists, scoped to its ARN."""
    return Statement(
        Effect=Allow,
        Action=[
            ecr.BatchCheckLayerAvailability, ecr.BatchGetImage, ecr.CompleteLayerUpload, ecr.InitiateLayerUpload,
            ecr.PutImage, ecr.UploadLayerPart,
        ],
        Resource=[GetAtt(repository, "Arn")],
    )


def describe_images(repository: AWSObject) -> Statement:
    """Look up an image's digest by tag in one repository."""
    return Statement(Effect=Allow, Action=[ecr.DescribeImages], Resource=[GetAtt(repository, "Arn")])


def run_builds(project: AWSObject) -> Statement:
    """Start, watch, list and stop the builds of one CodeBuild project."""
    return Statement(
        Effect=Allow,
        Action=[codebuild.BatchGetBuilds, codebuild.ListBuildsForProject, codebuild.StartBuild, codebuild.StopBuild],
        Resource=[GetAtt(project, "Arn")],
    )


def read_builds(project: AWSObject) -> Statement:
    """Read the builds of one CodeBuild project (the answering function: how a build ended)."""
    return Statement(Effect=Allow, Action=[codebuild.BatchGetBuilds], Resource=[GetAtt(project, "Arn")])


# What "IAM role for publishing flow logs to CloudWatch Logs" (Amazon VPC User Guide) says the
# role's policy must include at least. AWS shows it on "*"; here each action is scoped as far as it
# can be (see write_flow_logs).
FLOW_LOG_ACTIONS = (
    logs.CreateLogGroup, logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogGroups, logs.DescribeLogStreams,
)


def write_flow_logs(log_group: AWSObject) -> list[Statement]:
    """What VPC Flow Logs needs to deliver to one log group: create (if missing) and write that
    group, by its name (what CreateLogGroup names) and its ``Arn`` (``...:*``, its streams); list
    the log groups of this account and region, which is how it finds the group."""
    group = Sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{log_group.title}}}")
    return [
        Statement(
            Effect=Allow,
            Action=[a for a in FLOW_LOG_ACTIONS if a != logs.DescribeLogGroups],
            Resource=[group, GetAtt(log_group, "Arn")],
        ),
        Statement(
            Effect=Allow,
            Action=[logs.DescribeLogGroups],
            Resource=[Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")],
        ),
    ]


def create_service_linked_role(service: str, role_name: str) -> Statement:
    """Create one service-linked role and nothing else: the statement "Service-linked role
    permissions" (IAM User Guide) gives, on the role's ARN under ``aws-service-role/<service>/``
    with ``iam:AWSServiceName`` naming the service."""
    return Statement(
        Effect=Allow,
        Action=[iam_actions.CreateServiceLinkedRole],
        Resource=[Sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/aws-service-role/{service}/{role_name}")],
        Condition=Condition(StringLike({"iam:AWSServiceName": service})),
    )


def read_service_linked_role(service: str, role_name: str) -> Statement:
    """Look up one service-linked role and nothing else (``iam:GetRole`` on exactly its ARN), so
    the function finds a role an administrator created where creating it is denied."""
    return Statement(
        Effect=Allow,
        Action=[iam_actions.GetRole],
        Resource=[Sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/aws-service-role/{service}/{role_name}")],
    )


def describe_availability_zones() -> Statement:
    """List the region's Availability Zones with their zone IDs (see ``UNSCOPED_ACTIONS``)."""
    return Statement(Effect=Allow, Action=[ec2.DescribeAvailabilityZones], Resource=["*"])


def write_and_delete_objects(bucket: AWSObject) -> Statement:
    """Write and delete objects of one bucket (the test page publisher); no reading, no listing."""
    return Statement(Effect=Allow, Action=[s3.PutObject, s3.DeleteObject], Resource=[Sub(f"${{{bucket.title}.Arn}}/*")])


def empty_versioned_bucket(bucket: AWSObject) -> list[Statement]:
    """List and delete every object version of one bucket: what emptying a versioned bucket takes
    (the test page publisher, on Delete). ListBucketVersions is a bucket action, DeleteObjectVersion
    an object action ("Actions, resources, and condition keys for Amazon S3", Service Authorization
    Reference)."""
    return [
        Statement(Effect=Allow, Action=[s3.ListBucketVersions], Resource=[GetAtt(bucket, "Arn")]),
        Statement(Effect=Allow, Action=[s3.DeleteObjectVersion], Resource=[Sub(f"${{{bucket.title}.Arn}}/*")]),
    ]


def invalidate_distribution(distribution_arn: AWSHelperFn) -> Statement:
    """Invalidate one distribution's cache (after the publisher rewrote the page)."""
    return Statement(Effect=Allow, Action=[cloudfront.CreateInvalidation], Resource=[distribution_arn])


def use_key_through_s3(key: AWSObject) -> Statement:
    """Encrypt new objects with the stack's KMS key, but only when S3 calls KMS for this account.

    An upload to a bucket encrypted with SSE-KMS needs ``kms:GenerateDataKey`` on the key
    ("Using server-side encryption with AWS KMS keys", Amazon S3 User Guide); the publisher
    never reads objects back, so it needs no ``kms:Decrypt``.
    """
    return Statement(
        Effect=Allow,
        Action=[kms.GenerateDataKey],
        Resource=[GetAtt(key, "Arn")],
        Condition=Condition(StringEquals({"kms:ViaService": Sub("s3.${AWS::Region}.${AWS::URLSuffix}")})),
    )


def cloudfront_reads_objects(bucket: AWSObject, distribution_arn: AWSHelperFn) -> Statement:
    """Bucket policy: CloudFront may read objects, only for requests it signs for one distribution
    ("Restricting access to an Amazon S3 origin", Amazon CloudFront Developer Guide)."""
    return Statement(
        Sid="CloudFrontReadsForThisDistributionOnly",
        Effect=Allow,
        Principal=Principal("Service", CLOUDFRONT_PRINCIPAL),
        Action=[s3.GetObject],
        Resource=[Sub(f"${{{bucket.title}.Arn}}/*")],
        Condition=Condition(StringEquals({"AWS:SourceArn": distribution_arn})),
    )


def deny_requests_without_tls(bucket: AWSObject) -> Statement:
    """Bucket policy: any request to the bucket or its objects over plain HTTP is refused."""
    return Statement(
        Sid="DenyRequestsWithoutTls",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[Action("s3", "*")],
        Resource=[GetAtt(bucket, "Arn"), Sub(f"${{{bucket.title}.Arn}}/*")],
        Condition=Condition(Bool({"aws:SecureTransport": "false"})),
    )


def policy(*statements: Statement) -> PolicyDocument:
    return PolicyDocument(Version="2012-10-17", Statement=list(statements))


def role(
    title: str, trust: Policy, policy_name: str, *statements: Statement, condition: str | None = None
) -> iam.Role:
    """A role with one inline policy of ``statements``; no managed policies, which grant more.
    Only under ``condition`` when one is named."""
    return iam.Role(
        title,
        AssumeRolePolicyDocument=trust,
        Policies=[iam.Policy(PolicyName=policy_name, PolicyDocument=policy(*statements))],
        **({"Condition": condition} if condition else {}),
    )
