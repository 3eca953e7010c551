"""Protocol facts about AWS that the generator relies on, each written once.

Where a value is a contract with the containers (environment names, port, health check, limits),
it comes from ``itemstore.contract``, which the containers themselves use.
"""

from __future__ import annotations

from itemstore.contract import (
    DEFAULT_DRAIN_SECONDS,
    ENV_DRAIN_SECONDS,
    ENV_GRACEFUL_TIMEOUT,
    ENV_ITEM_PATH_PREFIX,
    ENV_PORT,
    ENV_REGION,
    ENV_TABLE_KEY,
    ENV_TABLE_NAME,
    GATEWAY_TIMEOUT_SECONDS,
    GRACEFUL_TIMEOUT_SECONDS,
    HEALTH_CHECK_COMMAND,
    ITEM_METHODS,
    MAX_DRAIN_SECONDS,
    MAX_ID_BYTES,
    MAX_ITEM_BYTES,
    STOP_MARGIN_SECONDS,
    TABLE_OPERATIONS,
    TASK_ENVIRONMENT,
    stop_timeout_seconds,
)
from itemstore.contract import DEFAULT_PORT as DEFAULT_CONTAINER_PORT

# Re-exported, so that generator code reads these contract facts from one module of its own. Not
# every fact lives here: quotas are in limits.py, prices in prices.py, and the OpenAPI document reads
# the error codes and statuses from itemstore.contract directly.
__all__ = [
    "DEFAULT_CONTAINER_PORT", "ENV_ITEM_PATH_PREFIX", "ENV_PORT", "ENV_REGION", "ENV_TABLE_KEY", "ENV_TABLE_NAME",
    "GRACEFUL_TIMEOUT_SECONDS", "HEALTH_CHECK_COMMAND", "ITEM_METHODS", "MAX_ID_BYTES", "MAX_ITEM_BYTES",
    "DEFAULT_DRAIN_SECONDS", "ENV_DRAIN_SECONDS", "ENV_GRACEFUL_TIMEOUT", "MAX_DRAIN_SECONDS", "STOP_MARGIN_SECONDS",
    "stop_timeout_seconds",
    "TABLE_OPERATIONS",
]

# ECS sends SIGTERM, then SIGKILL after the container's stopTimeout: "For tasks that use the Fargate
# launch type, the max stop timeout value is 120 seconds and if the parameter is not specified, the
# default value of 30 seconds is used" (Amazon ECS API Reference, ContainerDefinition, stopTimeout).
FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120

# API Gateway HTTP API private integrations reach Cloud Map services through a VPC link. The
# integration must be HTTP_PROXY over VPC_LINK and its URI the Cloud Map service ARN; payload
# format 1.0 is the only one HTTP_PROXY accepts.
INTEGRATION_TYPE = "HTTP_PROXY"
INTEGRATION_CONNECTION_TYPE = "VPC_LINK"
INTEGRATION_METHOD = "ANY"
INTEGRATION_PAYLOAD_FORMAT = "1.0"
# HTTP APIs cap integrations at 30 s; the containers answer well within that or fail fast (503).
INTEGRATION_TIMEOUT_MS = GATEWAY_TIMEOUT_SECONDS * 1000

# A JWT authorizer reads the bearer token from this header; Cognito's issuer URL has this shape.
JWT_IDENTITY_SOURCE = "$request.header.Authorization"
COGNITO_ISSUER = "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPoolId}"

# Cloud Map SRV records carry the port, so ECS must register the container port with each task.
SRV_RECORD_TTL_SECONDS = 60

# The environment ecsapi sets in every task definition; users may not override it.
RESERVED_ENVIRONMENT = frozenset(TASK_ENVIRONMENT)
# The root filesystem is read-only; this task volume is the one writable place (gunicorn's
# worker heartbeat files live there).
WRITABLE_SCRATCH_PATH = "/tmp"

# Fargate task sizes AWS accepts: cpu units -> allowed memory (MiB).
FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)

# Service task counts. The scaling floor is at least 1: a target-tracking policy does not scale
# when its metric has insufficient data ("Use a target metric to scale Amazon ECS services", Amazon
# ECS Developer Guide), and a service at 0 tasks reports no CPU, so it would never scale out. The
# floor is at most MAX_MIN_TASKS because the template's Rules can compare MinTasks and MaxTasks
# only by listing values (rule functions have no numeric comparison), one assertion per allowed
# floor. MAX_TASKS bounds the MaxTasks parameter.
MIN_MIN_TASKS = 1
MAX_MIN_TASKS = 10
MAX_TASKS = 1000

# The ECS service-linked role that Application Auto Scaling uses for ECS services. AWS creates it
# on first use; a hand-made role with another trust principal does not work.
ECS_AUTOSCALING_ROLE = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
    "ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
)
