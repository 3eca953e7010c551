"""JWT authorizers, checked the way API Gateway HTTP APIs check them (API Gateway developer guide,
"Control access to HTTP APIs with JWT authorizers"):

1. the identity source holds the token, alone or after ``Bearer``;
2. the token decodes, its ``alg`` is RSA (locally: RS256, the one Cognito signs with) and its
   ``kid`` names a key of the issuer's JWKS, whose signature it carries;
3. ``iss`` is the authorizer's issuer; ``aud`` (or, when the token has no ``aud``, ``client_id``,
   as Cognito access tokens do) is one of its audiences; ``exp`` is in the future, ``nbf`` and
   ``iat`` are not;
4. when the route has authorization scopes, ``scope`` (or ``scp``) holds at least one of them;
   a valid token without one is refused with ``403 {"message":"Forbidden"}`` and
   ``www-authenticate: Bearer ... error="insufficient_scope"``: the status and error code OAuth 2.0
   bearer-token resources answer for a token that lacks the scope (RFC 6750, section 3.1:
   "insufficient_scope ... The resource server SHOULD respond with the HTTP 403 (Forbidden)
   status code"), which API Gateway follows; every other failure is 401 ``invalid_token``.

Keys: API Gateway reads the issuer's OIDC discovery document
(``{issuer}/.well-known/openid-configuration``), then the ``jwks_uri`` it names ("Control access
to HTTP APIs with JWT authorizers"), each fetch bounded by a timeout: "Timeout for JSON Web Key Set
endpoint 1500 ms" and "Timeout for OpenID Connect discovery endpoint 1500 ms" ("Quotas for
configuring and running an HTTP API in API Gateway", not adjustable). Locally the keys may instead come from a
JWKS URL or file (``--jwks``) for issuers this machine cannot reach, and ``make local`` points the
stack's own Cognito issuer at moto's JWKS.

API Gateway does not read Cognito's ``token_use``: an ID token (``aud``: the client id) passes an
authorizer whose audience is the client id, as an access token (``client_id``) does. A template
that wants access tokens only gives its routes AuthorizationScopes (ID tokens carry no scope), and
those are checked here.

Signatures and time claims are PyJWT's; keys come from its ``PyJWKClient``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import jwt

from ecsapi_local.gateway_spec import Authorizer

LOG = logging.getLogger("ecsapi_local.gateway")

ALGORITHMS = ("RS256",)
# API Gateway may cache the issuer's public keys for two hours (same guide, step 3).
JWKS_CACHE_SECONDS = 2 * 60 * 60
JWKS_FETCH_TIMEOUT_SECONDS = 1.5
DISCOVERY_PATH = "/.well-known/openid-configuration"
BEARER = "bearer "
# Tokens whose signature, issuer and audience passed, kept so that a client's next requests skip the
# RSA check and the decoding; their time claims and scopes are checked again at every use.
VERIFIED_CACHE_SIZE = 1024


class Unauthorized(Exception):
    """The request carries no acceptable token (401); ``str(self)`` says why (for www-authenticate)."""


class Forbidden(Exception):
    """A valid token without any of the route's scopes (403, insufficient_scope)."""


class _FileKeys:
    """A JWKS read from a file, with PyJWKClient's one method the verifier uses."""

    def __init__(self, path: Path) -> None:
        self.keys = jwt.PyJWKSet.from_dict(json.loads(Path(path).read_text()))

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        for key in self.keys.keys:
            if key.key_id == kid:
                return key
        raise jwt.PyJWKClientError(f"no key {kid!r} in the file")


def jwks_source(value: str):
    """``--jwks``: an http(s) URL of a JWKS, or a file holding one."""
    if urlsplit(value).scheme in ("http", "https"):
        return jwt.PyJWKClient(value, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_FETCH_TIMEOUT_SECONDS)
    return _FileKeys(Path(value))


def discover_jwks_uri(issuer: str, timeout: float = JWKS_FETCH_TIMEOUT_SECONDS) -> str:
    """The ``jwks_uri`` of ``issuer``'s OIDC discovery document; raises OSError or ValueError."""
    with urllib.request.urlopen(issuer.rstrip("/") + DISCOVERY_PATH, timeout=timeout) as response:
        document = json.loads(response.read())
    uri = document.get("jwks_uri") if isinstance(document, dict) else None
    if not isinstance(uri, str) or urlsplit(uri).scheme not in ("http", "https"):
        raise ValueError(f"the discovery document of {issuer} names no http(s) jwks_uri")
    return uri


class JwtVerifier:
    """Checks tokens for any of the template's JWT authorizers. ``jwks``: a JWKS URL or file for
    every issuer (default None: each issuer's own keys, through OIDC discovery)."""

    def __init__(self, jwks: str | None = None, discovery_timeout: float = JWKS_FETCH_TIMEOUT_SECONDS) -> None:
        self.override = jwks_source(jwks) if jwks else None
        self.discovery_timeout = discovery_timeout
        self.sources: dict[str, jwt.PyJWKClient] = {}
        self.verified: dict[tuple[str, Authorizer], dict] = {}
        self.lock = threading.Lock()
        self.clock = time.time  # what "now" is for tokens seen before (PyJWT reads the clock itself)

    def claims(self, header_value: str | None, authorizer: Authorizer, scopes: tuple[str, ...] = ()) -> dict:
        """The token's claims when it passes every check, else :class:`Unauthorized`."""
        token = _token_of(header_value)
        claims = self.verified.get((token, authorizer))
        if claims is None:
            claims = self._verify(token, authorizer)
            with self.lock:
                if len(self.verified) >= VERIFIED_CACHE_SIZE:
                    self.verified.clear()
                self.verified[(token, authorizer)] = claims
        else:
            _check_times(claims, self.clock())
        if scopes:
            _check_scopes(claims, scopes)
        return claims

    def _keys_of(self, issuer: str):
        if self.override is not None:
            return self.override
        source = self.sources.get(issuer)
        if source is None:
            try:
                uri = discover_jwks_uri(issuer, self.discovery_timeout)
            except (OSError, ValueError) as error:
                LOG.warning("OIDC discovery of %s failed: %s", issuer, error)
                raise Unauthorized("the issuer's keys could not be fetched") from None
            source = jwt.PyJWKClient(uri, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=self.discovery_timeout)
            with self.lock:
                self.sources[issuer] = source
        return source

    def _verify(self, token: str, authorizer: Authorizer) -> dict:
        """Signature, algorithm, key, issuer, audience and time claims of a token not seen before."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as error:
            raise Unauthorized(f"the token is not a JWT: {error}") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"the token's alg {header.get('alg')!r} is not one of {list(ALGORITHMS)}")
        if not isinstance(header.get("kid"), str):
            raise Unauthorized("the token has no kid")
        try:
            key = self._keys_of(authorizer.issuer).get_signing_key(header["kid"])
        except jwt.PyJWKClientConnectionError as error:
            LOG.warning("the issuer's JWKS could not be fetched: %s", error)
            raise Unauthorized("the issuer's keys could not be fetched") from None
        except jwt.PyJWKClientError:
            raise Unauthorized("the token's kid is not a key of the issuer") from None
        try:
            claims = jwt.decode(
                token, key, algorithms=list(ALGORITHMS), issuer=authorizer.issuer,
                options={"require": ["exp", "iss"], "verify_aud": False, "verify_iat": True, "verify_nbf": True},
            )
        except jwt.InvalidIssuerError:
            raise Unauthorized("the token does not have a valid issuer") from None
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("the token is not valid yet (nbf or iat in the future)") from None
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"the token is not valid: {error}") from None
        _check_audience(claims, authorizer)
        return claims


def _token_of(header_value: str | None) -> str:
    if not header_value or not header_value.strip():
        raise Unauthorized("no token")
    token = header_value.strip()
    if token[: len(BEARER)].lower() == BEARER:
        token = token[len(BEARER):].strip()
    if not token:
        raise Unauthorized("no token")
    return token


def _check_times(claims: dict, now: float) -> None:
    """exp, nbf and iat against ``now``, as PyJWT checked them the first time (no leeway)."""
    if claims["exp"] <= now:
        raise Unauthorized("the token has expired")
    if claims.get("nbf", now) > now or claims.get("iat", now) > now:
        raise Unauthorized("the token is not valid yet (nbf or iat in the future)")


def _check_audience(claims: dict, authorizer: Authorizer) -> None:
    """``aud`` when the token has one, else ``client_id``: one of the authorizer's audiences
    (API Gateway, "Troubleshooting issues with HTTP API JWT authorizers")."""
    if "aud" in claims:
        audience = claims["aud"]
        presented = [audience] if isinstance(audience, str) else list(audience or [])
    else:
        presented = [claims["client_id"]] if isinstance(claims.get("client_id"), str) else []
    if not any(item in authorizer.audiences for item in presented):
        raise Unauthorized("the token does not have a valid audience")


def _check_scopes(claims: dict, scopes: tuple[str, ...]) -> None:
    granted = claims.get("scope", claims.get("scp", ""))
    granted = granted.split() if isinstance(granted, str) else list(granted or [])
    if not set(granted) & set(scopes):
        raise Forbidden(f"the token has none of the route's scopes {list(scopes)}")
