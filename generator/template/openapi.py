"""The OpenAPI 3.0.3 description of the HTTP API a template creates, for people and client generators.

It documents the API; it is not imported into API Gateway (the CloudFormation template defines the
routes), so it carries no ``x-amazon-apigateway-*`` extensions. Routes, methods and which of them
need a JWT come from the same :class:`~generator.model.config.StackConfig` as the template, so the two agree.
"""

from __future__ import annotations

from itemstore import contract

from generator.model.config import ServiceSpec, StackConfig
from generator.model.constants import ITEM_METHODS, MAX_ID_BYTES, MAX_ITEM_BYTES
from generator.model.release import ReleaseSettings
from generator.template.names import logical_id

OPENAPI_VERSION = "3.0.3"
TITLE = "ecsapi"
SECURITY_SCHEME = "CognitoJwt"
# The stack's ApiUrl output: the HTTP API's default endpoint. The stage is $default, so the URL has
# no stage segment.
INVOKE_URL = "https://{apiId}.execute-api.{region}.amazonaws.com"
API_ID_PLACEHOLDER = "your-api-id"

# Limits the item store enforces (containers/itemstore), stated to clients. DynamoDB sets each of them.
MAX_NUMBER_DIGITS = 38  # significant digits of a number
MAX_DEPTH = 32  # nesting of objects and lists

# The item store's error codes an item operation can answer with, grouped by status: codes and
# statuses come from the containers' contract (itemstore.contract); which apply to which method is
# what items.py and dynamo.py do. Every error body is {"error": {"code": ..., "message": ...}}.
# The container's HTTP server (gunicorn, through itemstore.worker) answers these itself, before
# the app, for a request over its limits; API Gateway passes such requests on (see the contract).
SERVER_LIMIT_ERRORS = (contract.ERROR_URI_TOO_LONG, contract.ERROR_HEADERS_TOO_LARGE)
_GET_ERRORS = (
    contract.ERROR_INVALID_ID, contract.ERROR_ITEM_NOT_FOUND, contract.ERROR_INTERNAL,
    contract.ERROR_DYNAMODB_UNAVAILABLE, *SERVER_LIMIT_ERRORS,
)
_PUT_ERRORS = (
    contract.ERROR_INVALID_ID, contract.ERROR_INVALID_ITEM, contract.ERROR_ITEM_TOO_LARGE,
    contract.ERROR_UNSUPPORTED_MEDIA_TYPE, contract.ERROR_INTERNAL, contract.ERROR_DYNAMODB_UNAVAILABLE,
    *SERVER_LIMIT_ERRORS,
)


def _by_status(codes: tuple[str, ...]) -> dict[int, tuple[str, ...]]:
    statuses = sorted({contract.ERROR_STATUS[code] for code in codes})
    return {status: tuple(c for c in codes if contract.ERROR_STATUS[c] == status) for status in statuses}


ITEM_STORE_ERRORS: dict[str, dict[int, tuple[str, ...]]] = {"GET": _by_status(_GET_ERRORS), "PUT": _by_status(_PUT_ERRORS)}
# Bodies API Gateway sends itself, before or instead of the container: {"message": ...}.
GATEWAY_UNAUTHORIZED = "Unauthorized"
GATEWAY_THROTTLED = "Too Many Requests"
GATEWAY_INTERNAL_ERROR = "Internal Server Error"
GATEWAY_UNAVAILABLE = "Service Unavailable"

STATUS_DESCRIPTIONS = {
    400: "The id or the item is not valid.",
    404: "No item has this id.",
    413: f"The body is larger than DynamoDB's item size limit ({MAX_ITEM_BYTES} bytes).",
    414: f"The request line is longer than {contract.MAX_REQUEST_LINE_BYTES} bytes, the container's limit (an id "
         f"within {MAX_ID_BYTES} bytes, percent-encoded, always fits).",
    415: "The body is not sent as Content-Type: application/json in UTF-8.",
    431: f"More than {contract.MAX_HEADER_FIELDS} header fields, or one longer than "
         f"{contract.MAX_HEADER_FIELD_BYTES} bytes: the container's limits.",
}


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict, example=None) -> dict:
    media = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _error_schema(codes: tuple[str, ...]) -> dict:
    """The item store's Error shape, narrowed to the codes one response can carry."""
    return {
        "allOf": [
            _ref("schemas", "Error"),
            {"properties": {"error": {"properties": {"code": {"type": "string", "enum": list(codes)}}}}},
        ]
    }


def _gateway_schema(message: str) -> dict:
    """API Gateway's own body for one status."""
    return {
        "allOf": [
            _ref("schemas", "GatewayMessage"),
            {"properties": {"message": {"type": "string", "enum": [message]}}},
        ]
    }


def _schemas() -> dict:
    return {
        "Error": {
            "type": "object",
            "description": "Every error the item store answers with. Branch on `code`; `message` is for "
                           "people and may change.",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {
                            "type": "string",
                            "pattern": "^[a-z][a-z0-9_]*$",
                            "description": "Stable snake_case code, e.g. `item_not_found`.",
                        },
                        "message": {"type": "string", "description": "What went wrong, for people."},
                    },
                }
            },
        },
        "GatewayMessage": {
            "type": "object",
            "description": "A body API Gateway sends itself (authorization, throttling, an unreachable "
                           "service); the request did not reach the item store.",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
    }


def _responses() -> dict:
    """Responses every operation shares, whatever its service."""
    return {
        "Unauthorized": {
            "description": "The Authorization header is missing, or its token is expired, not issued by the "
                           "stack's user pool or not for its app client. Answered by API Gateway.",
            "content": _json(_gateway_schema(GATEWAY_UNAUTHORIZED), {"message": GATEWAY_UNAUTHORIZED}),
        },
        "TooManyRequests": {
            "description": "The stage's throttling limits are exceeded. Answered by API Gateway; retry later "
                           "with backoff.",
            "content": _json(_gateway_schema(GATEWAY_THROTTLED), {"message": GATEWAY_THROTTLED}),
        },
    }


def _server_error(method: str, status: int, gateway_message: str, description: str) -> dict:
    """A 5xx: either the item store's Error or API Gateway's own body."""
    return {
        "description": description,
        "content": _json({"oneOf": [_error_schema(ITEM_STORE_ERRORS[method][status]),
                                    _gateway_schema(gateway_message)]}),
    }


def _item_schemas(spec: ServiceSpec) -> dict:
    key = spec.key_attribute
    stored = {
        "type": "object",
        "description": f"A {spec.name} item: a JSON object stored as one DynamoDB item. `{key}` is the id in "
                       f"the path.",
        "required": [key],
        "properties": {key: {"type": "string", "description": f"The item's id (`{spec.id_parameter}`)."}},
        "additionalProperties": True,
    }
    body = {
        "type": "object",
        "description": (
            f"Any JSON object of at most {MAX_ITEM_BYTES} bytes: numbers of at most {MAX_NUMBER_DIGITS} "
            f"significant digits, objects and lists nested at most {MAX_DEPTH} levels deep. `{key}` may be "
            f"left out (the id in the path is stored there); if present it must equal that id."
        ),
        "properties": {key: {"type": "string", "description": f"Absent, or equal to `{spec.id_parameter}`."}},
        "additionalProperties": True,
    }
    return {logical_id(spec.name, "Item"): stored, logical_id(spec.name, "ItemInput"): body}


def _operation(spec: ServiceSpec, method: str) -> dict:
    item = logical_id(spec.name, "Item")
    errors = ITEM_STORE_ERRORS[method]
    responses: dict[str, dict] = {}
    if method == "GET":
        summary = f"Read a {spec.name} item"
        description = f"The item whose `{spec.key_attribute}` is the id in the path."
        responses["200"] = {"description": "The item.", "content": _json(_ref("schemas", item))}
    else:
        summary = f"Create or replace a {spec.name} item"
        description = (
            f"Stores the body as the item with this id, replacing any item already stored under it. "
            f"`{spec.key_attribute}` is set to the id."
        )
        responses["200"] = {
            "description": "The item as stored: the body with the id set, numbers in DynamoDB's canonical "
                           "form (`1.50` becomes `1.5`).",
            "content": _json(_ref("schemas", item)),
        }
    for status in (400, 404, 413, 414, 415, 431):
        if status in errors:
            responses[str(status)] = {
                "description": STATUS_DESCRIPTIONS[status],
                "content": _json(_error_schema(errors[status])),
            }
    protected = method in spec.protected_methods
    if protected:
        responses["401"] = _ref("responses", "Unauthorized")
    responses["429"] = _ref("responses", "TooManyRequests")
    responses["500"] = _server_error(
        method, 500, GATEWAY_INTERNAL_ERROR, "An unexpected failure, in the item store or in API Gateway."
    )
    responses["503"] = _server_error(
        method, 503, GATEWAY_UNAVAILABLE,
        "DynamoDB cannot serve the request now (`dynamodb_unavailable`, with Retry-After), or API Gateway "
        "cannot reach a running task (its own body, no Retry-After). Retry later.",
    )
    responses["503"]["headers"] = {"Retry-After": _ref("headers", "RetryAfter")}
    operation = {
        "operationId": f"{method.lower()}{item}",
        "summary": summary,
        "description": description,
        "tags": [spec.name],
        "responses": responses,
    }
    if method == "PUT":
        operation["requestBody"] = {
            "required": True,
            "content": _json(_ref("schemas", logical_id(spec.name, "ItemInput"))),
        }
    if protected:
        operation["security"] = [{SECURITY_SCHEME: []}]
    return operation


def _path_item(spec: ServiceSpec) -> dict:
    path_item = {
        "parameters": [
            {
                "name": spec.id_parameter,
                "in": "path",
                "required": True,
                "description": (
                    f"The item's id: one path segment (percent-encoded), at most {MAX_ID_BYTES} bytes in "
                    f"UTF-8, stored as the table key `{spec.key_attribute}`."
                ),
                # maxLength counts characters; no id of more characters than the byte limit can fit it.
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_BYTES},
            }
        ]
    }
    for method in ITEM_METHODS:
        path_item[method.lower()] = _operation(spec, method)
    return path_item


def _servers(config: StackConfig, release: ReleaseSettings) -> list[dict]:
    """The API's custom domain when it has one, then its default endpoint unless that is off."""
    domain = config.domain
    servers = [{"url": domain.api_url, "description": "The stack's ApiUrl output: its own domain."}] if domain else []
    if domain is None or not domain.disable_execute_api_endpoint:
        servers.append({
            "url": INVOKE_URL,
            "description": "The stack's ApiEndpoint output." if domain else "The stack's ApiUrl output.",
            "variables": {
                "apiId": {"default": API_ID_PLACEHOLDER, "description": "The stack's ApiId output."},
                "region": {"default": release.regions[0], "description": "The stack's Region output."},
            },
        })
    return servers


def build_openapi(config: StackConfig, release: ReleaseSettings | None = None) -> dict:
    """The OpenAPI 3.0.3 document of the HTTP API ``build_template(config, release)`` creates;
    ``release`` defaults to ``ReleaseSettings()``.

    Pure and deterministic: a new JSON-serialisable dict on every call, the same for the same input.
    """
    release = release or ReleaseSettings()
    schemas = _schemas()
    for spec in config.services:
        schemas.update(_item_schemas(spec))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": release.version,
            "description": (
                f"Item stores of an ecsapi v{release.version} stack: each service keeps JSON objects in its "
                "own DynamoDB table, keyed by the id at the end of its path. GET reads an item; PUT creates "
                "or replaces it. Requests to any other path or method get API Gateway's 404 "
                '`{"message": "Not Found"}`. This document describes the API; the CloudFormation template '
                "defines it."
            ),
        },
        "servers": _servers(config, release),
        "tags": [
            {"name": spec.name, "description": f"{spec.name} items at {spec.path_prefix}/{{{spec.id_parameter}}}"}
            for spec in config.services
        ],
        "paths": {spec.path: _path_item(spec) for spec in config.services},
        "components": {
            "schemas": schemas,
            "responses": _responses(),
            "headers": {
                "RetryAfter": {
                    "description": "Seconds to wait before retrying. Sent by the item store with "
                                   "`dynamodb_unavailable`; absent when API Gateway answers.",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": (
                        "A Cognito token of the stack's user pool (output UserPoolId) for its app client "
                        "(output UserPoolClientId): the ID token, whose `aud` is the app client id, or the "
                        "access token, whose `client_id` is. API Gateway's JWT authorizer checks the "
                        "signature, issuer, audience and expiry before the request reaches a container."
                    ),
                }
            },
        },
    }
