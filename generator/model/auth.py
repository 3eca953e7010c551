"""Who issues the tokens the API's JWT authorizer accepts: the stack's own Cognito user pool, or any
OpenID Connect issuer (Auth0, Okta, Entra ID, Keycloak, ...).

API Gateway's JWT authorizer ("Controlling access to HTTP APIs with JWT authorizers", Amazon API
Gateway Developer Guide) fetches the issuer's keys through OIDC discovery
(``{issuer}/.well-known/openid-configuration``, then its ``jwks_uri``), and accepts a token whose
``iss`` is the issuer, whose ``aud`` (or, without one, ``client_id``) is one of the audiences, and
which is within ``exp``/``nbf``; a route's scopes must then meet the token's ``scope``/``scp``.
Quotas: 50 audiences per authorizer ("Quotas for configuring and running an HTTP API").
"""

from __future__ import annotations

from urllib.parse import urlsplit

from generator.model.checks import flag, strings
from generator.model.errors import ConfigError
from generator.model.patterns import lazy
from generator.model.records import dataclass

MAX_AUDIENCES = 50
# Cognito's custom scopes are "resource-server-identifier/scope-name" (AWS::Cognito::UserPoolResourceServer:
# Identifier 1-256 of [\x21\x23-\x5B\x5D-\x7E]; ResourceServerScopeType ScopeName 1-256 of
# [\x21\x23-\x2E\x30-\x5B\x5D-\x7E], which has no '/'), so the scope's last '/' splits the two.
COGNITO_IDENTIFIER = lazy(r"^[\x21\x23-\x5B\x5D-\x7E]{1,256}$")
COGNITO_SCOPE_NAME = lazy(r"^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$")


def cognito_scope_parts(scope: str) -> tuple[str, str] | None:
    """``"orders/write"`` -> ``("orders", "write")``; None unless it is a Cognito custom scope."""
    identifier, slash, name = scope.rpartition("/")
    if not slash or not COGNITO_IDENTIFIER.match(identifier) or not COGNITO_SCOPE_NAME.match(name):
        return None
    return identifier, name


@dataclass(frozen=True)
class AuthSpec:
    """The issuer of the tokens the API accepts. ``AuthSpec()``: the stack's own Cognito user pool."""

    issuer: str | None = None
    """An OpenID Connect issuer URL, exactly as its tokens' ``iss`` claim has it
    (``https://login.example.com/``; mind the trailing slash). Default (None): the stack creates a
    Cognito user pool and trusts it; set, the stack creates no Cognito resources and no test page."""
    audiences: tuple[str, ...] = ()
    """With ``issuer``: the audiences a token may carry in ``aud`` (or ``client_id``), 1-50. Without
    it, none: the stack's own app clients are the audiences."""
    machine_client: bool = False
    """Cognito only: an app client (with a secret) for the OAuth 2.0 client-credentials grant,
    allowed every custom scope the routes name, and the user-pool domain its token endpoint needs.
    Needs at least one route with scopes. Default off."""

    def __post_init__(self) -> None:
        if self.issuer is not None:
            parts = urlsplit(self.issuer) if isinstance(self.issuer, str) else None
            if parts is None or parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
                raise ConfigError(
                    "issuer", self.issuer,
                    "give the issuer's https URL exactly as its tokens' iss claim has it, e.g. https://login.example.com/",
                )
        audiences = strings("audiences", self.audiences, "audience values")
        if len(set(audiences)) != len(audiences):
            raise ConfigError("audiences", list(audiences), "name each audience once")
        object.__setattr__(self, "audiences", tuple(sorted(audiences)))
        flag("machine_client", self.machine_client)
        if self.issuer is not None:
            if not audiences:
                raise ConfigError(
                    "audiences", [], "an external issuer needs the audiences its tokens carry (aud or client_id)"
                )
            if len(audiences) > MAX_AUDIENCES:
                raise ConfigError(
                    "audiences", list(audiences), f"API Gateway takes at most {MAX_AUDIENCES} audiences per authorizer"
                )
            if self.machine_client:
                raise ConfigError(
                    "machine_client", True,
                    "the machine client is a Cognito app client; with an external issuer, create the client there",
                )
        elif audiences:
            raise ConfigError(
                "audiences", list(audiences),
                "with the stack's Cognito pool the audiences are its own app clients; set issuer to use another issuer",
            )

    @property
    def uses_cognito(self) -> bool:
        """True when the stack creates and trusts its own Cognito user pool."""
        return self.issuer is None
