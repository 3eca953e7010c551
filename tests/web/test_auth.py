"""Sign-up, confirmation, sign-in and sign-out against moto's Cognito, the session across a reload,
and token refresh (before an expired token is used, and once after a 401)."""

from __future__ import annotations

import json
import socket
import time

import pytest
from playwright.sync_api import expect

from tests.support.web import (
    GOOD_PASSWORD,
    confirmed_user,
    jwt_claims,
    page_config,
    replace_session,
    run,
    sign_in,
    stored_session,
    with_claims,
)

pytestmark = pytest.mark.integration

JSON_11 = "application/x-amz-json-1.1"
COGNITO_400 = r"Failed to load resource: the server responded with a status of 400"


def status_text(watched) -> str:
    return watched.page.inner_text("#auth-status")


def message(watched, contains: str) -> str:
    """Wait until #messages says ``contains``; return the whole message."""
    expect(watched.page.locator("#messages")).to_contain_text(contains)
    return watched.page.inner_text("#messages")


def test_sign_up_confirm_sign_in_and_sign_out(rig, email):
    rig.allow_console(COGNITO_400)  # Chromium logs each 4xx answer; these come from Cognito on purpose
    watched = rig.open()
    page = watched.page
    page.fill("#email", email)
    page.fill("#password", GOOD_PASSWORD)
    page.click("#sign-up")
    message(watched, "Account created. Enter the code sent to")
    assert rig.pool.user_status(email) == "UNCONFIRMED"

    page.click("#sign-in")  # too early: Cognito says the account is not confirmed
    message(watched, "This account is not confirmed yet")
    assert status_text(watched) == "Signed out"

    # moto's ConfirmSignUp accepts any code (moto/cognitoidp/models.py confirm_sign_up never reads
    # ConfirmationCode), so this proves the request and the UI, not code checking.
    page.fill("#code", "123456")
    page.click("#confirm")
    message(watched, f"Account {email} confirmed: sign in.")
    assert rig.pool.user_status(email) == "CONFIRMED"

    page.fill("#password", GOOD_PASSWORD)
    page.click("#sign-in")
    expect(page.locator("#auth-status")).to_have_text(f"Signed in as {email}")
    assert page.input_value("#password") == ""  # the password does not linger in the form
    session = stored_session(watched)
    assert jwt_claims(session["accessToken"])["token_use"] == "access"

    page.click("#sign-out")
    expect(page.locator("#auth-status")).to_have_text("Signed out")
    message(watched, "Signed out.")
    assert stored_session(watched) is None
    # RevokeToken reached Cognito (moto behind make local's layer): the refresh token the page held
    # is now refused.
    with pytest.raises(rig.pool.idp.exceptions.NotAuthorizedException) as refused:
        rig.pool.idp.initiate_auth(ClientId=rig.pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                   AuthParameters={"REFRESH_TOKEN": session["refreshToken"]})
    assert refused.value.response["Error"]["Message"] == "Refresh Token has been revoked"

    calls = watched.cognito_calls()
    assert [op for op, _ in calls] == ["SignUp", "InitiateAuth", "ConfirmSignUp", "InitiateAuth", "RevokeToken"]
    assert calls[0][1] == {"ClientId": rig.pool.client_id, "Username": email, "Password": GOOD_PASSWORD,
                           "UserAttributes": [{"Name": "email", "Value": email}]}
    assert calls[2][1] == {"ClientId": rig.pool.client_id, "Username": email, "ConfirmationCode": "123456"}
    assert calls[3][1] == {"ClientId": rig.pool.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                           "AuthParameters": {"USERNAME": email, "PASSWORD": GOOD_PASSWORD}}
    assert calls[4][1] == {"ClientId": rig.pool.client_id, "Token": session["refreshToken"]}
    cognito_requests = [r for r in watched.requests if r.headers.get("x-amz-target")]
    assert {r.method for r in cognito_requests} == {"POST"}
    assert {r.headers["content-type"] for r in cognito_requests} == {JSON_11}
    assert {r.url for r in cognito_requests} == {f"{rig.moto.url}/"}


def test_sign_out_with_an_expired_access_token_revokes_the_refresh_token_without_refreshing_first(rig, email):
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    session = stored_session(watched)
    replace_session(watched, rig.pool.client_id,
                    {**session, "accessToken": with_claims(session["accessToken"], exp=int(time.time()) - 5)})
    watched.page.click("#sign-out")
    message(watched, "Signed out.")
    assert status_text(watched) == "Signed out" and stored_session(watched) is None
    operations = [(op, body.get("AuthFlow")) for op, body in watched.cognito_calls()]
    assert operations[-1] == ("RevokeToken", None)  # RevokeToken needs the refresh token only
    assert ("InitiateAuth", "REFRESH_TOKEN_AUTH") not in operations
    with pytest.raises(rig.pool.idp.exceptions.NotAuthorizedException):
        rig.pool.idp.initiate_auth(ClientId=rig.pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                   AuthParameters={"REFRESH_TOKEN": session["refreshToken"]})


def test_sign_out_revokes_only_this_session_and_other_sessions_keep_their_refresh_token(rig, email):
    user = confirmed_user(rig.pool, email)
    elsewhere = rig.pool.idp.initiate_auth(
        ClientId=rig.pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": GOOD_PASSWORD})["AuthenticationResult"]  # another device
    watched = rig.open()
    sign_in(watched, user)
    watched.page.click("#sign-out")
    message(watched, "Signed out.")
    assert rig.pool.idp.initiate_auth(
        ClientId=rig.pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": elsewhere["RefreshToken"]})["AuthenticationResult"]["AccessToken"]


def test_a_revocation_cognito_refuses_still_signs_the_page_out_and_says_so(rig, email):
    rig.allow_console(COGNITO_400)
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    session = stored_session(watched)
    idp, ids = rig.pool.idp, {"UserPoolId": rig.pool.id, "ClientId": rig.pool.client_id}
    idp.update_user_pool_client(**ids, EnableTokenRevocation=False)  # Cognito then refuses RevokeToken
    try:
        watched.page.click("#sign-out")
        message(watched, "Signed out of this page, but Cognito could not revoke the session: "
                         "The app client does not allow revoking tokens")
    finally:
        idp.update_user_pool_client(**ids, EnableTokenRevocation=True)
    assert status_text(watched) == "Signed out" and stored_session(watched) is None
    # Nothing was revoked: the refresh token still works (the page has forgotten it).
    assert idp.initiate_auth(ClientId=rig.pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": session["refreshToken"]})["AuthenticationResult"]


def test_password_rules_come_from_the_config_and_block_a_weak_sign_up(rig, email):
    policy = {"minimumLength": 8, "requireLowercase": True, "requireUppercase": False, "requireNumbers": True,
              "requireSymbols": False}
    watched = rig.open(page_config(rig.pool, rig.moto, rig.api.url, rig.services, passwordPolicy=policy))
    page = watched.page
    rules = page.locator("#password-rules li")
    assert rules.all_inner_texts() == ["at least 8 characters", "a lower-case letter (a-z)", "a number (0-9)"]
    page.fill("#password", "abcdefgh")
    assert [r.get_attribute("data-met") for r in rules.all()] == ["true", "true", "false"]
    page.fill("#email", email)
    page.click("#sign-up")
    message(watched, "The password still needs: a number (0-9).")
    assert watched.cognito_calls() == []


def test_wrong_password_is_reported_and_leaves_you_signed_out(rig, email):
    rig.allow_console(COGNITO_400)  # Chromium logs each 4xx answer; these come from Cognito on purpose
    watched = rig.open()
    confirmed_user(rig.pool, email)
    watched.page.fill("#email", email)
    watched.page.fill("#password", "Wrong-password-1")
    watched.page.click("#sign-in")
    message(watched, "Incorrect email or password. (NotAuthorizedException")
    assert status_text(watched) == "Signed out" and stored_session(watched) is None


def test_signing_up_an_existing_email_says_so(rig, email):
    rig.allow_console(COGNITO_400)  # Chromium logs each 4xx answer; these come from Cognito on purpose
    watched = rig.open()
    confirmed_user(rig.pool, email)
    watched.page.fill("#email", email)
    watched.page.fill("#password", GOOD_PASSWORD)
    watched.page.click("#sign-up")
    message(watched, "An account with this email already exists")


def test_session_survives_a_reload_but_not_into_a_new_tab(rig, email):
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    before = stored_session(watched)
    watched.page.reload()
    watched.page.wait_for_selector("body[data-config=ready]", state="attached")
    assert status_text(watched) == f"Signed in as {email}"
    assert stored_session(watched) == before
    assert run(watched, "foodstore", "put", "apple", '{"ok": true}')[0] == "200"
    # sessionStorage belongs to the tab: another tab of the same site starts signed out.
    other = rig.new_tab(watched)
    assert status_text(other) == "Signed out"


def test_expired_access_token_is_refreshed_before_a_put(rig, email):
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    session = stored_session(watched)
    expired = with_claims(session["accessToken"], exp=int(time.time()) - 5)
    replace_session(watched, rig.pool.client_id, {**session, "accessToken": expired})

    assert run(watched, "foodstore", "put", "apple", '{"fresh": true}')[0] == "200"
    refreshes = [body for op, body in watched.cognito_calls() if body.get("AuthFlow") == "REFRESH_TOKEN_AUTH"]
    assert refreshes == [{"ClientId": rig.pool.client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                          "AuthParameters": {"REFRESH_TOKEN": session["refreshToken"]}}]
    puts = [r for r in rig.api.requests if r.method == "PUT"]
    assert len(puts) == 1  # refreshed first: the expired token was never sent
    sent = puts[0].headers["Authorization"].removeprefix("Bearer ")
    assert sent not in (expired, session["accessToken"])
    assert stored_session(watched)["accessToken"] == sent
    assert stored_session(watched)["refreshToken"] == session["refreshToken"]
    assert jwt_claims(sent)["exp"] > time.time() + 60


def test_token_is_not_refreshed_while_it_is_valid(rig, email):
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    for item in ("a", "b"):
        assert run(watched, "petstore", "put", item, "{}")[0] == "200"
    assert [body["AuthFlow"] for op, body in watched.cognito_calls() if op == "InitiateAuth"] == ["USER_PASSWORD_AUTH"]


def test_a_401_refreshes_once_and_retries_once(rig, email):
    rig.allow_console(r"status of 401")
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    first = stored_session(watched)["accessToken"]
    rig.api.rejected.add(first)  # as if the API no longer accepted this (unexpired) token
    status, body = run(watched, "petstore", "put", "rex", '{"kind": "dog"}')
    assert (status, json.loads(body)) == ("200", {"kind": "dog"})
    puts = [r.headers["Authorization"].removeprefix("Bearer ") for r in rig.api.requests if r.method == "PUT"]
    assert len(puts) == 2 and puts[0] == first and puts[1] != first
    assert len([1 for _, body in watched.cognito_calls() if body.get("AuthFlow") == "REFRESH_TOKEN_AUTH"]) == 1


def test_a_second_401_is_shown_without_looping(rig, email):
    rig.allow_console(r"status of 401")
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    rig.api.reject_all = True
    status, _ = run(watched, "petstore", "put", "rex", "{}")
    assert status == "401"
    message(watched, "the API refused the token even after a refresh (401): sign out and sign in again.")
    assert len([r for r in rig.api.requests if r.method == "PUT"]) == 2


def test_a_refused_refresh_token_ends_the_session(rig, email):
    rig.allow_console(COGNITO_400)  # Chromium logs each 4xx answer; these come from Cognito on purpose
    watched = rig.open()
    sign_in(watched, confirmed_user(rig.pool, email))
    session = stored_session(watched)
    rig.pool.idp.admin_user_global_sign_out(UserPoolId=rig.pool.id, Username=email)  # revoked elsewhere
    replace_session(watched, rig.pool.client_id,
                    {**session, "accessToken": with_claims(session["accessToken"], exp=int(time.time()) - 5)})
    status, shown = run(watched, "foodstore", "put", "apple", "{}")
    assert status == "expired"
    assert "Your session has ended (NotAuthorizedException): sign in again." in shown
    expect(watched.page.locator("#auth-status")).to_have_text("Signed out")
    assert stored_session(watched) is None
    assert [r for r in rig.api.requests if r.method == "PUT"] == []


def test_resend_code_asks_cognito_and_shows_where_it_went(rig, email, cognito_front):
    rig.allow_console(COGNITO_400)  # Chromium logs each 4xx answer; these come from Cognito on purpose
    watched = rig.open(page_config(rig.pool, rig.moto, rig.api.url, rig.services, cognitoEndpoint=cognito_front.url))
    page = watched.page
    page.fill("#email", email)
    page.fill("#password", GOOD_PASSWORD)
    page.click("#sign-up")
    message(watched, "Account created")
    page.click("#resend")
    message(watched, f"A new code was sent to {email[0]}***@e***.")
    assert cognito_front.calls[-1] == ("ResendConfirmationCode", {"ClientId": rig.pool.client_id, "Username": email})

    page.fill("#code", "000000")
    page.click("#confirm")
    message(watched, "confirmed: sign in.")
    page.click("#resend")
    message(watched, "InvalidParameterException: User is already confirmed.")


def test_wrong_and_expired_codes_say_what_to_do(rig, email, cognito_front):
    watched = rig.open(page_config(rig.pool, rig.moto, rig.api.url, rig.services, cognitoEndpoint=cognito_front.url))
    rig.allow_console(COGNITO_400)
    page = watched.page
    page.fill("#email", email)
    page.fill("#code", "999999")
    cognito_front.scripted["ConfirmSignUp"] = (400, {"__type": "CodeMismatchException",
                                                      "message": "Invalid verification code provided, please try again."})
    page.click("#confirm")
    message(watched, "That confirmation code is wrong: check the email, or resend the code.")
    cognito_front.scripted["ConfirmSignUp"] = (400, {"__type": "ExpiredCodeException", "message": "Invalid code."})
    page.click("#confirm")
    message(watched, "That confirmation code has expired: resend the code.")


def test_unreachable_cognito_is_reported(rig, email):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    rig.allow_console(r"net::ERR_CONNECTION_REFUSED")
    watched = rig.open(page_config(rig.pool, rig.moto, rig.api.url, rig.services,
                                   cognitoEndpoint=f"http://127.0.0.1:{closed}/"))
    watched.page.fill("#email", email)
    watched.page.fill("#password", GOOD_PASSWORD)
    watched.page.click("#sign-in")
    message(watched, "Cognito could not be reached")
    assert status_text(watched) == "Signed out"
