"""make local's Cognito token endpoint (ecsapi_local/cognito.py): the client-credentials grant for
a machine client, over HTTP, with the answers Cognito's token endpoint and RFC 6749 give."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt
import pytest

from tests.support.moto import REGION, idp, reset

pytestmark = pytest.mark.integration

SCOPES = ["orders/admin", "orders/write"]


@pytest.fixture
def server(local_cognito):
    return local_cognito


@pytest.fixture
def pool(server):
    """(pool id, machine client, a secret client without the flow, the page's client)."""
    reset(server.url)
    client = idp(server.url)
    pool_id = client.create_user_pool(PoolName="p")["UserPool"]["Id"]
    client.create_resource_server(UserPoolId=pool_id, Identifier="orders", Name="orders",
                                  Scopes=[{"ScopeName": "write", "ScopeDescription": "w"},
                                          {"ScopeName": "admin", "ScopeDescription": "a"},
                                          {"ScopeName": "read", "ScopeDescription": "r"}])
    machine = client.create_user_pool_client(
        UserPoolId=pool_id, ClientName="machine", GenerateSecret=True, AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=SCOPES, AccessTokenValidity=30,
        TokenValidityUnits={"AccessToken": "minutes"})["UserPoolClient"]
    no_flow = client.create_user_pool_client(UserPoolId=pool_id, ClientName="other", GenerateSecret=True)["UserPoolClient"]
    page = client.create_user_pool_client(UserPoolId=pool_id, ClientName="page")["UserPoolClient"]
    return pool_id, machine, no_flow, page


def token(server, client_id: str, secret: str | None, form: dict, basic: bool = True) -> tuple[int, dict, dict]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    else:
        form = {**form, "client_id": client_id, "client_secret": secret or ""}
    request = urllib.request.Request(f"{server.url}/oauth2/token", data=urllib.parse.urlencode(form).encode(),
                                     method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_client_credentials_give_a_token_the_pools_keys_verify_with_the_scopes_asked_for(server, pool):
    pool_id, machine, _, _ = pool
    status, headers, answer = token(server, machine["ClientId"], machine["ClientSecret"],
                                    {"grant_type": "client_credentials", "scope": "orders/write"})
    assert status == 200 and answer["token_type"] == "Bearer" and answer["expires_in"] == 30 * 60
    assert headers["Cache-Control"] == "no-store"
    keys = jwt.PyJWKClient(f"{server.url}/{pool_id}/.well-known/jwks.json")
    access = answer["access_token"]
    claims = jwt.decode(access, keys.get_signing_key_from_jwt(access), algorithms=["RS256"],
                        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}")
    assert (claims["sub"], claims["client_id"], claims["token_use"], claims["scope"]) == (
        machine["ClientId"], machine["ClientId"], "access", "orders/write")
    assert "aud" not in claims and "username" not in claims
    assert abs(claims["exp"] - time.time() - 30 * 60) < 60


def test_without_a_scope_the_token_carries_every_allowed_scope(server, pool):
    _, machine, _, _ = pool
    status, _, answer = token(server, machine["ClientId"], machine["ClientSecret"], {"grant_type": "client_credentials"},
                              basic=False)
    assert status == 200
    assert sorted(jwt.decode(answer["access_token"], options={"verify_signature": False})["scope"].split()) == SCOPES


@pytest.mark.parametrize(("change", "status", "error"), [
    ({"secret": "wrong"}, 401, "invalid_client"),
    ({"client": "page"}, 401, "invalid_client"),            # a client without a secret cannot use the grant
    ({"client": "no_flow"}, 400, "unauthorized_client"),    # client_credentials is not among its flows
    ({"scope": "orders/read"}, 400, "invalid_scope"),       # a scope of the pool, not allowed to the client
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"grant_type": None}, 400, "invalid_request"),
])
def test_refusals_are_rfc_6749_errors(server, pool, change, status, error):
    _, machine, no_flow, page = pool
    client = {"page": page, "no_flow": no_flow}.get(change.get("client"), machine)
    form = {"grant_type": change.get("grant_type", "client_credentials")}
    if form["grant_type"] is None:
        del form["grant_type"]
    if "scope" in change:
        form["scope"] = change["scope"]
    answer = token(server, client["ClientId"], change.get("secret", client.get("ClientSecret", "")), form)
    assert (answer[0], answer[2]) == (status, {"error": error})
