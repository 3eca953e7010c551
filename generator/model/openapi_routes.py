"""Routes from an OpenAPI 3 document: each path and operation becomes a route, and an operation
whose security names a JWT-like scheme (OAuth 2, OpenID Connect, HTTP bearer) gets ``auth = "jwt"``
with that requirement's scopes.

OpenAPI's security is "any one of the requirements; within one, all of its schemes and scopes"
(OpenAPI 3.0.3, Security Requirement Object), while API Gateway's route scopes are "any one of
these" ("Controlling access to HTTP APIs with JWT authorizers"). So alternatives of one scope each
map exactly; a requirement that needs two scopes, or two schemes, at once has no API Gateway form
and is refused, naming the operation. ``x-amazon-apigateway-any-method`` (API Gateway's own
extension) is the ``ANY`` route.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.model.errors import ConfigError
from generator.model.routes import AuthMode, RouteSpec

OPERATION_METHODS = {
    "get": "GET", "put": "PUT", "post": "POST", "delete": "DELETE", "options": "OPTIONS", "head": "HEAD",
    "patch": "PATCH", "x-amazon-apigateway-any-method": "ANY",
}
JWT_SCHEME_TYPES = ("oauth2", "openIdConnect")


def load_openapi_document(field: str, path: Path) -> dict:
    """The document at ``path`` (JSON, or YAML by its ``.yaml``/``.yml`` suffix), checked to be OpenAPI 3."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(field, str(path), f"cannot read the OpenAPI document ({error.strerror})") from None
    try:
        if Path(path).suffix.lower() in (".yaml", ".yml"):
            import yaml  # PyYAML, through troposphere's cfn-flip; only YAML documents need it

            document = yaml.safe_load(text)
        else:
            document = json.loads(text)
    except ValueError as error:  # json.JSONDecodeError and yaml.YAMLError both derive from it ...
        raise ConfigError(field, str(path), f"is not valid JSON or YAML: {error}") from None
    except Exception as error:  # ... yaml.YAMLError does not: name it without importing yaml eagerly
        raise ConfigError(field, str(path), f"is not valid YAML: {error}") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise ConfigError(field, str(path), 'must be an OpenAPI 3 document (an object with "openapi": "3.x")')
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise ConfigError(field, str(path), "the document has no paths: routes come from its paths and operations")
    return document


def _jwt_schemes(document: dict) -> dict[str, str]:
    """Scheme name -> type, for the schemes a JWT authorizer can check."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    found = {}
    for name, scheme in schemes.items():
        if not isinstance(scheme, dict):
            continue
        kind = scheme.get("type")
        if kind in JWT_SCHEME_TYPES or (kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer"):
            found[name] = kind
    return found


def _route_auth(where: str, requirements: object, jwt_schemes: dict[str, str]) -> tuple[AuthMode, tuple[str, ...]]:
    if not requirements:
        return AuthMode.NONE, ()
    if not isinstance(requirements, list):
        raise ConfigError(where, requirements, "security must be a list of security requirement objects")
    scopes: set[str] = set()
    any_scope = False
    for requirement in requirements:
        if not requirement:  # {}: anonymous access is one of the alternatives
            return AuthMode.NONE, ()
        if len(requirement) != 1:
            raise ConfigError(
                where, requirement,
                "needs several schemes at once, which API Gateway's one JWT authorizer per route cannot check; "
                "list them as alternatives or use one scheme",
            )
        ((scheme, required),) = requirement.items()
        if scheme not in jwt_schemes:
            raise ConfigError(
                where, requirement,
                f"scheme {scheme!r} is not an oauth2, openIdConnect or http bearer scheme of components.securitySchemes, "
                "the only kinds a JWT authorizer checks",
            )
        required = list(required or [])
        if len(required) > 1:
            raise ConfigError(
                where, requirement,
                "requires all of these scopes at once; API Gateway requires any one of a route's scopes, so "
                "write each scope as its own requirement (alternatives) or keep one",
            )
        if required:
            scopes.add(required[0])
        else:
            any_scope = True
    return AuthMode.JWT, () if any_scope else tuple(sorted(scopes))


def routes_from_openapi(field: str, document: dict) -> tuple[RouteSpec, ...]:
    """The document's operations as routes, sorted by route key (the document's order may change)."""
    jwt_schemes = _jwt_schemes(document)
    default_security = document.get("security")
    routes = []
    for path, item in document["paths"].items():
        if not isinstance(item, dict):
            raise ConfigError(f"{field}: paths.{path}", item, "a path item must be an object")
        for key, operation in item.items():
            if key in ("parameters", "summary", "description", "servers", "$ref") or key.startswith("x-") and (
                key not in OPERATION_METHODS
            ):
                continue
            method = OPERATION_METHODS.get(key)
            where = f"{field}: paths.{path}.{key}"
            if method is None:
                raise ConfigError(where, key, f"API Gateway routes only {', '.join(sorted(set(OPERATION_METHODS.values())))}")
            security = operation.get("security", default_security) if isinstance(operation, dict) else default_security
            auth, scopes = _route_auth(f"{where}.security", security, jwt_schemes)
            try:
                routes.append(RouteSpec(route=f"{method} {path}", auth=auth, scopes=scopes))
            except ConfigError as error:
                raise error.within(where) from None
    return tuple(sorted(routes, key=lambda route: route.route))
