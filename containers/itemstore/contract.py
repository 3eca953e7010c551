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
ENV_DRAIN_SECONDS = "DRAIN_SECONDS"
TASK_ENVIRONMENT = (ENV_TABLE_NAME, ENV_TABLE_KEY, ENV_ITEM_PATH_PREFIX, ENV_REGION, ENV_PORT, ENV_DRAIN_SECONDS)
# gunicorn's graceful timeout, overridable in a service's environment; the template's stop timeout
# reads the same variable (stop_timeout_seconds).
ENV_GRACEFUL_TIMEOUT = "GUNICORN_GRACEFUL_TIMEOUT"

# The port gunicorn listens on when PORT is unset; the template's default container port.
DEFAULT_PORT = 8080

# Liveness: GET HEALTH_PATH answers 200; the image's and the task definition's health check run
# HEALTH_CHECK_COMMAND inside the container. The body's "status" is HEALTH_OK, or HEALTH_DRAINING
# after SIGTERM (still 200: a draining task is alive and serving, and an unhealthy container would
# invite ECS to replace or stop it before the drain is over).
HEALTH_PATH = "/health"
HEALTH_OK = "ok"
HEALTH_DRAINING = "draining"
HEALTH_CHECK_COMMAND = ("CMD", "python", "-m", "itemstore.healthcheck")

# The methods an item path serves. Routes, the OpenAPI document, IAM and the handlers all assume
# exactly these: a fact of the service, not a setting.
ITEM_METHODS = ("GET", "PUT")

# DynamoDB limits the service enforces before calling DynamoDB (Amazon DynamoDB Developer Guide,
# "Quotas": a partition key value is at most 2048 bytes; an item, names and values, 400 KB).
MAX_ID_BYTES = 2048
MAX_ITEM_BYTES = 400 * 1024

# What gunicorn reads of a request before the app sees it (gunicorn_conf sets each): a longer
# request line is a 414 (ERROR_URI_TOO_LONG), more header fields or a longer one a 431
# (ERROR_HEADERS_TOO_LARGE). 8190 bytes is gunicorn's maximum request line: a percent-encoded id of
# MAX_ID_BYTES (6144 characters) fits it. The header limits are gunicorn's defaults, stated here so
# the OpenAPI document can say them. API Gateway in front passes at most 10240 bytes of request line
# and header values in all (HTTP API quotas), so requests over these limits do reach the container.
MAX_REQUEST_LINE_BYTES = 8190
MAX_HEADER_FIELDS = 100
MAX_HEADER_FIELD_BYTES = 8190

# The DynamoDB operations the service calls (itemstore/transport.py models exactly these): the
# template's alarms and dashboard read the table's per-operation metrics for them.
TABLE_OPERATIONS = ("GetItem", "PutItem")

# API Gateway HTTP APIs give up on an integration after at most 30 s (API Gateway quotas: HTTP API
# integration timeout 30 s). A request's worst case inside the container must finish before that,
# or the gateway answers 504 while the container is still retrying.
GATEWAY_TIMEOUT_SECONDS = 30

# gunicorn's graceful timeout: after SIGTERM, in-flight requests get this long to finish. ECS sends
# SIGKILL stopTimeout seconds after SIGTERM (30 s when unset), so the template sets the container's
# stopTimeout above this.
GRACEFUL_TIMEOUT_SECONDS = 20

# Draining (itemstore.drain): after SIGTERM the container keeps accepting and serving for
# DRAIN_SECONDS, because API Gateway keeps routing to a task from its own cache of Cloud Map's
# answer after ECS has deregistered it and sent SIGTERM at the same moment (aws/containers-roadmap
# #1639, open). What is known: API Gateway HTTP API private integrations find targets with Cloud
# Map's DiscoverInstances and cache the answer (#1639); Cloud Map's DiscoverInstancesRevision
# exists so that callers can cache and re-read only on change ("The health status updates don't
# update InstancesRevision", Cloud Map API Reference); peers report 20-30 s of requests to replaced
# tasks through Cloud Map (aws/aws-app-mesh-roadmap#151, DNS there) and intermittent 503s after
# deployments with API Gateway (aws-samples/aws-apigw-http-api-private--integrations#2). What is
# not known: API Gateway documents no cache duration and no way to flush it. 45 s covers the
# reported 30 s with half again as margin, and with the graceful timeout and STOP_MARGIN_SECONDS
# stays well inside Fargate's 120 s stop timeout. 0 turns draining off (gunicorn's own SIGTERM).
DEFAULT_DRAIN_SECONDS = 45
MAX_DRAIN_SECONDS = 120
# After the graceful timeout the gunicorn master still reaps its workers and exits; ECS's SIGKILL
# must come after that.
STOP_MARGIN_SECONDS = 5


def stop_timeout_seconds(drain_seconds: int = DEFAULT_DRAIN_SECONDS,
                         graceful_seconds: int = GRACEFUL_TIMEOUT_SECONDS) -> int:
    """The container stop timeout (SIGTERM to SIGKILL) the task definition needs: drain, then the
    graceful stop, then the master's exit."""
    return drain_seconds + graceful_seconds + STOP_MARGIN_SECONDS

# The stable `code` of every error body the service answers with
# ({"error": {"code": ..., "message": ...}}), each with the one HTTP status it comes with.
# Clients branch on the code; the generator documents them in the OpenAPI document.
ERROR_BAD_REQUEST = "bad_request"  # a request HTTP cannot parse (gunicorn) or werkzeug refuses
ERROR_INVALID_ID = "invalid_id"  # an empty id, or one over MAX_ID_BYTES
ERROR_INVALID_ITEM = "invalid_item"  # a body that is not a JSON object DynamoDB can store
ERROR_FORBIDDEN = "forbidden"  # a request gunicorn refuses to proxy (forwarded-header rules)
ERROR_NOT_FOUND = "not_found"  # a path the service does not serve
ERROR_ITEM_NOT_FOUND = "item_not_found"  # GET of an id that has no item
ERROR_METHOD_NOT_ALLOWED = "method_not_allowed"  # another method than ITEM_METHODS on an item
ERROR_ITEM_TOO_LARGE = "item_too_large"  # a body or an item over MAX_ITEM_BYTES
ERROR_URI_TOO_LONG = "uri_too_long"  # a request line over gunicorn's limit_request_line
ERROR_UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # PUT without Content-Type: application/json
ERROR_EXPECTATION_FAILED = "expectation_failed"  # an Expect header other than 100-continue
ERROR_HEADERS_TOO_LARGE = "headers_too_large"  # too many or too large header fields
ERROR_INTERNAL = "internal_error"  # a bug; the traceback goes to the log only
ERROR_NOT_IMPLEMENTED = "not_implemented"  # a transfer coding other than chunked
ERROR_DYNAMODB_UNAVAILABLE = "dynamodb_unavailable"  # DynamoDB failed after the bounded attempts
ERROR_SERVICE_UNAVAILABLE = "service_unavailable"  # any other 503
ERROR_STATUS: dict[str, int] = {
    ERROR_BAD_REQUEST: 400,
    ERROR_INVALID_ID: 400,
    ERROR_INVALID_ITEM: 400,
    ERROR_FORBIDDEN: 403,
    ERROR_NOT_FOUND: 404,
    ERROR_ITEM_NOT_FOUND: 404,
    ERROR_METHOD_NOT_ALLOWED: 405,
    ERROR_ITEM_TOO_LARGE: 413,
    ERROR_URI_TOO_LONG: 414,
    ERROR_UNSUPPORTED_MEDIA_TYPE: 415,
    ERROR_EXPECTATION_FAILED: 417,
    ERROR_HEADERS_TOO_LARGE: 431,
    ERROR_INTERNAL: 500,
    ERROR_NOT_IMPLEMENTED: 501,
    ERROR_DYNAMODB_UNAVAILABLE: 503,
    ERROR_SERVICE_UNAVAILABLE: 503,
}
ERROR_CODES = tuple(ERROR_STATUS)
