"""The suite's own OpenID Connect issuer, on loopback: an RSA key pair, its discovery document and
JWKS served over HTTP, and RS256 tokens minted with PyJWT.

``Issuer().start()`` serves ``/.well-known/openid-configuration`` (naming ``/jwks.json``) and
``/jwks.json``; :meth:`Issuer.token` signs claims (defaults: this issuer, an hour's validity).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "suite-key-1"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Issuer:
    """An OIDC issuer on 127.0.0.1 (a thread of the test process)."""

    def __init__(self, audience: str = "orders-api") -> None:
        self.key = new_key()
        self.audience = audience
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                documents = {"/.well-known/openid-configuration": {"issuer": issuer.url,
                                                                   "jwks_uri": f"{issuer.url}/jwks.json"},
                             "/jwks.json": issuer.jwks()}
                document = documents.get(self.path)
                data = json.dumps(document).encode()
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": KID, "alg": "RS256", "use": "sig"}]}

    def token(self, *, issuer: str | None = None, key: rsa.RSAPrivateKey | None = None, kid: str = KID,
              **claims) -> str:
        """RS256 over ``claims`` (None drops a default): iss, aud, sub, iat, exp (+1 h) by default."""
        now = int(time.time())
        body = {"iss": issuer or self.url, "aud": self.audience, "sub": "user-1", "iat": now, "exp": now + 3600}
        body.update(claims)
        body = {name: value for name, value in body.items() if value is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid})

    def start(self) -> Issuer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
