"""Routes of an HTTP API, as API Gateway accepts them: ``METHOD /path`` or ``$default``.

One parser for route keys, read by the generator (routes, logical ids, the OpenAPI document) and by
the local emulator's gateway (route selection), so both agree on what a route is.

What API Gateway documents ("Working with routes for HTTP APIs", Amazon API Gateway Developer Guide):
- a route key is an HTTP method and a resource path, ``GET /pets``; the method ``ANY`` matches every
  method not defined for that resource; ``$default`` catches what no other route matches;
- path variables are ``{name}`` segments; a greedy ``{name+}`` catches all child resources and must
  be the last segment;
- routing picks the most specific match: a full match first, then a greedy variable, then ``$default``.

Quotas ("Quotas for configuring and running an HTTP API in API Gateway"): routes per API 300 (can be
raised on a given API), integrations per API 300 (cannot), scopes per route 10 (cannot).
"""

from __future__ import annotations

import enum
import re

from generator.model.errors import ConfigError
from generator.model.patterns import lazy
from generator.model.records import dataclass

DEFAULT_ROUTE = "$default"
# The methods an HTTP API route takes (AWS::ApiGatewayV2::Route RouteKey; "Working with routes").
ROUTE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
# Methods whose requests carry a body (RFC 9110: GET, HEAD, DELETE and OPTIONS define no body semantics).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_ROUTES_PER_API = 300
MAX_INTEGRATIONS_PER_API = 300
MAX_SCOPES_PER_ROUTE = 10

# A fixed segment: RFC 3986 unreserved characters (what 3.0.0's item paths allowed, and what every
# client sends without percent-encoding).
LITERAL_SEGMENT = lazy(r"^[A-Za-z0-9._~-]+$")
VARIABLE_SEGMENT = lazy(r"^\{([A-Za-z_][A-Za-z0-9_]{0,63})(\+?)\}$")
# A scope is a token of the OAuth 2.0 scope grammar: printable ASCII without space, '"' or '\'
# (RFC 6749 section 3.3, scope-token = 1*( %x21 / %x23-5B / %x5D-7E )), which Cognito's custom
# scopes also follow. 256 characters at most (Cognito's ScopeName and resource server identifier).
SCOPE_TOKEN = lazy(r'^[\x21\x23-\x5B\x5D-\x7E]{1,256}$')


class AuthMode(str, enum.Enum):
    """Who may call a route."""

    NONE = "none"  # anyone: API Gateway passes the request on without looking at a token
    JWT = "jwt"  # a valid token of the stack's issuer, and one of the route's scopes if it names any


@dataclass(frozen=True)
class Segment:
    """One path segment: fixed text, or a variable (``greedy``: ``{name+}``, every segment after)."""

    text: str
    variable: str | None = None
    greedy: bool = False


def parse_route_key(route: object, field: str = "route") -> tuple[str | None, tuple[Segment, ...] | None]:
    """``"GET /orders/{id}"`` -> ``("GET", (Segment("orders"), Segment("{id}", "id")))``;
    ``"$default"`` -> ``(None, None)``. Anything API Gateway would refuse is a :class:`ConfigError`."""
    allowed = (
        "write METHOD /path (METHOD one of " + ", ".join(ROUTE_METHODS)
        + "; fixed segments of A-Z a-z 0-9 . _ ~ -, variables {name}, a greedy {name+} last), or $default"
    )
    if not isinstance(route, str):
        raise ConfigError(field, route, allowed)
    if route == DEFAULT_ROUTE:
        return None, None
    method, _, path = route.partition(" ")
    if method not in ROUTE_METHODS:
        raise ConfigError(field, route, f"the method {method!r} is not one API Gateway routes; " + allowed)
    if not path.startswith("/") or " " in path:
        raise ConfigError(field, route, allowed)
    if path == "/":
        return method, ()
    if path.endswith("/"):
        raise ConfigError(field, route, "write the path without a trailing slash (API Gateway's paths have none)")
    segments = []
    names: set[str] = set()
    parts = path[1:].split("/")
    for position, part in enumerate(parts):
        variable = VARIABLE_SEGMENT.match(part)
        if variable:
            name, greedy = variable.group(1), bool(variable.group(2))
            if greedy and position != len(parts) - 1:
                raise ConfigError(field, route, f"the greedy variable {part} must be the last segment")
            if name in names:
                raise ConfigError(field, route, f"the variable {{{name}}} appears twice; name each variable once")
            names.add(name)
            segments.append(Segment(part, name, greedy))
        elif LITERAL_SEGMENT.match(part):
            segments.append(Segment(part))
        else:
            raise ConfigError(
                field, route,
                f"the segment {part!r} is neither fixed text (A-Z a-z 0-9 . _ ~ -) nor a whole-segment "
                "variable {name} or {name+}",
            )
    return method, tuple(segments)


def route_shape(route_key: str) -> str:
    """The route with its variables' names erased: ``GET /a/{x}`` and ``GET /a/{y}`` are one route
    to API Gateway, so they share a shape (``GET /a/{}``)."""
    method, segments = parse_route_key(route_key)
    if segments is None:
        return DEFAULT_ROUTE
    path = "/" + "/".join("{+}" if s.greedy else "{}" if s.variable else s.text for s in segments)
    return f"{method} {path}"


def _words(text: str) -> str:
    """``orderId`` -> ``OrderId``; ``order-items.v2`` -> ``OrderItemsV2``: alphanumeric words, each
    capitalised, for a logical id."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", text) if word)


def route_name(route_key: str) -> str:
    """The route's part of its logical id, from its method and path: ``POST /orders`` ->
    ``PostOrders``, ``GET /orders/{orderId}`` -> ``GetOrdersByOrderId``, ``ANY /orders/{proxy+}`` ->
    ``AnyOrdersByProxyAll``, ``GET /`` -> ``GetRoot``, ``$default`` -> ``Default``. It depends on this
    route alone, so adding other routes never renames it."""
    method, segments = parse_route_key(route_key)
    if segments is None:
        return "Default"
    parts = [method.capitalize()]
    for segment in segments:
        if segment.variable:
            parts.append("By" + _words(segment.variable) + ("All" if segment.greedy else ""))
        else:
            parts.append(_words(segment.text))
    return "".join(parts) if segments else parts[0] + "Root"


@dataclass(frozen=True)
class RouteSpec:
    """One route of a service: its key, who may call it, and the scopes a token must carry."""

    route: str
    """``METHOD /path`` (METHOD: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY; ``{name}``
    variables, a greedy ``{name+}`` only last) or ``$default``. Required."""
    auth: AuthMode = AuthMode.NONE
    """``"none"`` (anyone may call it) or ``"jwt"`` (a valid token of the stack's issuer). Default none."""
    scopes: tuple[str, ...] = ()
    """With ``auth = "jwt"``: API Gateway requires at least one of these in the token's ``scope``
    (space-separated) or ``scp`` claim, else answers 403; at most 10. With Cognito each is
    ``resource-server/scope`` (``orders/write``). Default: none (any valid token)."""
    name: str | None = None
    """The route's part of its logical id (``PostOrders`` gives ``OrdersPostOrdersRoute``), letters and
    digits. Default (None): derived from the method and path (:func:`route_name`). Set it to keep a
    route's logical id when you change its path."""

    def __post_init__(self) -> None:
        parse_route_key(self.route)
        try:
            mode = AuthMode(self.auth)
        except ValueError:
            raise ConfigError("auth", self.auth, "allowed: 'none', 'jwt'") from None
        object.__setattr__(self, "auth", mode)
        scopes = (self.scopes,) if isinstance(self.scopes, str) else tuple(self.scopes)
        for index, scope in enumerate(scopes):
            if not isinstance(scope, str) or not SCOPE_TOKEN.match(scope):
                raise ConfigError(
                    f"scopes[{index}]", scope,
                    "a scope is 1-256 printable ASCII characters without spaces, quotes or backslashes",
                )
        if len(set(scopes)) != len(scopes):
            raise ConfigError("scopes", list(scopes), "name each scope once")
        if len(scopes) > MAX_SCOPES_PER_ROUTE:
            raise ConfigError(
                "scopes", list(scopes),
                f"API Gateway takes at most {MAX_SCOPES_PER_ROUTE} scopes per route (a quota it does not raise)",
            )
        if scopes and mode is not AuthMode.JWT:
            raise ConfigError(
                "scopes", list(scopes),
                'scopes are checked in a token: set auth = "jwt" on this route, or remove the scopes',
            )
        object.__setattr__(self, "scopes", tuple(sorted(scopes)))
        if self.name is not None and (not isinstance(self.name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,99}",
                                                                                          self.name)):
            raise ConfigError("name", self.name, "use 1-100 letters and digits, starting with a letter")

    @property
    def method(self) -> str | None:
        """``GET`` ... ``ANY``; None for ``$default``."""
        return parse_route_key(self.route)[0]

    @property
    def path(self) -> str | None:
        """``/orders/{orderId}``; None for ``$default``."""
        return None if self.route == DEFAULT_ROUTE else self.route.partition(" ")[2]

    @property
    def variables(self) -> tuple[str, ...]:
        """The path variables' names, in order."""
        segments = parse_route_key(self.route)[1] or ()
        return tuple(s.variable for s in segments if s.variable)

    @property
    def logical_name(self) -> str:
        """The route's part of its logical id: :attr:`name`, else :func:`route_name`."""
        return self.name if self.name is not None else route_name(self.route)

    @property
    def protected(self) -> bool:
        return self.auth is AuthMode.JWT
