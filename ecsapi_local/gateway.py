"""The local API gateway: the generated template's HTTP API served on 127.0.0.1 the way API Gateway
serves it, in front of the containers running locally.

    python -m ecsapi_local.gateway --template T.json --resolution R.json --bind 127.0.0.1:8080

What it does, per request, in API Gateway's order:

- a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here from the
  API's CorsConfiguration, 204, whatever the routes (API Gateway developer guide, "Configure CORS for
  HTTP APIs");
- the route is chosen as API Gateway chooses it (:mod:`.routing`: a full match of route and method,
  then a greedy ``{name+}`` route, then ``$default``; ``ANY`` for the methods a resource does not
  name); none: 404 ``{"message":"Not Found"}``;
- the route's token bucket (the $default stage's DefaultRouteSettings, overridden per route key by
  RouteSettings) may say 429 ``{"message":"Too Many Requests"}``;
- on a JWT route the token is checked (:mod:`.gateway_auth`); failing: 401 ``{"message":"Unauthorized"}``
  with a ``www-authenticate`` header saying why, as API Gateway does; a valid token without one of
  the route's scopes: 403 ``{"message":"Forbidden"}``, ``error="insufficient_scope"``;
- the request is proxied (payload format 1.0 HTTP_PROXY: method, path, query, body and end-to-end
  headers unchanged; hop-by-hop headers dropped; Host the upstream's; X-Forwarded-For/-Proto/-Port,
  Forwarded with the client's host, and X-Amzn-Trace-Id added, the headers API Gateway sets itself
  and keeps out of parameter mapping, its "reserved headers" in "Transform API requests and
  responses for HTTP APIs") to the container serving the integration's Cloud Map service. An upstream
  that refuses or drops the connection gives 503 ``{"message":"Service Unavailable"}``; one that does
  not answer within the timeout gives 504 ``{"message":"Gateway Timeout"}``, as API Gateway answers an
  integration that outlasts its timeout, HTTP APIs included (AWS Knowledge Center, "How do I
  troubleshoot HTTP 504 errors from API Gateway?"; the body's text is not documented, it is the
  reason phrase like HTTP APIs' other error bodies). API Gateway waits up to the integration's
  TimeoutInMillis (30 s at most), and so does the gateway (``--timeout`` caps it lower); a refused
  connection shows within ``CONNECT_TIMEOUT_SECONDS``. A service with no registered task (not yet
  healthy, or left out with ``make local --skip``) answers 503 as an integration nothing listens
  behind does;
- for a request with an allowed Origin, the configured CORS headers replace the container's; while
  CORS names origins (not only ``*``), every answer carries ``Vary: Origin``, since it depends on
  the Origin (Fetch standard, "CORS protocol and HTTP caches"), so that no cache serves one origin's
  answer to another.

Token buckets live in the process, so the gateway runs one gunicorn worker with threads.
"""

from __future__ import annotations

import argparse
import base64
import errno
import json
import logging
import os
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from urllib.parse import quote, unquote, urlsplit

import urllib3

from ecsapi_local.cloudmap import DiscoveryCache
from ecsapi_local.gateway_auth import Forbidden, JwtVerifier, Unauthorized
from ecsapi_local.gateway_spec import (
    CLOUD_MAP_SERVICE_RESOURCE,
    INTEGRATION_RESOURCE,
    ApiSpec,
    Cors,
    GatewayTemplateError,
    Route,
    Throttle,
    read_api,
)
from ecsapi_local.intrinsics import LOCAL_ACCOUNT_ID, Resolver, pseudo_parameters
from ecsapi_local.route_stats import RouteStats
from ecsapi_local.routing import RouteTable

__all__ = ["GatewayTemplateError", "LocalResolution", "create_app", "main", "upstream_services"]

LOG = logging.getLogger("ecsapi_local.gateway")

# A refused or unreachable task shows within CONNECT_TIMEOUT_SECONDS; an answer is awaited up to the
# integration's TimeoutInMillis, at most API Gateway's 30 s ("Amazon API Gateway quotas for HTTP APIs":
# integration timeout 30 seconds), after which the client gets 504.
CONNECT_TIMEOUT_SECONDS = 2.0
LOCAL_TIMEOUT_SECONDS = 30.0
# HTTP API payload quota: 10 MB (API Gateway developer guide, "Amazon API Gateway quotas for HTTP APIs").
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# Threads of the one gunicorn worker (token buckets are per process, so one process).
DEFAULT_THREADS = 16

# Hop-by-hop headers (RFC 9110 section 7.6.1) are for one connection and never forwarded; Host is
# the upstream's; Content-Length is recomputed for the body actually sent.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
    "trailer", "trailers", "transfer-encoding", "upgrade",
})
# Expect: 100-continue was the gateway's to answer (the body is read before it is forwarded).
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "expect"}
# The gateway's server sends its own Date and Server; the container's would repeat them.
NOT_RETURNED = HOP_BY_HOP | {"date", "server"}

JSON = "application/json"
_NOT_FOUND = b'{"message":"Not Found"}'
_UNAUTHORIZED = b'{"message":"Unauthorized"}'
_FORBIDDEN = b'{"message":"Forbidden"}'
_TOO_MANY = b'{"message":"Too Many Requests"}'
_UNAVAILABLE = b'{"message":"Service Unavailable"}'
_TIMED_OUT = b'{"message":"Gateway Timeout"}'
_TOO_LARGE = b'{"message":"Request Entity Too Large"}'
_INTERNAL = b'{"message":"Internal Server Error"}'
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_REASONS = {200: "OK", 204: "No Content", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 413: "Request Entity Too Large",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
            504: "Gateway Timeout"}


# --- what the template cannot say: where things run locally -----------------------------------------

@dataclass(frozen=True)
class LocalResolution:
    """What the template's references mean on 127.0.0.1.

    ``physical_ids``: logical id -> what ``Ref`` gives locally (``{"UserPool": "us-east-1_abc"}``);
    a ``"Logical.Attribute"`` key answers ``Fn::GetAtt``. ``upstreams``: Cloud Map service logical
    id -> ``http://127.0.0.1:PORT`` of the container serving it. ``jwks_url``: the JWKS every issuer's
    tokens are checked against (the local Cognito's); None: each issuer's own, by OIDC discovery.
    ``issuer`` (default None: the template's, resolved) overrides the JWT issuer. ``page_origins``
    (default none) are added to the CORS origins; template origins naming resources that do not run
    locally are dropped.
    """

    region: str
    physical_ids: Mapping[str, str]
    upstreams: Mapping[str, str]
    jwks_url: str | None = None
    issuer: str | None = None
    page_origins: tuple[str, ...] = ()
    account_id: str = LOCAL_ACCOUNT_ID  # AWS::AccountId locally (moto's default account)

    def __post_init__(self) -> None:
        if not self.region:
            raise ValueError("region: must be an AWS region name such as us-east-1")
        for name in ("physical_ids", "upstreams"):
            value = getattr(self, name)
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                raise ValueError(f"{name}: must map logical ids to strings, got {dict(value)!r}")
            object.__setattr__(self, name, MappingProxyType(dict(value)))
        for service, url in self.upstreams.items():
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"upstreams[{service!r}]: {url!r} is not http://HOST:PORT")
        if self.jwks_url is not None and urlsplit(self.jwks_url).scheme not in ("http", "https"):
            raise ValueError(f"jwks_url: {self.jwks_url!r} is not an http(s) URL")
        object.__setattr__(self, "page_origins", tuple(self.page_origins))

    @property
    def pseudo_parameters(self) -> dict[str, str]:
        return pseudo_parameters(self.region, self.account_id)

    def to_json(self) -> str:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data |= {"physical_ids": dict(self.physical_ids), "upstreams": dict(self.upstreams),
                 "page_origins": list(self.page_origins)}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping) -> LocalResolution:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown local resolution keys {unknown}; known: {sorted(known)}")
        return cls(**{**data, "page_origins": tuple(data.get("page_origins", ()))})

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> LocalResolution:
        return cls.from_dict(json.loads(Path(path).read_text()))


def upstream_services(template: Mapping) -> tuple[str, ...]:
    """The Cloud Map service logical ids the template's HTTP API integrations reach, sorted: the keys
    a :class:`LocalResolution`'s ``upstreams`` needs."""
    resources = template.get("Resources", {})
    found = set()
    for resource in resources.values():
        uri = resource.get("Properties", {}).get("IntegrationUri") if resource.get("Type") == INTEGRATION_RESOURCE else None
        if isinstance(uri, dict) and "Fn::GetAtt" in uri:
            name = uri["Fn::GetAtt"][0] if isinstance(uri["Fn::GetAtt"], list) else uri["Fn::GetAtt"].split(".")[0]
            if resources.get(name, {}).get("Type") == CLOUD_MAP_SERVICE_RESOURCE:
                found.add(name)
    return tuple(sorted(found))


# --- throttling --------------------------------------------------------------------------------------

class TokenBucket:
    """``rate`` tokens a second into a bucket of ``burst``; a request takes one or gets a 429."""

    def __init__(self, throttle: Throttle) -> None:
        # An unset burst with a set rate: one second's worth; an unset rate: the burst never refills.
        self.rate = throttle.rate if throttle.rate is not None else 0.0
        self.capacity = float(throttle.burst if throttle.burst is not None else max(1, int(self.rate)))
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


# --- the WSGI application -----------------------------------------------------------------------------

def create_app(template: Mapping, resolution: LocalResolution, *, local_timeout: float = LOCAL_TIMEOUT_SECONDS,
               connect_timeout: float = CONNECT_TIMEOUT_SECONDS, pool_size: int = DEFAULT_THREADS,
               discovery: DiscoveryCache | None = None, jwks: str | None = None) -> Gateway:
    """A WSGI app serving ``template``'s HTTP API with ``resolution``'s local endpoints.

    With ``discovery`` (several tasks per service, :mod:`ecsapi_local.cloudmap`) each request goes
    to one of the service's instances from it; ``resolution.upstreams`` then only names services.

    ``jwks`` (a JWKS URL or file) overrides ``resolution.jwks_url`` for every issuer.

    Raises :class:`GatewayTemplateError` (naming the logical id) for what cannot be served locally.
    """
    resolver = Resolver(template, resolution.physical_ids, resolution.pseudo_parameters)
    spec = read_api(template, resolver, resolution.upstreams, resolution.page_origins, local_timeout)
    if resolution.issuer is not None:
        spec = ApiSpec(spec.logical_id, tuple(_with_issuer(route, resolution.issuer) for route in spec.routes),
                       spec.cors)
    services = {url: service for service, url in resolution.upstreams.items()} if discovery is not None else None
    return Gateway(spec, jwks or resolution.jwks_url, connect_timeout=connect_timeout, pool_size=pool_size,
                   discovery=discovery, upstream_services=services)


def _with_issuer(route: Route, issuer: str) -> Route:
    if route.authorizer is None:
        return route
    return replace(route, authorizer=replace(route.authorizer, issuer=issuer))


class Gateway:
    """The WSGI callable. ``spec`` is the API; tokens are checked against ``jwks`` (a JWKS URL or
    file; None: each issuer's keys through OIDC discovery)."""

    def __init__(self, spec: ApiSpec, jwks: str | None, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
                 pool_size: int = DEFAULT_THREADS, discovery: DiscoveryCache | None = None,
                 upstream_services: Mapping[str, str] | None = None) -> None:
        self.spec = spec
        self.verifier = JwtVerifier(jwks)
        self.buckets = {route.key: TokenBucket(route.throttle) for route in spec.routes if route.throttle.limited}
        self.routes = RouteTable((route.key, route) for route in spec.routes)
        # One keep-alive pool per upstream, made up front: no per-request pool lookup.
        self.pools = {
            upstream: urllib3.connection_from_url(upstream, maxsize=pool_size, block=False, retries=False,
                                                  timeout=urllib3.Timeout(connect=connect_timeout))
            for upstream in sorted({route.upstream for route in spec.routes})
        }
        self.connect_timeout = connect_timeout
        self.stats = RouteStats()  # the per-route summary logged once a minute (route_stats.py)
        # Several tasks per service: the upstream URL names the Cloud Map service, and each request
        # goes to an instance the discovery cache picks, through that instance's own pool.
        self.discovery = discovery
        self.upstream_services = dict(upstream_services or {})
        self.pool_size = pool_size
        self._pools_lock = threading.Lock()

    def _pool_for(self, route: Route):
        """The connection pool the request goes through; None when the service has no instance."""
        if self.discovery is None:
            return self.pools[route.upstream]
        url = self.discovery.pick(self.upstream_services[route.upstream])
        if url is None:
            return None
        pool = self.pools.get(url)
        if pool is None:
            with self._pools_lock:
                pool = self.pools.get(url) or urllib3.connection_from_url(
                    url, maxsize=self.pool_size, block=False, retries=False,
                    timeout=urllib3.Timeout(connect=self.connect_timeout))
                self.pools[url] = pool
        return pool

    # The routing and the answer, in API Gateway's order (module docstring).
    def __call__(self, environ: dict, start_response):
        started = time.perf_counter()
        request_id = base64.b64encode(secrets.token_bytes(10)).decode()
        method = environ["REQUEST_METHOD"]
        route_key, auth_error, upstream_status = "-", "-", "-"
        try:
            status, headers, body, route_key, auth_error, upstream_status = self._answer(environ)
        except Exception:  # a bug here: API Gateway's own 500, never a traceback to the client
            LOG.exception("%s %s %s failed in the gateway", request_id, method, environ.get("PATH_INFO"))
            status, headers, body = _error(500, _INTERNAL)
        headers.append(("apigw-requestid", request_id))
        start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if LOG.isEnabledFor(logging.INFO):
            LOG.info("%s %s %s %s route=%r upstream=%s auth=%s %.1fms", request_id, method,
                     environ.get("RAW_URI") or environ.get("PATH_INFO"), status, route_key, upstream_status,
                     auth_error, elapsed_ms)
        for line in self.stats.record(route_key, status, elapsed_ms):
            LOG.info("%s", line)
        return [body]

    def _answer(self, environ: dict):
        """(status, headers, body, route key, why the authorizer refused, the upstream's status)."""
        method = environ["REQUEST_METHOD"]
        origin = environ.get("HTTP_ORIGIN")
        cors = self.spec.cors
        route_key, auth_error, upstream_status = "-", "-", "-"
        if cors is not None and method == "OPTIONS" and origin and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            headers = _vary_origin(cors, self._preflight_headers(cors, origin, environ))
            return 204, headers, b"", route_key, auth_error, upstream_status
        route = self.routes.select(method, _raw_path_of(environ))
        if route is None:
            status, headers, body = _error(404, _NOT_FOUND)
        else:
            route_key = route.key
            status, headers, body, auth_error, upstream_status = self._serve(route, environ)
        if cors is not None and origin:
            headers = self._cors_headers(cors, origin, headers)
        if cors is not None:
            headers = _vary_origin(cors, headers)
        return status, headers, body, route_key, auth_error, upstream_status

    def _serve(self, route: Route, environ: dict):
        bucket = self.buckets.get(route.key)
        if bucket is not None and not bucket.take():
            return (*_error(429, _TOO_MANY), "-", "-")
        auth_error = "-"
        if route.authorizer is not None:
            header = environ.get("HTTP_" + route.authorizer.header.upper().replace("-", "_"))
            try:
                self.verifier.claims(header, route.authorizer, route.scopes)
            except Forbidden as error:
                status, headers, body = _error(403, _FORBIDDEN)
                headers.append(("www-authenticate",
                                f'Bearer scope="{" ".join(route.scopes)}" error="insufficient_scope" '
                                f'error_description="{error}"'))
                return status, headers, body, str(error), "-"
            except Unauthorized as error:
                status, headers, body = _error(401, _UNAUTHORIZED)
                description = str(error).replace('"', "'")
                headers.append(("www-authenticate",
                                f'Bearer scope="{" ".join(route.scopes)}" error="invalid_token" '
                                f'error_description="{description}"'))
                return status, headers, body, str(error), "-"
        length = environ.get("CONTENT_LENGTH")
        if length and length.isdigit() and int(length) > MAX_PAYLOAD_BYTES:
            return (*_error(413, _TOO_LARGE), auth_error, "-")
        body = environ["wsgi.input"].read(MAX_PAYLOAD_BYTES + 1) if _has_body(environ) else None
        if body is not None and len(body) > MAX_PAYLOAD_BYTES:
            return (*_error(413, _TOO_LARGE), auth_error, "-")
        pool = self._pool_for(route)
        if pool is None:
            LOG.warning("%s: no instance of %s is registered", route.key, route.upstream)
            return (*_error(503, _UNAVAILABLE), auth_error, "none")
        try:
            response = pool.urlopen(
                environ["REQUEST_METHOD"], _target_of(environ), body=body, headers=_forwarded_headers(environ),
                redirect=False, assert_same_host=False, preload_content=True, decode_content=False,
                timeout=urllib3.Timeout(connect=self.connect_timeout, read=route.timeout_seconds),
            )
        except urllib3.exceptions.ReadTimeoutError as error:
            LOG.warning("%s: upstream %s (%s) timed out: %s", route.key, route.upstream, route.integration_id, error)
            return (*_error(504, _TIMED_OUT), auth_error, "timeout")
        except urllib3.exceptions.HTTPError as error:
            LOG.warning("%s: upstream %s (%s) failed: %s", route.key, route.upstream, route.integration_id, error)
            return (*_error(503, _UNAVAILABLE), auth_error, "error")
        headers = [(name, value) for name, value in response.headers.iteritems()
                   if name.lower() not in NOT_RETURNED and not (self.spec.cors and _is_cors_header(name))]
        return response.status, headers, response.data, auth_error, str(response.status)

    @staticmethod
    def _preflight_headers(cors: Cors, origin: str, environ: dict) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = [("Content-Length", "0")]
        allowed = _allowed_origin(cors, origin)
        if allowed is None:
            return headers
        headers.append(("Access-Control-Allow-Origin", allowed))
        if cors.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        if cors.allow_methods:
            methods = ", ".join(cors.allow_methods)
            if "*" in cors.allow_methods:
                methods = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "*")
            headers.append(("Access-Control-Allow-Methods", methods))
        if cors.allow_headers:
            names = ", ".join(cors.allow_headers)
            if "*" in cors.allow_headers:
                names = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "*")
            headers.append(("Access-Control-Allow-Headers", names))
        if cors.max_age is not None:
            headers.append(("Access-Control-Max-Age", str(cors.max_age)))
        return headers

    @staticmethod
    def _cors_headers(cors: Cors, origin: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        allowed = _allowed_origin(cors, origin)
        if allowed is None:
            return headers
        headers.append(("Access-Control-Allow-Origin", allowed))
        if cors.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        if cors.expose_headers:
            headers.append(("Access-Control-Expose-Headers", ", ".join(cors.expose_headers)))
        return headers


def _allowed_origin(cors: Cors, origin: str) -> str | None:
    """What Access-Control-Allow-Origin says for ``origin``: itself, ``*``, or None (not allowed)."""
    if origin in cors.allow_origins:
        return origin
    if "*" in cors.allow_origins:
        return "*"
    return None


def _is_cors_header(name: str) -> bool:
    return name.lower().startswith("access-control-")


def _vary_origin(cors: Cors, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` with Origin in Vary when the answer depends on the Origin (CORS names origins)."""
    if set(cors.allow_origins) <= {"*"}:
        return headers
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "origin" not in [part.strip().lower() for part in value.split(",")]:
                headers[index] = (name, f"{value}, Origin")
            return headers
    headers.append(("Vary", "Origin"))
    return headers


def _error(status: int, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", JSON), ("Content-Length", str(len(body)))], body


# What stays as it is in a forwarded path segment: RFC 3986 pchar less "%" (each "%XX" is decoded and
# what must be is encoded again).
_SEGMENT_SAFE = ":@!$&'()*+,;=-._~"


def _raw_path_of(environ: dict) -> str:
    """The request path as the client sent it, still percent-encoded (gunicorn's RAW_URI), so that
    an encoded "/" stays inside its segment; else PATH_INFO encoded again."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return raw.split("?", 1)[0].split("#", 1)[0]
    return quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/" + _SEGMENT_SAFE) or "/"


def _target_of(environ: dict) -> str:
    """The path the task gets: each segment percent-decoded, as API Gateway decodes URL-encoded
    request parameters before passing them on ("Create routes for HTTP APIs", note), and encoded
    again only where HTTP needs it (a space, "?", "#", "/" inside a segment); the query as sent."""
    segments = _raw_path_of(environ).split("/")
    path = "/".join(quote(unquote(segment, errors="replace"), safe=_SEGMENT_SAFE) for segment in segments)
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


def _has_body(environ: dict) -> bool:
    length = environ.get("CONTENT_LENGTH")
    return bool(length and length != "0") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _forwarded_headers(environ: dict) -> dict[str, str]:
    """The client's end-to-end headers plus what API Gateway adds for the integration."""
    connection_named = {token.strip().lower() for token in environ.get("HTTP_CONNECTION", "").split(",")}
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE",) and value:
            name = "content-type"
        else:
            continue
        if name not in NOT_FORWARDED and name not in connection_named:
            headers[name] = value
    client = environ.get("REMOTE_ADDR", "127.0.0.1")
    proto = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT')}"
    previous = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{previous}, {client}" if previous else client
    headers["x-forwarded-proto"] = proto
    headers["x-forwarded-port"] = str(environ.get("SERVER_PORT", ""))
    headers["forwarded"] = f"for={_forwarded_value(client)};host={_forwarded_value(host)};proto={proto}"
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    return headers


def _forwarded_value(value: str) -> str:
    """A Forwarded parameter value (RFC 7239): a token as it is, else a quoted string; an IPv6
    address in brackets."""
    if value.count(":") > 1 and not value.startswith("["):
        value = f"[{value}]"
    if _TOKEN.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the command line -------------------------------------------------------------------------------

def _bind(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (127.0.0.1:8080)")
    return host.strip("[]"), int(port)


def _check_free(host: str, port: int) -> None:
    """Refuse a taken port at once, naming it (gunicorn alone retries for seconds, then exits)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise SystemExit(f"gateway: port {port} on {host} is already in use; stop what uses it or "
                                 f"pick another with --bind") from None
            raise SystemExit(f"gateway: cannot listen on {host}:{port}: {error.strerror}") from None


def serve(app: Gateway, host: str, port: int, threads: int = DEFAULT_THREADS, access_log: bool = True) -> None:
    """Run ``app`` under gunicorn (one gthread worker) until SIGTERM or SIGINT."""
    from gunicorn.app.base import BaseApplication

    logging.basicConfig(level=logging.INFO if access_log else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s gateway %(levelname)s %(message)s")

    def when_ready(server) -> None:
        listen = server.LISTENERS[0].sock.getsockname()
        routes = ", ".join(route.key for route in app.spec.routes)
        # INFO, and shown even with the access log off: it says where to send requests, not a problem.
        started = logging.getLogger("ecsapi_local.gateway.start")
        started.setLevel(logging.INFO)
        started.info("local gateway listening on http://%s:%d (%s: %s)", listen[0], listen[1], app.spec.logical_id,
                     routes)

    class GatewayServer(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
                "workers": 1, "worker_class": "gthread", "threads": threads,
                "graceful_timeout": 5, "timeout": 60, "keepalive": 5,
                "accesslog": None, "errorlog": "-", "loglevel": "warning",
                "proc_name": "ecsapi-local-gateway", "when_ready": when_ready,
                # No control socket: its default path is shared by every gunicorn of the user.
                "control_socket_disable": True,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    GatewayServer().run()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecsapi_local.gateway",
        description="Serve a generated template's HTTP API on loopback, as API Gateway would.")
    parser.add_argument("--template", required=True, type=Path, help="the rendered template (JSON)")
    parser.add_argument("--resolution", required=True, type=Path,
                        help="JSON of LocalResolution: region, physical_ids, upstreams, jwks_url, ...")
    parser.add_argument("--bind", required=True, type=_bind, help="HOST:PORT to listen on, e.g. 127.0.0.1:8080")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"request threads (default {DEFAULT_THREADS})")
    parser.add_argument("--timeout", type=float, default=LOCAL_TIMEOUT_SECONDS,
                        help=f"seconds an upstream may take to answer before 504 (default {LOCAL_TIMEOUT_SECONDS:g})")
    parser.add_argument("--jwks", metavar="URL|FILE",
                        help="check every issuer's tokens against this JWKS (a URL or a file), for issuers this "
                             "machine cannot reach (default: the resolution's jwks_url, else OIDC discovery)")
    parser.add_argument("--no-access-log", action="store_true", help="log warnings only, no line per request")
    parser.add_argument("--registry", type=Path,
                        help="the local Cloud Map registry (ecsapi_local.cloudmap): spread each service's requests "
                             "over its registered tasks (default: one container per upstream)")
    parser.add_argument("--discovery-cache-seconds", type=float, default=0.0,
                        help="with --registry: how long a deregistered task still gets requests, as from API "
                             "Gateway's cache of Cloud Map's answer (default 0)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        template = json.loads(args.template.read_text())
        resolution = LocalResolution.from_json(args.resolution)
        discovery = DiscoveryCache(args.registry, args.discovery_cache_seconds) if args.registry else None
        app = create_app(template, resolution, local_timeout=args.timeout, pool_size=args.threads,
                         discovery=discovery, jwks=args.jwks)
    except (OSError, ValueError) as error:  # GatewayTemplateError is a ValueError
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    host, port = args.bind
    _check_free(host, port)
    serve(app, host, port, threads=args.threads, access_log=not args.no_access_log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
