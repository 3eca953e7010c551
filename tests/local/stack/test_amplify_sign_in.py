"""An Amplify-style client against ``make local``: sign up, confirm with the emailed code, sign in with
USER_SRP_AUTH (through pycognito's SRP implementation, as Amplify Auth signs in by default), then
the stored PUT with the bare access token in ``Authorization``, as the AWS sample's React client
sends it. The stack is the real emulator (``python -m ecsapi_local``: moto behind the Cognito
layer, the local gateway, the containers on dynalite).

moto runs the SRP exchange without checking the proof (moto/cognitoidp/models.py,
respond_to_auth_challenge never reads PASSWORD_CLAIM_SIGNATURE against a verifier), so this proves
that the flow, the client's calls and the token reach a stored item, not that SRP verifies a
password: Cognito does that in AWS.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from pycognito.aws_srp import AWSSRP

from tests.support.moto import PASSWORD

pytestmark = pytest.mark.integration


def put_item(stack, path: str, item: dict, authorization: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request = urllib.request.Request(stack.api_url + path, data=json.dumps(item).encode(), method="PUT",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_an_amplify_style_srp_sign_in_reaches_a_stored_put_with_the_bare_access_token(make_stack, email):
    stack = make_stack().start()
    config = stack.page_config
    idp = stack.client("cognito-idp")
    idp.sign_up(ClientId=config["clientId"], Username=email, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": email}])
    idp.confirm_sign_up(ClientId=config["clientId"], Username=email, ConfirmationCode="123456")

    srp = AWSSRP(username=email, password=PASSWORD, pool_id=config["userPoolId"], client_id=config["clientId"],
                 client=idp)
    tokens = srp.authenticate_user()["AuthenticationResult"]
    # Amplify asks the user to verify the address again unless the confirmation verified it.
    attributes = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"]}
    assert attributes["email_verified"] == "true"

    item = {"name": "apple", "calories": 52}
    status, stored = put_item(stack, "/foodstore/foods/apple-1", item, authorization=tokens["AccessToken"])
    assert status == 200, stored
    assert stored == {**item, "foodId": "apple-1"}
    assert stack.request("GET", "/foodstore/foods/apple-1") == (200, stored)
    assert put_item(stack, "/foodstore/foods/apple-2", item, authorization=None)[0] == 401


def test_after_sign_out_the_refresh_token_is_refused_but_the_access_token_works_until_it_expires(make_stack, email):
    stack = make_stack().start()
    config = stack.page_config
    idp = stack.client("cognito-idp")
    idp.sign_up(ClientId=config["clientId"], Username=email, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": email}])
    idp.confirm_sign_up(ClientId=config["clientId"], Username=email, ConfirmationCode="123456")
    tokens = AWSSRP(username=email, password=PASSWORD, pool_id=config["userPoolId"], client_id=config["clientId"],
                    client=idp).authenticate_user()["AuthenticationResult"]

    idp.revoke_token(ClientId=config["clientId"], Token=tokens["RefreshToken"])  # Amplify's signOut
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.initiate_auth(ClientId=config["clientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    # What revocation does not do: the JWT authorizer checks tokens offline (signature, issuer,
    # audience, expiry), so the access token in hand still writes until its exp ("Revoking
    # tokens", Amazon Cognito Developer Guide).
    assert put_item(stack, "/foodstore/foods/pear-1", {"name": "pear"}, authorization=tokens["AccessToken"])[0] == 200
