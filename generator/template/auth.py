"""Who issues the API's tokens: the stack's own Cognito user pool (a user pool, a browser app
client, a resource server per scope identifier the routes name, and with ``machine_client`` an app
client for the client-credentials grant and the pool's domain), or an external OpenID Connect
issuer, for which the stack creates no Cognito resource at all."""

from __future__ import annotations

from troposphere import Ref, Sub, Template, cognito

from generator.model.auth import cognito_scope_parts
from generator.model.config import MfaMode, StackConfig, ThreatProtection
from generator.model.constants import COGNITO_ISSUER
from generator.model.errors import ConfigError
from generator.model.records import dataclass
from generator.template.names import logical_id, unique_name
from generator.template.retention import data_policies

# The sign-in flows the app client allows, and why (SECURITY.md, "Accounts"):
# - ALLOW_USER_PASSWORD_AUTH: the test page sends the password to Cognito only, over TLS, and needs
#   no SRP library (whose big-number code would be the largest script it runs);
# - ALLOW_USER_SRP_AUTH: what the standard clients sign in with (Amplify Auth's default flow, the
#   AWS sample's React client): the password never leaves the client, only an SRP proof does;
# - ALLOW_REFRESH_TOKEN_AUTH: new access and ID tokens from the refresh token, without the password.
# Nothing else: no ALLOW_CUSTOM_AUTH (the pool has no Lambda triggers to run it) and no
# ALLOW_ADMIN_USER_PASSWORD_AUTH (server-side sign-in with AWS credentials; no part of the stack
# needs it). The values are those of "AWS::Cognito::UserPoolClient" ExplicitAuthFlows.
EXPLICIT_AUTH_FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
# The client-credentials grant: OAuth 2.0 (RFC 6749 section 4.4) through Cognito's token endpoint,
# which is served on the user pool's domain only ("The token endpoint", Amazon Cognito Developer
# Guide), hence the domain. Access tokens of this grant carry the scopes asked for in `scope`.
CLIENT_CREDENTIALS = "client_credentials"
# "AWS::Cognito::UserPoolDomain" Domain: ^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$, 1-63 characters,
# update requires replacement. unique_name gives "ecsapi-auth-" + the stack id's UUID (lower-case hex
# and hyphens): 48 characters, unique per Region as a prefix domain must be, and free of the words
# Cognito reserves in prefixes (aws, amazon, cognito), which hex digits cannot spell.
DOMAIN_PURPOSE = "auth"
TOKEN_URL = "https://${{{domain}}}.auth.${{AWS::Region}}.amazoncognito.com/oauth2/token"
# "AWS::Cognito::UserPoolResourceServer" Name: 1-256 of [\w\s+=,.@-].
RESOURCE_SERVER_NAME_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ +=,.@-")


@dataclass(frozen=True)
class Cognito:
    """The stack's own user pool and what hangs off it."""

    user_pool: cognito.UserPool
    client: cognito.UserPoolClient
    """The browser app client (the test page's; no secret)."""
    resource_servers: tuple[cognito.UserPoolResourceServer, ...] = ()
    machine_client: cognito.UserPoolClient | None = None
    """With ``auth.machine_client``: the client-credentials app client (with a secret)."""
    domain: cognito.UserPoolDomain | None = None
    """With ``auth.machine_client``: the prefix domain that serves the token endpoint."""

    @property
    def token_url(self) -> Sub | None:
        """``https://<domain>.auth.<region>.amazoncognito.com/oauth2/token``, with a domain."""
        return None if self.domain is None else Sub(TOKEN_URL.format(domain=self.domain.title))


@dataclass(frozen=True)
class Auth:
    """What the API's JWT authorizer trusts: an issuer, the audiences its tokens may carry."""

    issuer: Sub | str
    audiences: tuple
    cognito: Cognito | None
    """The stack's own pool; None with an external issuer."""

    @property
    def user_pool(self) -> cognito.UserPool:
        """The stack's user pool (only with Cognito)."""
        assert self.cognito is not None
        return self.cognito.user_pool

    @property
    def client(self) -> cognito.UserPoolClient:
        """The browser app client (only with Cognito)."""
        assert self.cognito is not None
        return self.cognito.client


def add_auth(template: Template, config: StackConfig) -> Auth:
    """The stack's Cognito pool and clients, or nothing but the external issuer's settings."""
    if not config.auth.uses_cognito:
        return Auth(issuer=config.auth.issuer, audiences=tuple(config.auth.audiences), cognito=None)
    user_pool = _add_user_pool(template, config)
    client = template.add_resource(
        cognito.UserPoolClient(
            "UserPoolClient",
            UserPoolId=Ref(user_pool),
            ClientName=unique_name("web"),
            # A browser cannot keep a secret, so the client has none (and an Amplify client could
            # not sign in with one).
            GenerateSecret=False,
            ExplicitAuthFlows=list(EXPLICIT_AUTH_FLOWS),
            # The page's Sign out revokes its refresh token (RevokeToken needs this on).
            EnableTokenRevocation=True,
            PreventUserExistenceErrors="ENABLED",
            AccessTokenValidity=config.access_token_minutes,
            IdTokenValidity=config.id_token_minutes,
            RefreshTokenValidity=config.refresh_token_days,
            TokenValidityUnits=cognito.TokenValidityUnits(AccessToken="minutes", IdToken="minutes", RefreshToken="days"),
        )
    )
    resource_servers = _add_resource_servers(template, config, user_pool)
    machine_client = domain = None
    if config.auth.machine_client:
        machine_client, domain = _add_machine_client(template, config, user_pool, resource_servers)
    pool = Cognito(user_pool, client, resource_servers, machine_client, domain)
    audiences = (Ref(client),) + ((Ref(machine_client),) if machine_client is not None else ())
    return Auth(issuer=Sub(COGNITO_ISSUER, UserPoolId=Ref(user_pool)), audiences=audiences, cognito=pool)


def _add_user_pool(template: Template, config: StackConfig) -> cognito.UserPool:
    threat_protection = (
        {
            "UserPoolTier": "PLUS",
            "UserPoolAddOns": cognito.UserPoolAddOns(AdvancedSecurityMode=config.threat_protection.value),
        }
        if config.threat_protection is not ThreatProtection.OFF
        else {}
    )
    return template.add_resource(
        cognito.UserPool(
            "UserPool",
            # Not ${AWS::StackName}-users: a long stack name breaks the 128-character limit.
            UserPoolName=unique_name("users"),
            UsernameAttributes=["email"],
            UsernameConfiguration=cognito.UsernameConfiguration(CaseSensitive=False),
            AutoVerifiedAttributes=["email"],
            VerificationMessageTemplate=cognito.VerificationMessageTemplate(DefaultEmailOption="CONFIRM_WITH_CODE"),
            Policies=cognito.Policies(
                PasswordPolicy=cognito.PasswordPolicy(
                    MinimumLength=12,
                    RequireLowercase=True,
                    RequireUppercase=True,
                    RequireNumbers=True,
                    RequireSymbols=True,
                    TemporaryPasswordValidityDays=3,
                )
            ),
            AccountRecoverySetting=cognito.AccountRecoverySetting(
                RecoveryMechanisms=[cognito.RecoveryOption(Name="verified_email", Priority=1)]
            ),
            AdminCreateUserConfig=cognito.AdminCreateUserConfig(AllowAdminCreateUserOnly=False),
            MfaConfiguration=config.mfa.value,
            **({"EnabledMfas": ["SOFTWARE_TOKEN_MFA"]} if config.mfa is not MfaMode.OFF else {}),
            **threat_protection,
            # Inactive: a failed first create must be able to delete the pool (see retention.py).
            DeletionProtection="INACTIVE",
            **data_policies(config),
        )
    )


def scopes_by_identifier(config: StackConfig) -> dict[str, tuple[str, ...]]:
    """Resource server identifier -> its scope names, from every scope a route names (sorted)."""
    found: dict[str, set[str]] = {}
    for scope in config.custom_scopes:
        identifier, name = cognito_scope_parts(scope)
        found.setdefault(identifier, set()).add(name)
    return {identifier: tuple(sorted(names)) for identifier, names in sorted(found.items())}


def resource_server_id(identifier: str) -> str:
    """``orders`` -> ``OrdersResourceServer``; ``https://api.example.com/orders`` ->
    ``HttpsApiExampleComOrdersResourceServer``. Its identifier is create-only, so a new identifier
    is a new resource anyway."""
    return logical_id(*[word for word in identifier.replace("/", " ").replace(".", " ").replace(":", " ").split()],
                      "ResourceServer")


def _add_resource_servers(
    template: Template, config: StackConfig, user_pool: cognito.UserPool
) -> tuple[cognito.UserPoolResourceServer, ...]:
    """One resource server per identifier, its scopes exactly the ones the routes name under it."""
    servers = []
    titles: dict[str, str] = {}
    for identifier, names in scopes_by_identifier(config).items():
        title = resource_server_id(identifier)
        if title in titles:
            raise ConfigError(
                "services[].routes[].scopes", f"{titles[title]}/..., {identifier}/...",
                "these resource server identifiers differ only in punctuation or case, which their logical ids "
                "cannot tell apart; use one spelling",
            )
        titles[title] = identifier
        name = "".join(c if c in RESOURCE_SERVER_NAME_CHARACTERS else "-" for c in identifier)
        servers.append(template.add_resource(
            cognito.UserPoolResourceServer(
                title,
                UserPoolId=Ref(user_pool),
                Identifier=identifier,
                Name=name,
                Scopes=[
                    cognito.ResourceServerScopeType(ScopeName=scope, ScopeDescription=f"{identifier}/{scope}")
                    for scope in names
                ],
            )
        ))
    return tuple(servers)


def _add_machine_client(
    template: Template,
    config: StackConfig,
    user_pool: cognito.UserPool,
    resource_servers: tuple[cognito.UserPoolResourceServer, ...],
) -> tuple[cognito.UserPoolClient, cognito.UserPoolDomain]:
    """The client-credentials app client, allowed every custom scope the routes name, and the
    pool's prefix domain its token endpoint lives on. The secret stays in Cognito: read it with
    ``aws cognito-idp describe-user-pool-client``, never from an output."""
    client = template.add_resource(
        cognito.UserPoolClient(
            "MachineClient",
            # The scopes must exist before a client may be allowed them.
            DependsOn=[server.title for server in resource_servers],
            UserPoolId=Ref(user_pool),
            ClientName=unique_name("machine"),
            # The client-credentials grant authenticates the client with its secret.
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=[CLIENT_CREDENTIALS],
            AllowedOAuthScopes=list(config.custom_scopes),
            SupportedIdentityProviders=["COGNITO"],
            # No user sign-in flows: only refresh (which Cognito always allows) is left.
            ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"],
            EnableTokenRevocation=True,
            PreventUserExistenceErrors="ENABLED",
            AccessTokenValidity=config.access_token_minutes,
            TokenValidityUnits=cognito.TokenValidityUnits(AccessToken="minutes"),
        )
    )
    domain = template.add_resource(
        cognito.UserPoolDomain("UserPoolDomain", UserPoolId=Ref(user_pool), Domain=unique_name(DOMAIN_PURPOSE))
    )
    return client, domain
