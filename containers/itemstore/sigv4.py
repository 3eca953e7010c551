"""AWS Signature Version 4 for the JSON-protocol POSTs the item store sends to DynamoDB.

The same algorithm as botocore's ``SigV4Auth``, narrowed to what these requests need, and refusing
everything else instead of signing it differently:

* method ``POST``, path ``/``, no query string: the endpoint URL must have no path, query,
  fragment or user info (:func:`host_header` raises :class:`UnsupportedEndpoint`);
* the signed headers are ``host`` and exactly the names in :data:`SIGNABLE_HEADERS`
  (``Content-Type``, ``X-Amz-Target``) plus the ``X-Amz-Date`` and ``X-Amz-Security-Token`` it adds;
  any other name (botocore would sign most, but leaves ``User-Agent``, ``Expect`` and others out)
  and any value that is not a plain HTTP field value (visible ASCII, space, tab) raise
  :class:`UnsupportedRequest`;
* the body is bytes and its SHA-256 is always signed (botocore signs the payload of every
  ``SigV4Auth`` request, https included, unless told otherwise).

tests/containers/test_sigv4.py signs generated requests (hosts, ports, paths, queries, header
values with runs of whitespace, bodies empty, binary and unicode, session tokens, dates) with both
this signer and botocore's and asserts the headers are identical, and that what this one refuses
is exactly what it does not handle.

The signing key depends only on the date, region, service and secret, so it is derived once per
day (four HMACs) instead of once per request; the canonical headers depend only on the headers and
credentials, so they are built (and checked) once per such set, and the request's date and body
hash are put into them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # X-Amz-Date, UTC
DEFAULT_PORTS = {"http": 80, "https": 443}
# The headers a caller may hand to sign(), lowercase. Each is signed, as botocore signs it.
SIGNABLE_HEADERS = frozenset({"content-type", "x-amz-target"})
# RFC 9110 field-value characters this signer sends as they are: visible ASCII, space, tab.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")
# Host names (urlsplit lowercases them) and IPv6 literals without a zone: what the Host header
# can carry as it is.
_HOSTNAME = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")


class UnsupportedEndpoint(ValueError):
    """The endpoint URL is not ``http(s)://host[:port][/]``: this signer only signs ``POST /``."""


class UnsupportedRequest(ValueError):
    """A header this signer does not sign the way botocore does (another name, or a value that
    is not a plain HTTP field value)."""


def host_header(endpoint_url: str) -> str:
    """The Host value botocore signs: lowercase host, the port only when it is not the default.

    Raises UnsupportedEndpoint for a URL that is not ``http(s)://host[:port]`` with an optional
    trailing ``/``: a path would be signed and sent as ``/`` (botocore sends it), a query string
    or user info would be dropped.
    """
    parts = urlsplit(endpoint_url)
    try:
        port = parts.port
    except ValueError as error:
        raise UnsupportedEndpoint(f"endpoint URL {endpoint_url!r}: {error}") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or not _HOSTNAME.fullmatch(parts.hostname):
        raise UnsupportedEndpoint(f"endpoint URL {endpoint_url!r} is not http(s)://host[:port]")
    # An empty query or fragment ("http://host/?") leaves no trace in urlsplit's parts: look for the mark.
    extra = {"a path": parts.path not in ("", "/"), "a query string": "?" in endpoint_url,
             "a fragment": "#" in endpoint_url, "user info": "@" in parts.netloc}
    found = [what for what, present in extra.items() if present]
    if found:
        raise UnsupportedEndpoint(
            f"endpoint URL {endpoint_url!r} has {' and '.join(found)}; the item store's DynamoDB "
            f"client sends every request to '/' of the endpoint: use http(s)://host[:port]")
    host = parts.hostname
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return host


class SigV4Signer:
    """Signs POST / requests to one region's service. Thread-safe (the key cache is a dict and the
    checked values a set: the worst race computes a key or checks a value twice)."""

    def __init__(self, region: str, service: str, host: str) -> None:
        self.region = region
        self.service = service
        self.host = host
        self._keys: dict[tuple[str, str, str, str], bytes] = {}
        # Values already found to be plain field values: the same few (content type, targets,
        # the current key id and session token) come with every request, and a set lookup of a
        # str whose hash is cached costs less than matching a thousand-character token again.
        self._plain: set[str] = set()
        # The canonical request's parts that change only with the headers and credentials, per
        # (headers..., access key, token): only the date and the payload hash change per request.
        self._canonical: dict[tuple, tuple[str, str, str]] = {}
        self._clock = (-1, "")

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
        ``headers`` and return it.

        ``headers`` holds names from SIGNABLE_HEADERS only (UnsupportedRequest otherwise);
        ``credentials`` has ``access_key``, ``secret_key`` and ``token`` (botocore's frozen
        credentials); ``amz_date`` defaults to now.
        """
        token = credentials.token
        cache_key = (*headers.items(), credentials.access_key, token)
        canonical = self._canonical.get(cache_key)
        if canonical is None:
            canonical = self._canonical_parts(headers, credentials)
            if len(self._canonical) >= 32:  # rotated keys and tokens
                self._canonical.clear()
            self._canonical[cache_key] = canonical
        before_date, after_date, signed_headers = canonical
        if amz_date is None:
            amz_date = self._timestamp()
        headers["X-Amz-Date"] = amz_date
        if token:
            headers["X-Amz-Security-Token"] = token
        canonical_request = before_date + amz_date + after_date + hashlib.sha256(body).hexdigest()
        date = amz_date[:8]
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        string_to_sign = "%s\n%s\n%s\n%s" % (
            ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
        signature = hmac.digest(self.signing_key(credentials.secret_key, date), string_to_sign.encode("utf-8"),
                                "sha256").hex()
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}")
        return headers

    def _canonical_parts(self, headers: dict[str, str], credentials) -> tuple[str, str, str]:
        """The canonical request up to the X-Amz-Date value, after it up to the payload hash, and
        the signed header names, for these headers and credentials; raises UnsupportedRequest."""
        signed = {"host": self.host}
        for name, value in headers.items():
            lower = name.lower()
            if lower not in SIGNABLE_HEADERS or lower in signed:
                raise UnsupportedRequest(
                    f"header {name!r}: this signer signs only {', '.join(sorted(SIGNABLE_HEADERS))}, once each")
            if value not in self._plain:
                self._check_plain(value, f"header {name!r}: {value!r}")
            signed[lower] = " ".join(value.split())
        if credentials.access_key not in self._plain:
            self._check_plain(credentials.access_key, "the access key id")
        signed["x-amz-date"] = "\0"  # a plain field value never holds NUL: the date goes here
        if credentials.token:
            if credentials.token not in self._plain:
                self._check_plain(credentials.token, "the session token")
            signed["x-amz-security-token"] = " ".join(credentials.token.split())
        names = sorted(signed)
        signed_headers = ";".join(names)
        before_date, after_date = ("POST\n/\n\n%s\n\n%s\n" % (
            "\n".join(f"{name}:{signed[name]}" for name in names), signed_headers)).split("\0")
        return before_date, after_date, signed_headers

    def _timestamp(self) -> str:
        # strftime once per second, not once per request.
        second = int(time.time())
        cached = self._clock
        if cached[0] != second:
            cached = self._clock = (second, time.strftime(TIMESTAMP_FORMAT, time.gmtime(second)))
        return cached[1]

    def _check_plain(self, value: str, what: str) -> None:
        """Raise UnsupportedRequest unless ``value`` is a plain field value; remember it if it is."""
        if not _FIELD_VALUE.fullmatch(value):
            raise UnsupportedRequest(f"{what} has characters other than visible ASCII, space, tab")
        if len(self._plain) >= 32:  # rotated keys and tokens
            self._plain.clear()
        self._plain.add(value)
