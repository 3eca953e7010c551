"""A small DynamoDB JSON-protocol client for the two calls the item store makes: GetItem, PutItem.

Why not botocore's client: measured, its generic per-call pipeline (event hooks, endpoint-ruleset
resolution, serializer and parser walks over the service model, SigV4 with a fresh key, the
AWSRequest/urllib3 plumbing) costs about 0.65 ms of CPU per call, more than the service's whole
per-request budget. This module does only what these two calls need, the way botocore does it:

* the request: ``POST /``, ``Content-Type: application/x-amz-json-1.0``,
  ``X-Amz-Target: DynamoDB_20120810.<Operation>``, the JSON body (the same bytes botocore's
  serializer produces), signed with SigV4 (:mod:`itemstore.sigv4`, key cached per day);
* credentials from botocore's provider chain, frozen per call (not per attempt) so that rotating
  ECS task-role credentials are picked up; region and endpoint as a botocore client resolves them
  (see :func:`itemstore.dynamo.make_client`);
* kept-alive HTTP/1.1 connections (TLS for https), pooled per worker process and shared by its
  threads; the request goes out in one ``sendall`` and the answer is read with a minimal parser
  (status line, headers, ``Content-Length`` or chunked body). Measured in-process, a kept-alive
  urllib3 ``HTTPConnectionPool`` cost ≈ 0.18 ms more per call than this (http.client builds an
  ``email.message.Message`` from every answer's headers; urllib3 adds its per-request objects);
* botocore's *standard* retry mode, as ``botocore.retries.standard`` decides it for these two
  operations: throttling codes, transient codes, HTTP 500/502/503/504, HTTP 429 with a code the
  operation does not model, the errors DynamoDB's model marks retryable
  (``ReplicatedWriteConflictException`` on PutItem), a wrong ``x-amz-crc32``, connection errors
  and timeouts are retried up to ``max_attempts`` (first included) after
  ``rand(0, 1) × min(scale × 2^(n-1), 20)`` seconds (scale 1 s for throttling, 25 ms otherwise),
  raised to the server's ``x-amz-retry-after`` (milliseconds) by at most 5 s, within a retry quota
  that stops a worker from multiplying an outage (tests/containers/test_transport_retries.py
  compares every rule with botocore's own, so an upgrade that changes one fails there). One
  difference on purpose: no wait exceeds ``min(2^(n-1), 20)`` s (:func:`backoff_bound`), the bound
  the item store's worst case is computed with (itemstore.settings.worst_case_seconds), so an
  ``x-amz-retry-after`` longer than that shortens to it instead of pushing a request past API
  Gateway's 30 s;
* credentials that cannot be had (the ECS credential endpoint down when they expire) fail the
  call at once, not retried, as botocore fails it while signing;
* errors as botocore reports them: the code is ``__type`` after its ``#``, the message is
  ``message`` or ``Message``; a body that is not JSON gives the HTTP status as the code.
"""

from __future__ import annotations

import json
import random
import re
import select
import socket
import ssl
import threading
import time
import zlib
from urllib.parse import urlsplit

from itemstore.sigv4 import SigV4Signer, host_header

SERVICE = "dynamodb"  # the SigV4 signing name
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
USER_AGENT = "itemstore"
MAX_LINE = 65536  # longest status or header line accepted
MAX_HEADERS = 100

# botocore.retries.standard (ThrottledRetryableChecker, TransientRetryableChecker,
# ThrottlingStatusCodeChecker, ExponentialBackoff, RetryQuotaChecker) and botocore.retries.quota:
# what standard mode retries, how long it waits, what a retry costs. Kept here as data, not read from
# botocore's private attributes at run time; test_transport_retries.py compares them.
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException",
})
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
THROTTLING_STATUSES = frozenset({429})  # retried as throttling when the code is not one the operation models
# The errors DynamoDB's service model (2012-08-10) lists for each operation: a 429 with one of these
# codes is decided by the model, not by its status.
MODELED_ERRORS = {
    "GetItem": frozenset({"ProvisionedThroughputExceededException", "ResourceNotFoundException",
                          "RequestLimitExceeded", "InternalServerError", "ThrottlingException"}),
    "PutItem": frozenset({"ConditionalCheckFailedException", "ProvisionedThroughputExceededException",
                          "ResourceNotFoundException", "ItemCollectionSizeLimitExceededException",
                          "TransactionConflictException", "RequestLimitExceeded", "InternalServerError",
                          "ReplicatedWriteConflictException", "ThrottlingException"}),
}
# Of those, the ones the model marks ``retryable``, with its ``throttling`` flag.
MODELED_RETRYABLE = {
    "GetItem": {},
    "PutItem": {"ReplicatedWriteConflictException": False},
}
RETRY_AFTER_HEADER = "x-amz-retry-after"  # milliseconds
RETRY_AFTER_MAX_ADDITIONAL = 5.0  # seconds the header may add to the computed backoff
MAX_BACKOFF = 20.0
THROTTLING_BACKOFF_SCALE = 1.0
TRANSIENT_BACKOFF_SCALE = 0.025  # botocore's value for DynamoDB
# botocore.retries.quota / standard.RetryQuotaChecker.
QUOTA_CAPACITY = 500
QUOTA_RETRY_COST = 14
QUOTA_THROTTLING_RETRY_COST = 5
QUOTA_SUCCESS_REFUND = 1
THROTTLING = "throttling"
TRANSIENT = "transient"

# The answer's grammar, as RFC 9112 spells it and as h11 reads it (tests/containers/
# test_transport_parser.py compares the two parsers on generated answers): the status line
# (section 4), header and trailer fields (5; a bare LF also ends a line, 2.2; an obs-fold line is
# joined to the field before it with one space, 5.2), chunk-size lines (7.1, CRLF-terminated, any
# extension ignored). Anything else is a BadResponse, not a guess.
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_FIELD_VCHAR = rb"[^\x00\s]"
_STATUS_LINE = re.compile(rb"HTTP/1\.[0-9] ([0-9]{3})(?: (?:[ \t]|%s)*)?\r?\n" % _FIELD_VCHAR)
_FIELD = rb"(%s):[ \t]*((?:%s+(?:[ \t]+%s+)*)?)[ \t]*" % (_TOKEN, _FIELD_VCHAR, _FIELD_VCHAR)
_FIELD_LINE = re.compile(_FIELD + rb"\r?\n")  # as read, line end included: the common case in one match
_FOLDED_FIELD = re.compile(_FIELD)  # a field joined from obs-fold lines, line ends removed
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*\r\n")
_CONTENT_LENGTH = re.compile(r"[0-9]+")

class DynamoDBError(Exception):
    """DynamoDB (or something in front of it) answered with an error."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


class DynamoDBUnreachable(Exception):
    """No answer: connection refused or reset, a connect or read timeout, a broken response."""


class BadResponse(OSError):
    """The peer's answer is not well-formed HTTP/1.1 (or it closed the connection mid-answer)."""


class RetryQuota:
    """botocore's retry quota: each retry spends capacity, a success gives some back; when it is
    spent, failures are reported at once instead of retried."""

    def __init__(self, capacity: int = QUOTA_CAPACITY) -> None:
        self.capacity = capacity
        self.available = capacity
        self._lock = threading.Lock()

    def acquire(self, amount: int) -> bool:
        with self._lock:
            if amount > self.available:
                return False
            self.available -= amount
            return True

    def release(self, amount: int) -> None:
        if self.available < self.capacity:
            with self._lock:
                self.available = min(self.capacity, self.available + amount)


def error_from_response(status: int, data: bytes) -> DynamoDBError:
    """The error botocore's JSON parser (``BaseJSONParser._do_error_parse``) would report for this
    response: the code is ``__type`` (else the status) before any ``:`` and after any ``#``."""
    try:
        body = json.loads(data) if data else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("__type", str(status))
    message = body.get("message", body.get("Message", ""))
    if not isinstance(code, str):
        code = str(code)
    if not isinstance(message, str):
        message = str(message)
    return DynamoDBError(code.split(":", 1)[0].rsplit("#", 1)[-1], message, status)


def retry_kind(operation: str, status: int, code: str | None, crc_mismatch: bool = False) -> str | None:
    """THROTTLING, TRANSIENT or None (not retried): botocore's StandardRetryConditions and its
    ThrottlingErrorDetector for an answer to ``operation`` with this status and error code (None
    for a 2xx answer)."""
    retryable = MODELED_RETRYABLE.get(operation, {})
    if code in THROTTLING_CODES:
        return THROTTLING
    if code in retryable:
        return THROTTLING if retryable[code] else TRANSIENT
    if status in THROTTLING_STATUSES and code not in MODELED_ERRORS.get(operation, ()):
        return THROTTLING
    if code in TRANSIENT_CODES or status in TRANSIENT_STATUSES or crc_mismatch:
        return TRANSIENT
    return None


def backoff_bound(attempt: int) -> float:
    """The longest wait before attempt ``attempt + 1``: the throttling backoff's upper bound,
    min(2^(attempt-1), 20) s, as itemstore.settings.worst_case_seconds counts it."""
    return min(THROTTLING_BACKOFF_SCALE * 2 ** (attempt - 1), MAX_BACKOFF)


def backoff(kind: str, attempt: int, rand: float, retry_after: str | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after an answer of ``kind`` (THROTTLING or
    TRANSIENT; connection errors and timeouts are TRANSIENT) and with the answer's
    ``x-amz-retry-after`` header, if any: botocore's ExponentialBackoff.delay_amount, at most
    backoff_bound(attempt)."""
    scale = THROTTLING_BACKOFF_SCALE if kind == THROTTLING else TRANSIENT_BACKOFF_SCALE
    delay = rand * min(scale * 2 ** (attempt - 1), MAX_BACKOFF)
    if retry_after is not None:
        try:
            wanted = int(retry_after) / 1000.0
        except (ValueError, OverflowError):
            return delay
        if wanted >= 0:
            return min(max(delay, min(wanted, RETRY_AFTER_MAX_ADDITIONAL + delay)), backoff_bound(attempt))
    return delay


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Certificate and host name verification against the PEM file ``ca_bundle`` (as botocore's
    URLLib3Session loads it; None: the system's roots)."""
    return ssl.create_default_context(cafile=ca_bundle)


class DynamoDBClient:
    """Calls DynamoDB's JSON API at ``endpoint_url``. Thread-safe; one per worker process."""

    def __init__(self, endpoint_url: str, region: str, credentials, *, connect_timeout: float,
                 read_timeout: float, max_attempts: int, ca_certs: str | None = None,
                 pool_size: int = 16, sleep=time.sleep, rand=random.random) -> None:
        parts = urlsplit(endpoint_url)
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.ca_bundle = ca_certs
        self.quota = RetryQuota()
        self._credentials = credentials
        self._signer = SigV4Signer(region, SERVICE, host_header(endpoint_url))
        self._address = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        self._host = self._signer.host
        self._tls = tls_context(ca_certs) if parts.scheme == "https" else None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._pool_size = pool_size
        self._idle: list[Connection] = []  # LIFO: the most recently used connection is reused first
        self._idle_lock = threading.Lock()
        self._sleep = sleep
        self._rand = rand

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def call(self, operation: str, body: bytes) -> dict:
        """The parsed JSON answer of ``operation`` with the JSON request ``body``.

        Raises DynamoDBError (an error answer that is not retried, or the last one) or
        DynamoDBUnreachable (no answer in the last attempt, or no credentials).
        """
        target = TARGET_PREFIX + operation
        # Frozen once per call: when they are due for refresh, botocore's refresh may wait on the
        # credential endpoint (at most 9 s); every attempt of the call then reuses the result (valid
        # for at least 10 more minutes) instead of waiting again.
        credentials = self._frozen_credentials()
        retry_cost = None  # the quota spent on the last retry, refunded on success
        attempt = 1
        while True:
            retry_after = None
            try:
                status, headers, data = self._send(target, body, credentials)
            except OSError as error:  # socket errors, timeouts, TLS (ssl.SSLError), BadResponse
                failure: Exception = DynamoDBUnreachable(f"{type(error).__name__}: {error}")
                kind = TRANSIENT
            else:
                crc = headers.get("x-amz-crc32")
                crc_mismatch = crc is not None and str(zlib.crc32(data)) != crc
                if 200 <= status < 300 and not crc_mismatch:
                    self.quota.release(retry_cost or QUOTA_SUCCESS_REFUND)
                    try:
                        return json.loads(data)
                    except ValueError:
                        raise DynamoDBUnreachable("the answer is not JSON") from None
                if 200 <= status < 300:
                    failure = DynamoDBUnreachable(f"the x-amz-crc32 of the answer does not match (expected {crc})")
                    kind = retry_kind(operation, status, None, crc_mismatch)
                else:
                    failure = error_from_response(status, data)
                    kind = retry_kind(operation, status, failure.code, crc_mismatch)
                retry_after = headers.get(RETRY_AFTER_HEADER)
            if kind is None or attempt >= self.max_attempts:
                raise failure
            retry_cost = QUOTA_THROTTLING_RETRY_COST if kind == THROTTLING else QUOTA_RETRY_COST
            if not self.quota.acquire(retry_cost):
                raise failure
            self._sleep(backoff(kind, attempt, self._rand(), retry_after))
            attempt += 1

    def _frozen_credentials(self):
        if self._credentials is None:
            raise DynamoDBUnreachable("no AWS credentials: botocore's provider chain found none")
        try:
            return self._credentials.get_frozen_credentials()
        except Exception as error:
            # The provider chain may fetch over the network (the ECS credential endpoint, with its
            # own bounded timeouts and attempts); whatever it raises means "no credentials now".
            raise DynamoDBUnreachable(f"AWS credentials unavailable: {type(error).__name__}: {error}") from None

    def _send(self, target: str, body: bytes, credentials) -> tuple[int, dict[str, str], bytes]:
        headers = self._signer.sign({"Content-Type": CONTENT_TYPE, "X-Amz-Target": target}, body, credentials)
        lines = ["POST / HTTP/1.1\r\nHost: ", self._host, "\r\n"]
        for name, value in headers.items():
            lines += (name, ": ", value, "\r\n")
        # User-Agent is not signed (botocore leaves it out too).
        lines.append("User-Agent: %s\r\nContent-Length: %d\r\n\r\n" % (USER_AGENT, len(body)))
        request = "".join(lines).encode("latin-1") + body
        connection = self._checkout()
        try:
            status, response_headers, data = connection.exchange(request, self._read_timeout)
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._checkin(connection)
        else:
            connection.close()
        return status, response_headers, data

    def _checkout(self) -> Connection:
        while True:
            with self._idle_lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return Connection.open(self._address, self._connect_timeout, self._tls)
            if not connection.dropped():
                return connection
            connection.close()

    def _checkin(self, connection: Connection) -> None:
        with self._idle_lock:
            if len(self._idle) < self._pool_size:
                self._idle.append(connection)
                return
        connection.close()


class Connection:
    """One HTTP/1.1 connection to the endpoint; used by one thread at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.reusable = True
        self.timeout = sock.gettimeout()

    @classmethod
    def open(cls, address: tuple[str, int], connect_timeout: float, tls: ssl.SSLContext | None) -> Connection:
        sock = socket.create_connection(address, timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=address[0])
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    def dropped(self) -> bool:
        """Whether the peer closed this idle connection (or sent something unasked): readable
        before a request is sent means it cannot be used."""
        try:
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        self.reusable = False
        self.reader.close()
        self.sock.close()

    def exchange(self, request: bytes, read_timeout: float) -> tuple[int, dict[str, str], bytes]:
        """Send one request and read its answer: (status, headers with lowercase names, body)."""
        if self.timeout != read_timeout:  # settimeout is two fcntl calls; skip them on reuse
            self.sock.settimeout(read_timeout)
            self.timeout = read_timeout
        self.sock.sendall(request)
        while True:
            status, version, headers = self._read_head()
            if status >= 200:
                break  # 1xx answers (100 Continue) are followed by the real one
        if status in (204, 304):
            # Never a body, whatever the headers say (RFC 9112, 6.3, rule 1): a Content-Length
            # here states the size of the resource, and reading it would take the next answer's bytes.
            body = b""
        elif "transfer-encoding" in headers:
            body = self._read_chunked()
        elif "content-length" in headers:
            length = int(headers["content-length"])
            body = self.reader.read(length) if length > 0 else b""
            if len(body) != length:
                raise BadResponse(f"the answer ended after {len(body)} of {length} bytes")
        else:  # the body runs to the end of the connection
            body = self.reader.read()
            self.reusable = False
        # Connection options are comma-separated tokens, case-insensitive (RFC 9110, 7.6.1).
        options = {option.strip().lower() for option in headers.get("connection", "").split(",")}
        if version == "HTTP/1.0" and "keep-alive" not in options or "close" in options:
            self.reusable = False
        return status, headers, body

    @staticmethod
    def _check_framing(headers: dict[str, str]) -> None:
        """Refuse framing headers no answer may carry, whatever its status (as h11 refuses them):
        a Content-Length that is not one number (repeated equal values are one: RFC 9110, 8.6; it is
        kept as that one value), a Transfer-Encoding other than one ``chunked`` (DynamoDB codes
        nothing else; another coding would hand back coded bytes)."""
        if "content-length" in headers:
            values = {value.strip() for value in headers["content-length"].split(",")}
            if len(values) != 1 or not _CONTENT_LENGTH.fullmatch(next(iter(values))):
                raise BadResponse(f"bad Content-Length {headers['content-length']!r}")
            headers["content-length"] = values.pop()
        if "transfer-encoding" in headers and headers["transfer-encoding"].lower() != "chunked":
            raise BadResponse(f"unsupported Transfer-Encoding {headers['transfer-encoding']!r}")

    def _readline(self) -> bytes:
        line = self.reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise BadResponse("a line of the answer is too long")
        return line

    def _read_head(self) -> tuple[int, str, dict[str, str]]:
        line = self._readline()
        if not line:
            raise BadResponse("the connection closed without an answer")
        match = _STATUS_LINE.fullmatch(line)
        if match is None or match[1] < b"100":
            raise BadResponse(f"not an HTTP/1.x status line: {line[:100]!r}")
        headers = self._read_fields("the answer's headers")
        if "content-length" in headers or "transfer-encoding" in headers:
            self._check_framing(headers)
        return int(match[1]), line[:8].decode("ascii"), headers

    def _read_fields(self, where: str) -> dict[str, str]:
        """Header (or trailer) fields up to the blank line: lowercase names, repeated ones joined
        with ", " (RFC 9110, 5.3)."""
        lines: list[bytes] = []
        readline = self.reader.readline
        while True:
            line = readline(MAX_LINE + 1)
            if line == b"\r\n" or line == b"\n":
                break
            if len(line) > MAX_LINE:
                raise BadResponse("a line of the answer is too long")
            if not line:
                raise BadResponse(f"the connection closed in {where}")
            lines.append(line)
            if len(lines) > MAX_HEADERS:
                raise BadResponse(f"the answer has more than {MAX_HEADERS} fields in {where}")
        fields: dict[str, str] = {}
        for line in lines:
            match = _FIELD_LINE.fullmatch(line)
            if match is None:  # an obs-fold line, a line cut by the end of the answer, or no field
                return self._fold_fields(lines, where)
            name, value = match[1].decode("ascii").lower(), match[2].decode("latin-1")
            fields[name] = f"{fields[name]}, {value}" if name in fields else value
        return fields

    @staticmethod
    def _fold_fields(lines: list[bytes], where: str) -> dict[str, str]:
        """The fields of ``lines`` (as read) with each obs-fold line joined to the one before by a
        space (RFC 9112, 5.2), or BadResponse."""
        joined: list[bytes] = []
        for line in lines:
            if not line.endswith(b"\n"):
                raise BadResponse(f"the connection closed in {where}")
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            if line[:1] in (b" ", b"\t"):
                if not joined:
                    raise BadResponse(f"a continuation line opens {where}: {line[:100]!r}")
                joined[-1] += b" " + line.lstrip(b" \t")
            else:
                joined.append(line)
        fields: dict[str, str] = {}
        for line in joined:
            match = _FOLDED_FIELD.fullmatch(line)
            if match is None:
                raise BadResponse(f"not an HTTP field line in {where}: {line[:100]!r}")
            name, value = match[1].decode("ascii").lower(), match[2].decode("latin-1")
            fields[name] = f"{fields[name]}, {value}" if name in fields else value
        return fields

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            line = self._readline()
            match = _CHUNK_SIZE_LINE.fullmatch(line)
            if match is None:
                if not line.endswith(b"\n"):
                    raise BadResponse("the chunked answer ended early")
                raise BadResponse(f"bad chunk size line {line[:100]!r}")
            size = int(match[1], 16)
            if size == 0:
                self._read_fields("the answer's trailers")
                return b"".join(chunks)
            chunk = self.reader.read(size)
            if len(chunk) != size:
                raise BadResponse("the chunked answer ended early")
            end = self.reader.read(2)
            if end != b"\r\n":
                raise BadResponse(f"a chunk does not end with CRLF: {end!r}")
            chunks.append(chunk)
