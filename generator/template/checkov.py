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

ECR_WITHOUT_CMK = (
    "CKV_AWS_136",
    "Images are encrypted at rest by Amazon ECR with AES-256; set customer_managed_key = true to "
    "encrypt the stack's repository with its KMS key instead",
)

# nat_mode = "none" (generator/template/network.py): the tasks' only way out is a public address.
# checkov 3.3.30 has CKV_AWS_333 for Terraform only; the skip records the reason for any scanner
# (or checkov version) that flags a public IP on an ECS service.
TASK_PUBLIC_IP = (
    "CKV_AWS_333",
    "nat_mode = none: each task has a public IPv4 address for its outbound calls only (image pull, "
    "logs), instead of a NAT gateway; its security group admits inbound traffic solely from the "
    "API's VPC link security group on the container port, so nothing on the internet can connect to it",
)

# container_insights = false: the cost-conscious variants turn it off.
CLUSTER_WITHOUT_CONTAINER_INSIGHTS = (
    "CKV_AWS_65",
    "container_insights = false: Container Insights is billed per custom metric (about $0.30 each a "
    "month, dozens per cluster); ECS still sends the free per-service CPU and memory utilization "
    "metrics that target tracking scales on",
)

# The alarm topic (generator/template/monitoring.py) without the stack's key.
TOPIC_WITHOUT_CMK = (
    "CKV_AWS_26",
    "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key alias/aws/sns "
    "(its policy cannot admit CloudWatch); set customer_managed_key = true to encrypt the topic with "
    "the stack's key. The messages hold alarm names, states and metric values, no stored data",
)


def skip_checks(resource: AWSObject, *checks: tuple[str, str]) -> AWSObject:
    """Record ``checks`` (id, reason) as checkov skips on ``resource``; returns the resource."""
    if checks:
        resource.Metadata = {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in checks]}}
    return resource

# The custom-resource functions (generator/template/functions.py) run for seconds at create, update and
# delete, call only AWS APIs and hold no data.
FUNCTION_NOT_IN_VPC = (
    "CKV_AWS_117",
    "Calls only AWS APIs and the CloudFormation response URL and holds no data; inside the VPC it "
    "would need the NAT path to reach them and gain nothing",
)
FUNCTION_WITHOUT_DLQ = (
    "CKV_AWS_116",
    "A custom-resource function reports every failure to CloudFormation itself "
    "(generator/runs_in_aws/custom_resource.py), which is where a failed event must surface",
)
FUNCTION_WITHOUT_RESERVED_CONCURRENCY = (
    "CKV_AWS_115",
    "Runs once per stack operation; reserving concurrency fails in accounts whose unreserved "
    "concurrency is at its minimum, which would break stack creation there",
)

# The test page (generator/template/site.py): a bucket and a distribution that serve three public files and
# the stack's public settings (config.json holds ids a browser needs anyway).
BUCKET_WITHOUT_ACCESS_LOGS = (
    "CKV_AWS_18",
    "Holds only the test page, readable solely by CloudFront; S3 server access logs need another "
    "bucket and would record only CloudFront's own reads",
)
DISTRIBUTION_WITH_DEFAULT_CERTIFICATE = (
    "CKV_AWS_174",
    "Serves the *.cloudfront.net name with CloudFront's default certificate, which needs no domain "
    "of the user's own; CloudFront then fixes the TLS policy itself, no template value changes it",
)
DISTRIBUTION_WITHOUT_ACCESS_LOGS = (
    "CKV_AWS_86",
    "Standard logging needs an ACL-enabled log bucket; the page is static and every call it makes "
    "is logged by the API's access log",
)
DISTRIBUTION_WITHOUT_WAF = (
    "CKV_AWS_68",
    "A static test page with no forms posting to it; a web ACL costs at least $5 a month plus "
    "requests. The API it calls is throttled per route",
)
