"""The test page's hosting contract, each fact written once: the files the page is made of (web/),
their content types, and the security headers every host of the page sends.

Three hosts serve the page and all take their headers from here: CloudFront's response headers
policy in AWS (generator/template/site.py), the emulator's page server on loopback
(ecsapi_local/site.py) and the page tests' server (tests/web). Standard library only, like
``itemstore.contract``: the emulator's page server imports it without loading troposphere.
"""

from __future__ import annotations

from collections.abc import Iterable

from generator.model.patterns import lazy
from generator.model.routes import RouteSpec

# The page's static files, in web/; its config.json is written per stack, never released.
PAGE_FILES = ("index.html", "app.js", "style.css")
CONFIG_FILE = "config.json"
INDEX_DOCUMENT = "index.html"
# The Content-Type of each page file, wherever it is served: the release's S3 objects
# (generator/tooling/publish.py), the emulator's page server, and the stack's site bucket
# (generator/runs_in_aws/site_publish.py keeps a copy, as code that runs inside AWS imports nothing
# of the package; tests/test_shared_facts.py compares the two). JSON has no charset parameter
# (RFC 8259, section 11).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}

# The page may not be framed, and sends no Referer to the API or Cognito.
FRAME_OPTION = "DENY"
REFERRER_POLICY = "no-referrer"

_ORIGIN = lazy(r"^(https?://[^/?#\s]+)")


def content_security_policy(connect_origins: Iterable[str]) -> str:
    """The policy the page runs under: scripts and styles from its own origin only, no inline code,
    no framing, and fetches only to its own origin (``fetch('config.json')`` is a connect) and to
    ``connect_origins``, the API's and Cognito's (duplicates dropped, order kept)."""
    origins = " ".join(dict.fromkeys(connect_origins))
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src 'self' {origins}",
            "img-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(connect_origins: Iterable[str]) -> dict[str, str]:
    """The security headers of every response, as a host sends them; CloudFront's policy sends the
    same and, over HTTPS only, Strict-Transport-Security too (generator/template/site.py)."""
    return {
        "Content-Security-Policy": content_security_policy(connect_origins),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTION,
        "Referrer-Policy": REFERRER_POLICY,
    }


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL, as a CSP source names it."""
    match = _ORIGIN.match(url)
    if not match:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return match.group(1)


# The user pool's PasswordPolicy properties ("AWS::Cognito::UserPool PasswordPolicy") and the
# config.json key the page reads each one from.
PASSWORD_POLICY_KEYS = {
    "MinimumLength": "minimumLength",
    "RequireLowercase": "requireLowercase",
    "RequireUppercase": "requireUppercase",
    "RequireNumbers": "requireNumbers",
    "RequireSymbols": "requireSymbols",
}
# Shown for a property a template's pool leaves out (the stack's own pool sets all five).
PASSWORD_POLICY_DEFAULTS = {"MinimumLength": 8, "RequireLowercase": False, "RequireUppercase": False,
                            "RequireNumbers": False, "RequireSymbols": False}


def page_service(name: str, path: str, protected_methods: Iterable[str]) -> dict:
    """One entry of config.json's ``services``: the page's form for a service at ``path``, which
    ends in ``/{idParameter}``."""
    return {"name": name, "path": path, "idParameter": path.rsplit("{", 1)[1].rstrip("}"),
            "protectedMethods": list(protected_methods)}


def own_page_service(name: str, routes: Iterable[RouteSpec]) -> dict:
    """One entry of config.json's ``services`` for your own service: every route with its key,
    method (None for ``$default``), path (None for ``$default``), path variables, auth and scopes."""
    return {
        "name": name,
        "routes": [
            {"route": route.route, "method": route.method, "path": route.path, "variables": list(route.variables),
             "auth": route.auth.value, "scopes": list(route.scopes)}
            for route in routes
        ],
    }


def services_of(config) -> list[dict]:
    """config.json's ``services`` for a StackConfig, in its order: :func:`page_service` for the item
    store, :func:`own_page_service` for your own services (the deployed page's and make local's)."""
    return [page_service(spec.name, spec.path, spec.protected_methods) if spec.is_item_store
            else own_page_service(spec.name, spec.api_routes) for spec in config.services]


def page_config(
    region: str, api_url: str, user_pool_id: str, client_id: str, password_policy: dict, services: list[dict],
    cognito_endpoint: str | None = None,
    api_domain: str | None = None,
) -> dict:
    """The test page's config.json (web/config.schema.json), written once for the stack's page
    (generator/template/site.py, with ``${...}`` values for ``Fn::Sub``) and the emulator's
    (ecsapi_local/template_reader.py). ``password_policy`` has the user pool's PasswordPolicy
    property names; ``services`` entries come from :func:`page_service`; ``cognito_endpoint``
    None leaves the page on its Region's Cognito endpoint; ``api_domain`` (the stack's ``[domain]``
    name) is the name the deployed API answers on, None without one."""
    config = {
        "region": region,
        "apiUrl": api_url,
        "userPoolId": user_pool_id,
        "clientId": client_id,
        "passwordPolicy": {key: password_policy.get(name, PASSWORD_POLICY_DEFAULTS[name])
                           for name, key in PASSWORD_POLICY_KEYS.items()},
        "services": services,
    }
    if cognito_endpoint is not None:
        config["cognitoEndpoint"] = cognito_endpoint
    if api_domain is not None:
        config["apiDomain"] = api_domain
    return config


def connect_origins(config: dict) -> tuple[str, str]:
    """The origins a page with this config.json fetches from: its API and its Cognito endpoint
    (``cognitoEndpoint`` is optional; the page's default is the region's, web/README.md)."""
    cognito = config.get("cognitoEndpoint") or f"https://cognito-idp.{config['region']}.amazonaws.com/"
    return origin(config["apiUrl"]), origin(cognito)
