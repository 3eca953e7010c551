"""The contract between the ecsapi template and the itemstore containers, each fact written once.

The generator (``generator/``) imports this module to build task definitions, routes and the
OpenAPI document; the containers import it to serve them. It uses only the standard library, so
importing it loads neither Flask nor botocore, and the containers stay installable without the
generator.
"""

from __future__ import annotations

# Environment variables the task definition sets and the service reads.
ENV_TABLE_NAME = "TABLE_NAME"
ENV_TABLE_KEY = "TABLE_KEY"
ENV_ITEM_PATH_PREFIX = "ITEM_PATH_PREFIX"
ENV_REGION = "AWS_REGION"
ENV_PORT = "PORT"
TASK_ENVIRONMENT = (ENV_TABLE_NAME, ENV_TABLE_KEY, ENV_ITEM_PATH_PREFIX, ENV_REGION, ENV_PORT)

# The port gunicorn listens on when PORT is unset; the template's default container port.
DEFAULT_PORT = 8080

# Liveness: GET HEALTH_PATH answers 200; the image's and the task definition's health check run
# HEALTH_CHECK_COMMAND inside the container.
HEALTH_PATH = "/health"
HEALTH_CHECK_COMMAND = ("CMD", "python", "-m", "itemstore.healthcheck")

# The methods an item path serves. Routes, the OpenAPI document, IAM and the handlers all assume
# exactly these: a fact of the service, not a setting.
ITEM_METHODS = ("GET", "PUT")

# DynamoDB limits the service enforces before calling DynamoDB (Amazon DynamoDB Developer Guide,
# "Quotas": a partition key value is at most 2048 bytes; an item, names and values, 400 KB).
MAX_ID_BYTES = 2048
MAX_ITEM_BYTES = 400 * 1024

# API Gateway HTTP APIs give up on an integration after at most 30 s (API Gateway quotas: HTTP API
# integration timeout 30 s). A request's worst case inside the container must finish before that,
# or the gateway answers 504 while the container is still retrying.
GATEWAY_TIMEOUT_SECONDS = 30
