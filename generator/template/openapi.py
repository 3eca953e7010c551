"""The OpenAPI 3.0.3 description of the HTTP API a template creates, for people and client generators.

It documents the API; it is not imported into API Gateway (the CloudFormation template defines the
routes), so it carries no ``x-amazon-apigateway-*`` extensions, but one: an ``ANY`` route of your own
is written ``x-amazon-apigateway-any-method``, API Gateway's own way to write it (which
generator/model/openapi_routes.py reads back). Routes, methods and which of them
need a JWT come from the same :class:`~generator.model.config.StackConfig` as the template, so the two agree.
"""

from __future__ import annotations

from itemstore import contract

from generator.model.config import ServiceSpec, StackConfig
from generator.model.constants import ITEM_METHODS, MAX_ID_BYTES, MAX_ITEM_BYTES
from generator.model.errors import ConfigError
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


# Your own services: API Gateway's ANY route as OpenAPI writes it (API Gateway's extension, which
# generator/model/openapi_routes.py reads back); $default has no OpenAPI path and is described in
# the document's description instead.
ANY_METHOD = "x-amazon-apigateway-any-method"
# The scheme of jwt routes that name scopes: OpenAPI lets only oauth2 and openIdConnect schemes list
# scopes in a requirement (OpenAPI 3.0.3, Security Requirement Object), and one requirement per scope
# says "any one of these", as API Gateway's AuthorizationScopes does.
SCOPED_SCHEME = "OidcJwt"
EXTERNAL_SCHEME = "Jwt"
OIDC_DISCOVERY = "/.well-known/openid-configuration"
COGNITO_DISCOVERY_PLACEHOLDER = "https://cognito-idp.{region}.amazonaws.com/your-user-pool-id" + OIDC_DISCOVERY


def _bearer_scheme(config: StackConfig) -> str:
    return SECURITY_SCHEME if config.auth.uses_cognito else EXTERNAL_SCHEME


def _own_security(config: StackConfig, route) -> list[dict] | None:
    if not route.protected:
        return None
    if route.scopes:
        return [{SCOPED_SCHEME: [scope]} for scope in route.scopes]
    return [{_bearer_scheme(config): []}]


def _declares_path_parameters(operation: dict | None, path_parameters: list) -> bool:
    """Whether an imported operation (or its path item) already declares its path parameters."""
    declared = [*(operation or {}).get("parameters", []), *path_parameters]
    return any(isinstance(p, dict) and (p.get("in") == "path" or "$ref" in p) for p in declared)


def _own_operation(config: StackConfig, spec: ServiceSpec, route, imported: dict | None,
                   path_parameters: list = ()) -> dict:
    """One of your own routes: the imported document's operation if the routes came from one (its
    summary, parameters, bodies and responses, the security as the stack enforces it), else an
    operation that documents the route, its variables and what API Gateway answers itself."""
    operation = dict(imported) if isinstance(imported, dict) else {
        "summary": f"{route.route} ({spec.name})",
        "responses": {"default": {"description": f"What the {spec.name} service answers."}},
    }
    operation.setdefault("operationId", logical_id(spec.name, route.logical_name)[:1].lower()
                         + logical_id(spec.name, route.logical_name)[1:])
    operation["tags"] = [spec.name]
    if route.variables and not _declares_path_parameters(imported, path_parameters):
        operation["parameters"] = [*operation.get("parameters", []), *[
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
             **({"description": "The rest of the path (a greedy variable: one or more segments)."}
                if route.path.endswith("+}") and name == route.variables[-1] else {})}
            for name in route.variables
        ]]
    responses = dict(operation.get("responses") or {})
    security = _own_security(config, route)
    if security is not None:
        responses.setdefault("401", _ref("responses", "Unauthorized"))
        if route.scopes:
            responses.setdefault("403", _ref("responses", "Forbidden"))
        operation["security"] = security
    else:
        # Public, as the item store's public operations: no security (the document sets no default).
        operation.pop("security", None)
    responses.setdefault("429", _ref("responses", "TooManyRequests"))
    operation["responses"] = responses
    return operation


def _own_paths(config: StackConfig, spec: ServiceSpec) -> dict:
    """OpenAPI path (``{proxy+}`` written ``{proxy}``, as OpenAPI has no greedy variables) -> path item."""
    document = spec.openapi_document or {}
    source_paths = document.get("paths") or {}
    paths: dict[str, dict] = {}
    for route in spec.api_routes:
        if route.method is None:
            continue
        path = route.path.replace("+}", "}")
        method = ANY_METHOD if route.method == "ANY" else route.method.lower()
        source_method = method if method == ANY_METHOD else route.method.lower()
        source_item = source_paths.get(route.path) or {}
        imported = source_item.get(source_method)
        item = paths.setdefault(path, {})
        # The path item's shared parameters (an imported document's), as the document had them.
        path_parameters = list(source_item.get("parameters") or [])
        if path_parameters:
            item["parameters"] = path_parameters
        item[method] = _own_operation(config, spec, route, imported, path_parameters)
    return paths


# The components an imported document's operations may refer to (#/components/<kind>/<name>); its
# securitySchemes are not carried over: the stack's own schemes say how its routes are secured.
IMPORTED_COMPONENTS = ("schemas", "responses", "parameters", "examples", "requestBodies", "headers", "links",
                       "callbacks")


def _add_imported_components(config: StackConfig, components: dict) -> None:
    """Every imported document's components, under their own names, into ``components``; a name
    that two documents (or a document and ecsapi) both use is a ConfigError naming the service."""
    owner: dict[tuple[str, str], str] = {}
    for index, spec in enumerate(config.services):
        document = spec.openapi_document
        if not document:
            continue
        for kind in IMPORTED_COMPONENTS:
            for name, value in sorted(((document.get("components") or {}).get(kind) or {}).items()):
                if name in components.get(kind, {}):
                    raise ConfigError(
                        f"services[{index}].openapi", spec.openapi,
                        f"its components.{kind} {name!r} is also "
                        + (f"in {owner[kind, name]}'s document" if (kind, name) in owner else "one of ecsapi's own")
                        + "; the components of all documents share the stack's one document: rename one",
                    )
                components.setdefault(kind, {})[name] = value
                owner[kind, name] = spec.name


def build_openapi(config: StackConfig, release: ReleaseSettings | None = None) -> dict:
    """The OpenAPI 3.0.3 document of the HTTP API ``build_template(config, release)`` creates;
    ``release`` defaults to ``ReleaseSettings()``.

    Pure and deterministic: a new JSON-serialisable dict on every call, the same for the same input.
    """
    release = release or ReleaseSettings()
    schemas = _schemas()
    for spec in config.services:
        if spec.is_item_store:
            schemas.update(_item_schemas(spec))
    paths: dict = {}
    for spec in config.services:
        if spec.is_item_store:
            paths[spec.path] = _path_item(spec)
        else:
            for path, item in _own_paths(config, spec).items():
                paths.setdefault(path, {}).update(item)
    item_stores_only = all(spec.is_item_store for spec in config.services)
    responses = _responses()
    security_schemes = {_bearer_scheme(config): _bearer_description(config)}
    if config.custom_scopes:
        responses["Forbidden"] = {
            "description": "The token is valid but carries none of the route's scopes. Answered by API Gateway.",
            "content": _json(_gateway_schema("Forbidden"), {"message": "Forbidden"}),
        }
        security_schemes[SCOPED_SCHEME] = {
            "type": "openIdConnect",
            "openIdConnectUrl": (
                COGNITO_DISCOVERY_PLACEHOLDER.format(region=release.regions[0]) if config.auth.uses_cognito
                else config.auth.issuer.rstrip("/") + OIDC_DISCOVERY
            ),
            "description": (
                "A JWT access token whose `scope` (or `scp`) claim holds one of the operation's scopes. "
                + ("With the stack's Cognito pool: a client-credentials or hosted-UI token (a password "
                   "sign-in's access token carries no custom scopes); the discovery URL names the pool "
                   "(output UserPoolId)." if config.auth.uses_cognito else "")
            ),
        }
    default_routes = [spec.name for spec in config.services for route in spec.api_routes if route.method is None]
    description = (
        f"Item stores of an ecsapi v{release.version} stack: each service keeps JSON objects in its "
        "own DynamoDB table, keyed by the id at the end of its path. GET reads an item; PUT creates "
        "or replaces it. Requests to any other path or method get API Gateway's 404 "
        '`{"message": "Not Found"}`. This document describes the API; the CloudFormation template '
        "defines it."
        if item_stores_only
        else f"The container services of an ecsapi v{release.version} stack, each behind its own routes. "
        + (f"Requests no route matches go to the {default_routes[0]} service ($default). " if default_routes
           else 'Requests to any other path or method get API Gateway\'s 404 `{"message": "Not Found"}`. ')
        + "This document describes the API; the CloudFormation template defines it."
    )
    components = {
        "schemas": schemas,
        "responses": responses,
        "headers": {
            "RetryAfter": {
                "description": "Seconds to wait before retrying. Sent by the item store with "
                               "`dynamodb_unavailable`; absent when API Gateway answers.",
                "schema": {"type": "integer", "minimum": 0},
            }
        },
        "securitySchemes": security_schemes,
    }
    _add_imported_components(config, components)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": release.version,
            "description": description,
        },
        "servers": _servers(config, release),
        "tags": [
            {"name": spec.name, "description": f"{spec.name} items at {spec.path_prefix}/{{{spec.id_parameter}}}"}
            if spec.is_item_store
            else {"name": spec.name, "description": f"The {spec.name} service's {len(spec.api_routes)} route(s)"}
            for spec in config.services
        ],
        "paths": paths,
        "components": components,
    }


def _bearer_description(config: StackConfig) -> dict:
    """The scheme of jwt routes: a bearer JWT of the stack's Cognito pool or of the external issuer."""
    if config.auth.uses_cognito:
        description = (
            "A Cognito token of the stack's user pool (output UserPoolId) for its app client "
            "(output UserPoolClientId): the ID token, whose `aud` is the app client id, or the "
            "access token, whose `client_id` is. API Gateway's JWT authorizer checks the "
            "signature, issuer, audience and expiry before the request reaches a container."
        )
    else:
        description = (
            f"A token of {config.auth.issuer} whose `aud` (or `client_id`) is one of "
            f"{', '.join(config.auth.audiences)}. API Gateway's JWT authorizer checks the signature, issuer, "
            "audience and expiry before the request reaches a container."
        )
    return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": description}
