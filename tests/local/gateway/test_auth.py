"""The JWT authorizer at the gateway, with moto as the IdP: every bad token is a 401
``{"message":"Unauthorized"}``; Cognito's own tokens reach the container and store the item."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import jwt
import moto.cognitoidp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

pytestmark = pytest.mark.integration

ITEM = {"name": "Margherita", "price": 8.5, "tags": ["vegetarian"]}
# moto signs every pool's tokens with this published key (kid "dummy"): a test can sign tokens
# that carry a valid signature but a claim that must be refused.
MOTO_KEY = json.loads(gzip.decompress(
    (Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz").read_bytes()))
MOTO_KID = MOTO_KEY["kid"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def moto_signed(claims: dict, **header) -> str:
    """``claims`` signed with moto's key, as a real token of the pool would be."""
    return jwt.encode(claims, jwt.PyJWK(MOTO_KEY).key, algorithm="RS256", headers={"kid": MOTO_KID, **header})


def access_claims(stack, **changes) -> dict:
    """The claims Cognito puts in an access token of the stack's pool and client, changed."""
    now = int(time.time())
    claims = {"iss": stack.cognito.issuer, "sub": str(uuid.uuid4()), "client_id": stack.cognito.client_id,
              "token_use": "access", "scope": "aws.cognito.signin.user.admin", "iat": now, "auth_time": now,
              "exp": now + 3600, "jti": str(uuid.uuid4()), "username": "someone"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def put(stack, item_id: str, headers: dict | None = None, service: str = "foodstore"):
    return stack.gateway.request("PUT", stack.services[service].url(item_id), ITEM, headers)


def assert_unauthorized(response) -> None:
    status, headers, body = response
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert headers["www-authenticate"].startswith("Bearer ")


def test_a_cognito_access_token_stores_the_item_and_get_returns_it(stack, tokens):
    item_id = f"access-{uuid.uuid4().hex[:8]}"
    status, _, body = put(stack, item_id, stack.bearer(tokens["AccessToken"]))
    assert status == 200, body
    status, _, body = stack.gateway.request("GET", stack.services["foodstore"].url(item_id))
    assert status == 200
    assert json.loads(body) == {**ITEM, "foodId": item_id}


def test_the_token_without_bearer_prefix_is_accepted_too(stack, tokens):
    # API Gateway: "The identitySource can include only the token, or the token prefixed with Bearer."
    status, _, body = put(stack, f"raw-{uuid.uuid4().hex[:8]}", {"Authorization": tokens["AccessToken"]})
    assert status == 200, body


def test_a_cognito_id_token_is_accepted_by_its_aud(stack, tokens):
    # ID tokens carry aud (the client id): API Gateway checks aud when present.
    assert jwt.decode(tokens["IdToken"], options={"verify_signature": False})["aud"] == stack.cognito.client_id
    status, _, body = put(stack, f"id-{uuid.uuid4().hex[:8]}", stack.bearer(tokens["IdToken"]))
    assert status == 200, body


def test_a_public_route_needs_no_token(stack):
    status, _, body = stack.gateway.request("GET", stack.services["petstore"].url("nobody-wrote-this"))
    assert status == 404  # the container's answer for a missing item: the request got through
    assert json.loads(body)["error"]["code"] == "item_not_found"


@pytest.mark.parametrize("service", ["foodstore", "petstore"])
def test_a_put_without_a_token_is_refused_and_nothing_is_stored(stack, service):
    item_id = f"nobody-{uuid.uuid4().hex[:8]}"
    assert_unauthorized(put(stack, item_id, service=service))
    assert stack.containers[service].request("GET", stack.services[service].url(item_id))[0] == 404


def _other_key_token(stack) -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(access_claims(stack), other, algorithm="RS256", headers={"kid": MOTO_KID})


def _alg_none_token(stack) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": MOTO_KID}).encode())
    return f"{header}.{b64url(json.dumps(access_claims(stack)).encode())}."


def _hs256_with_public_key_token(stack) -> str:
    """The classic key-confusion forgery: HMAC with the IdP's public key (PEM) as the secret."""
    public_pem = jwt.PyJWK(MOTO_KEY).key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = (b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": MOTO_KID}).encode()) + "."
                     + b64url(json.dumps(access_claims(stack)).encode()))
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def _tampered_token(stack, tokens) -> str:
    """Cognito's token with its payload changed (another user) and the signature left as it was."""
    header, payload, signature = tokens["AccessToken"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(uuid.uuid4())
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"


def _now(offset: int = 0) -> int:
    return int(time.time()) + offset


# name -> (token maker, what the www-authenticate description says)
BAD_TOKENS = {
    "expired": (lambda stack, tokens: moto_signed(access_claims(stack, iat=_now(-7200), exp=_now(-3600))), "expired"),
    "no exp": (lambda stack, tokens: moto_signed(access_claims(stack, exp=None)), "exp"),
    "not yet valid (nbf)": (lambda stack, tokens: moto_signed(access_claims(stack, nbf=_now(3600))), "not valid yet"),
    "issued in the future (iat)": (lambda stack, tokens: moto_signed(access_claims(stack, iat=_now(3600))),
                                   "not valid yet"),
    "signed by another key": (lambda stack, tokens: _other_key_token(stack), "Signature verification failed"),
    "unknown kid": (lambda stack, tokens: moto_signed(access_claims(stack), kid="another-key"), "kid"),
    "wrong issuer": (lambda stack, tokens: moto_signed(access_claims(
        stack, iss=stack.cognito.issuer.rsplit("/", 1)[0] + "/us-east-1_SomeOtherPool")), "issuer"),
    "wrong client id": (lambda stack, tokens: moto_signed(access_claims(stack, client_id="another-client")),
                        "audience"),
    "wrong audience": (lambda stack, tokens: moto_signed(access_claims(stack, client_id=None, aud="another-client")),
                       "audience"),
    # aud wins over client_id when both are there (API Gateway JWT authorizer troubleshooting guide).
    "wrong aud, right client_id": (lambda stack, tokens: moto_signed(access_claims(stack, aud="another-client")),
                                   "audience"),
    "no audience at all": (lambda stack, tokens: moto_signed(access_claims(stack, client_id=None)), "audience"),
    "alg none": (lambda stack, tokens: _alg_none_token(stack), "alg 'none'"),
    "HS256 signed with the public key": (lambda stack, tokens: _hs256_with_public_key_token(stack), "alg 'HS256'"),
    "payload tampered": (_tampered_token, "Signature verification failed"),
    "refresh token": (lambda stack, tokens: tokens["RefreshToken"], "not a JWT"),
}


@pytest.mark.parametrize(("make_token", "reason"), BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_bad_token_is_refused(stack, tokens, make_token, reason):
    item_id = f"bad-{uuid.uuid4().hex[:8]}"
    response = put(stack, item_id, stack.bearer(make_token(stack, tokens)))
    assert_unauthorized(response)
    assert reason in response[1]["www-authenticate"]
    assert stack.containers["foodstore"].request("GET", stack.services["foodstore"].url(item_id))[0] == 404


MALFORMED_HEADERS = {
    "empty": "",
    "Bearer only": "Bearer ",
    "not a JWT": "Bearer not-a-jwt",
    "three garbage parts": "Bearer a.b.c",
    "Basic credentials": "Basic dXNlcjpwYXNz",
    "header not JSON": f"Bearer {b64url(b'{nope')}.{b64url(b'{}')}.{b64url(b'sig')}",
}


@pytest.mark.parametrize("value", MALFORMED_HEADERS.values(), ids=MALFORMED_HEADERS.keys())
def test_a_malformed_authorization_header_is_refused(stack, value):
    response = put(stack, f"malformed-{uuid.uuid4().hex[:8]}", {"Authorization": value})
    assert_unauthorized(response)
    assert "no token" in response[1]["www-authenticate"] or "not a JWT" in response[1]["www-authenticate"]


def test_the_refusal_says_why_in_www_authenticate(stack):
    _, headers, _ = put(stack, "why", stack.bearer(moto_signed(access_claims(stack, client_id="another-client"))))
    assert 'error="invalid_token"' in headers["www-authenticate"]
    assert "audience" in headers["www-authenticate"]


def test_a_token_that_passed_is_forwarded_to_the_container_unchanged(stack, echo, tokens, start_stack):
    """The Authorization header reaches the integration (HTTP_PROXY passes headers through)."""
    from generator import StackConfig
    from generator.template.names import logical_id

    echoing = start_stack(StackConfig(), upstreams={
        logical_id(name, "DiscoveryService"): echo.url for name in ("foodstore", "petstore")})
    token = echoing.cognito.tokens(f"echo-{uuid.uuid4().hex[:8]}@example.com")["AccessToken"]
    status, _, body = echoing.gateway.request("PUT", "/foodstore/foods/x", ITEM, echoing.bearer(token))
    assert status == 200
    assert json.loads(body)["headers"]["authorization"] == f"Bearer {token}"


def test_a_token_seen_before_is_checked_again_for_expiry(stack, tokens):
    """Verified tokens are cached (signature, issuer, audience); their times are checked at every use."""
    from ecsapi_local.gateway_auth import JwtVerifier, Unauthorized
    from ecsapi_local.gateway_spec import Authorizer

    verifier = JwtVerifier(stack.cognito.jwks_url)
    authorizer = Authorizer("JwtAuthorizer", stack.cognito.issuer, (stack.cognito.client_id,), "authorization")
    claims = verifier.claims(f"Bearer {tokens['AccessToken']}", authorizer)
    assert (tokens["AccessToken"], authorizer) in verifier.verified
    assert verifier.claims(tokens["AccessToken"], authorizer) == claims
    verifier.clock = lambda: claims["exp"] + 1
    with pytest.raises(Unauthorized, match="expired"):
        verifier.claims(tokens["AccessToken"], authorizer)
    # Another authorizer (another audience) is a check of its own, not a cache hit.
    other = Authorizer("Other", stack.cognito.issuer, ("another-client",), "authorization")
    with pytest.raises(Unauthorized, match="audience"):
        verifier.claims(tokens["AccessToken"], other)


def test_route_authorization_scopes_admit_access_tokens_and_refuse_id_tokens_with_403(stack, tokens, echo):
    """With AuthorizationScopes on a route, the token's scope must hold one of them: Cognito's ID
    tokens have no scope, so only access tokens pass (API Gateway's advice for telling them apart).
    The ID token is valid, so the refusal is 403 insufficient_scope (RFC 6750 section 3.1), not 401."""
    import copy

    from werkzeug.test import Client

    from ecsapi_local.gateway import LocalResolution, create_app

    template = copy.deepcopy(stack.template)
    template["Resources"]["FoodstorePutRoute"]["Properties"]["AuthorizationScopes"] = ["aws.cognito.signin.user.admin"]
    app = create_app(template, LocalResolution(
        region="us-east-1", physical_ids={"UserPool": stack.cognito.pool_id, "UserPoolClient": stack.cognito.client_id},
        upstreams={"FoodstoreDiscoveryService": echo.url, "PetstoreDiscoveryService": echo.url},
        jwks_url=stack.cognito.jwks_url))
    client = Client(app)
    assert client.put("/foodstore/foods/s", json=ITEM, headers=stack.bearer(tokens["AccessToken"])).status_code == 200
    refused = client.put("/foodstore/foods/s", json=ITEM, headers=stack.bearer(tokens["IdToken"]))
    assert (refused.status_code, refused.json) == (403, {"message": "Forbidden"})
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert 'scope="aws.cognito.signin.user.admin"' in refused.headers["www-authenticate"]
