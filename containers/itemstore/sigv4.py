"""AWS Signature Version 4 for the JSON-protocol POSTs the item store sends to DynamoDB.

The same algorithm as botocore's ``SigV4Auth`` (tests/containers/test_sigv4.py signs identical
requests with both and compares the headers byte for byte), narrowed to what these requests
need: method POST, path ``/``, no query string, a bytes body whose SHA-256 is always signed.
The signing key depends only on the date, region, service and secret, so it is derived once per
day (four HMACs) instead of once per request.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # X-Amz-Date, UTC
DEFAULT_PORTS = {"http": 80, "https": 443}


def host_header(endpoint_url: str) -> str:
    """The Host value botocore signs: lowercase host, the port only when it is not the default."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


class SigV4Signer:
    """Signs POST / requests to one region's service. Thread-safe (the key cache is a dict whose
    worst race computes a key twice)."""

    def __init__(self, region: str, service: str, host: str) -> None:
        self.region = region
        self.service = service
        self.host = host
        self._keys: dict[tuple[str, str, str, str], bytes] = {}

    def signing_key(self, secret_key: str, date: str) -> bytes:
        """kSigning for ``date`` (YYYYMMDD), cached per (date, region, service, secret)."""
        cache_key = (date, self.region, self.service, secret_key)
        key = self._keys.get(cache_key)
        if key is None:
            key = hmac.digest(("AWS4" + secret_key).encode("utf-8"), date.encode("utf-8"), "sha256")
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.digest(key, part.encode("utf-8"), "sha256")
            if len(self._keys) >= 8:  # old dates and rotated secrets
                self._keys.clear()
            self._keys[cache_key] = key
        return key

    def sign(self, headers: dict[str, str], body: bytes, credentials, amz_date: str | None = None) -> dict[str, str]:
        """Add X-Amz-Date, X-Amz-Security-Token (with a session token) and Authorization to
        ``headers`` (which already hold every other header to sign) and return it.

        ``credentials`` has ``access_key``, ``secret_key`` and ``token`` (botocore's frozen
        credentials); ``amz_date`` defaults to now.
        """
        if amz_date is None:
            amz_date = time.strftime(TIMESTAMP_FORMAT, time.gmtime())
        headers["X-Amz-Date"] = amz_date
        if credentials.token:
            headers["X-Amz-Security-Token"] = credentials.token
        signed = {"host": self.host}
        for name, value in headers.items():
            signed[name.lower()] = " ".join(value.split())
        names = sorted(signed)
        signed_headers = ";".join(names)
        canonical_request = "POST\n/\n\n%s\n\n%s\n%s" % (
            "\n".join(f"{name}:{signed[name]}" for name in names),
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        )
        date = amz_date[:8]
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        string_to_sign = "%s\n%s\n%s\n%s" % (
            ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
        signature = hmac.new(self.signing_key(credentials.secret_key, date), string_to_sign.encode("utf-8"),
                             hashlib.sha256).hexdigest()
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}")
        return headers
