"""make local's Cognito (ecsapi_local/cognito.py): moto in server mode behind the layer that answers as
Cognito where moto does not, exercised over HTTP with boto3, as the page and Amplify call it.

Each behaviour cites the Cognito API reference in the module's docstring; the tests that start with
``test_moto_alone`` show what moto 5.2.5 does without the layer, so a moto that learns the
behaviour shows up here.
"""

from __future__ import annotations

import pytest
from moto.server import ThreadedMotoServer

from ecsapi_local.cognito import flow_refusal
from tests.support.moto import PASSWORD, idp, reset

pytestmark = pytest.mark.integration

EMAIL = "ada@example.com"
# The template's app client (generator/template/auth.py) allows these.
STACK_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture
def server(local_cognito):
    return local_cognito


@pytest.fixture
def cognito(server):
    reset(server.url)
    return idp(server.url)


def pool_and_client(cognito, flows: list[str] | None = STACK_FLOWS, auto_verify: bool = True,
                    revocation: bool | None = True) -> tuple[str, str]:
    pool = cognito.create_user_pool(
        PoolName="users", UsernameAttributes=["email"],
        **({"AutoVerifiedAttributes": ["email"]} if auto_verify else {}),
    )["UserPool"]["Id"]
    client_arguments = {"UserPoolId": pool, "ClientName": "web", "GenerateSecret": False}
    if flows is not None:
        client_arguments["ExplicitAuthFlows"] = flows
    if revocation is not None:
        client_arguments["EnableTokenRevocation"] = revocation
    client = cognito.create_user_pool_client(**client_arguments)["UserPoolClient"]["ClientId"]
    return pool, client


def signed_up(cognito, client: str) -> None:
    cognito.sign_up(ClientId=client, Username=EMAIL, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": EMAIL}])
    cognito.confirm_sign_up(ClientId=client, Username=EMAIL, ConfirmationCode="123456")


def password_sign_in(cognito, client: str) -> dict:
    return cognito.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": EMAIL, "PASSWORD": PASSWORD})["AuthenticationResult"]


def refresh(cognito, client: str, token: str) -> dict:
    return cognito.initiate_auth(ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH",
                                 AuthParameters={"REFRESH_TOKEN": token})["AuthenticationResult"]


# --- flows the app client does not allow -----------------------------------------------------------

def test_srp_on_a_client_without_srp_is_refused_as_cognito_refuses_it(cognito):
    _, client = pool_and_client(cognito, flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    signed_up(cognito, client)
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        cognito.initiate_auth(ClientId=client, AuthFlow="USER_SRP_AUTH",
                              AuthParameters={"USERNAME": EMAIL, "SRP_A": "abcdef"})
    assert refused.value.response["Error"]["Message"] == "USER_SRP_AUTH is not enabled for the client."
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_password_sign_in_on_a_client_without_it_is_refused(cognito):
    _, client = pool_and_client(cognito, flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    signed_up(cognito, client)
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        password_sign_in(cognito, client)
    assert refused.value.response["Error"]["Message"] == "USER_PASSWORD_AUTH flow not enabled for this client"


def test_a_client_without_explicit_flows_allows_srp_and_refresh_but_not_passwords(cognito):
    _, client = pool_and_client(cognito, flows=None)
    signed_up(cognito, client)
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        password_sign_in(cognito, client)
    challenge = cognito.initiate_auth(ClientId=client, AuthFlow="USER_SRP_AUTH",
                                      AuthParameters={"USERNAME": EMAIL, "SRP_A": "abcdef"})
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"


def test_the_stack_s_client_signs_in_with_passwords_and_srp_and_refreshes(cognito):
    _, client = pool_and_client(cognito)
    signed_up(cognito, client)
    tokens = password_sign_in(cognito, client)
    assert refresh(cognito, client, tokens["RefreshToken"])["AccessToken"]
    challenge = cognito.initiate_auth(ClientId=client, AuthFlow="USER_SRP_AUTH",
                                      AuthParameters={"USERNAME": EMAIL, "SRP_A": "abcdef"})
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"


@pytest.mark.parametrize(("flow", "client_flows", "refused"), [
    ("USER_SRP_AUTH", ["ALLOW_USER_SRP_AUTH"], False),
    ("USER_PASSWORD_AUTH", ["USER_PASSWORD_AUTH"], False),  # the legacy value
    ("REFRESH_TOKEN_AUTH", ["USER_PASSWORD_AUTH"], False),  # legacy clients never gated refresh
    ("REFRESH_TOKEN_AUTH", ["ALLOW_USER_PASSWORD_AUTH"], True),
    ("CUSTOM_AUTH", None, False),
    ("ADMIN_USER_PASSWORD_AUTH", ["ADMIN_NO_SRP_AUTH"], False),
    ("ADMIN_USER_PASSWORD_AUTH", None, True),
    ("NOT_A_FLOW", ["ALLOW_USER_SRP_AUTH"], False),  # moto refuses an unknown flow itself
])
def test_which_flows_an_app_client_allows(flow, client_flows, refused):
    assert (flow_refusal(flow, client_flows) is not None) is refused


def test_moto_alone_signs_in_with_a_flow_the_client_does_not_allow():
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        url = f"http://{host}:{port}"
        reset(url)
        plain = idp(url)
        _, client = pool_and_client(plain, flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
        signed_up(plain, client)
        assert password_sign_in(plain, client)["AccessToken"]  # what the layer refuses
        user = plain.admin_get_user(UserPoolId=plain.list_user_pools(MaxResults=1)["UserPools"][0]["Id"],
                                    Username=EMAIL)
        assert "email_verified" not in {a["Name"] for a in user["UserAttributes"]}  # what the layer sets
    finally:
        moto.stop()


# --- ConfirmSignUp ---------------------------------------------------------------------------------

def test_confirming_sign_up_verifies_the_email_when_the_pool_auto_verifies_it(cognito):
    pool, client = pool_and_client(cognito)
    signed_up(cognito, client)
    attributes = {a["Name"]: a["Value"] for a in cognito.admin_get_user(UserPoolId=pool, Username=EMAIL)["UserAttributes"]}
    assert attributes["email_verified"] == "true"
    assert cognito.admin_get_user(UserPoolId=pool, Username=EMAIL)["UserStatus"] == "CONFIRMED"


def test_confirming_sign_up_leaves_the_email_alone_when_the_pool_does_not_auto_verify_it(cognito):
    pool, client = pool_and_client(cognito, auto_verify=False)
    signed_up(cognito, client)
    attributes = {a["Name"] for a in cognito.admin_get_user(UserPoolId=pool, Username=EMAIL)["UserAttributes"]}
    assert "email_verified" not in attributes


def test_a_refused_confirmation_verifies_nothing(cognito):
    pool, client = pool_and_client(cognito)
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.confirm_sign_up(ClientId=client, Username="nobody@example.com", ConfirmationCode="123456")
    assert cognito.list_users(UserPoolId=pool)["Users"] == []


# --- RevokeToken -----------------------------------------------------------------------------------

def test_a_revoked_refresh_token_is_refused_afterwards_and_other_sessions_keep_theirs(cognito):
    _, client = pool_and_client(cognito)
    signed_up(cognito, client)
    this_device, other_device = password_sign_in(cognito, client), password_sign_in(cognito, client)
    assert cognito.revoke_token(ClientId=client, Token=this_device["RefreshToken"])["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        refresh(cognito, client, this_device["RefreshToken"])
    assert refused.value.response["Error"]["Message"] == "Refresh Token has been revoked"
    assert refresh(cognito, client, other_device["RefreshToken"])["AccessToken"]  # RevokeToken revokes one token
    # Revoking again, or revoking what is no refresh token of the client, revokes nothing and succeeds.
    cognito.revoke_token(ClientId=client, Token=this_device["RefreshToken"])
    cognito.revoke_token(ClientId=client, Token="not-a-token")


def test_revoking_with_revocation_off_is_refused_and_revokes_nothing(cognito):
    _, client = pool_and_client(cognito, revocation=False)
    signed_up(cognito, client)
    tokens = password_sign_in(cognito, client)
    with pytest.raises(cognito.exceptions.UnsupportedOperationException):
        cognito.revoke_token(ClientId=client, Token=tokens["RefreshToken"])
    assert refresh(cognito, client, tokens["RefreshToken"])["AccessToken"]


def test_revoking_for_an_unknown_client_is_refused(cognito):
    # UnauthorizedException: among the errors botocore's model lists for RevokeToken, the one that fits.
    with pytest.raises(cognito.exceptions.UnauthorizedException):
        cognito.revoke_token(ClientId="nosuchclient", Token="abc")
