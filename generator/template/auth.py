"""Cognito: a user pool (email sign-in) and a browser app client; the API's JWT authorizer trusts them."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Sub, Template, cognito

from generator.model.config import MfaMode, StackConfig, ThreatProtection
from generator.model.constants import COGNITO_ISSUER
from generator.template.names import unique_name
from generator.template.retention import data_policies

# The only sign-in flows the app client allows: password sign-in and token refresh.
EXPLICIT_AUTH_FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")


@dataclass(frozen=True)
class Auth:
    user_pool: cognito.UserPool
    client: cognito.UserPoolClient

    @property
    def issuer(self) -> Sub:
        """The JWT issuer Cognito puts in tokens of this pool, ``https://cognito-idp.<region>...``."""
        return Sub(COGNITO_ISSUER, UserPoolId=Ref(self.user_pool))


def add_auth(template: Template, config: StackConfig) -> Auth:
    threat_protection = (
        {
            "UserPoolTier": "PLUS",
            "UserPoolAddOns": cognito.UserPoolAddOns(AdvancedSecurityMode=config.threat_protection.value),
        }
        if config.threat_protection is not ThreatProtection.OFF
        else {}
    )
    user_pool = template.add_resource(
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
    client = template.add_resource(
        cognito.UserPoolClient(
            "UserPoolClient",
            UserPoolId=Ref(user_pool),
            ClientName=unique_name("web"),
            # A browser cannot keep a secret, so the client has none. The test page signs in with
            # USER_PASSWORD_AUTH: the password goes to Cognito only, over TLS, and the page needs
            # no SRP library (whose big-number code would be the largest script it runs).
            GenerateSecret=False,
            ExplicitAuthFlows=list(EXPLICIT_AUTH_FLOWS),
            EnableTokenRevocation=True,
            PreventUserExistenceErrors="ENABLED",
            AccessTokenValidity=config.access_token_minutes,
            IdTokenValidity=config.id_token_minutes,
            RefreshTokenValidity=config.refresh_token_days,
            TokenValidityUnits=cognito.TokenValidityUnits(AccessToken="minutes", IdToken="minutes", RefreshToken="days"),
        )
    )
    return Auth(user_pool=user_pool, client=client)
