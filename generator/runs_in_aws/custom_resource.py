"""The CloudFormation custom-resource protocol, written once for every function of the stack.

CloudFormation sends a Create, Update or Delete event and then waits — for up to an hour — until
something PUTs a result to the event's pre-signed ``ResponseURL`` ("Custom resources", AWS
CloudFormation User Guide; the response fields are those of its "Custom resource response
objects" page). A function that crashes or times out without answering leaves the stack waiting
that hour. So :func:`run` answers in every case: SUCCESS with the handler's data, FAILED with the
error when the handler raises, and FAILED before Lambda's own timeout when the handler is still
running then (it gets a deadline to stop at on its own, and a watchdog answers if it does not). A
handler whose work ends later, elsewhere, returns :class:`Deferred` instead, and whatever ends that
work answers with :func:`send_response` (the image build: the build's completion answers).

CloudFormation invokes the function asynchronously, and Lambda may deliver one event more than once
even when retries are off ("How Lambda handles errors and retries with asynchronous invocation",
AWS Lambda Developer Guide): every handler must be idempotent for a repeated event (same
``RequestId``). The template turns Lambda's own retries off for these functions
(generator/template/functions.py), so a failure is answered once, here, and never re-run blindly.

Every AWS call is bounded by the time left (:func:`aws_config`), and the PUT of the answer is
retried, bounded, when the network or S3 fails (:func:`send_response`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.config import Config

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

# CloudFormation refuses a response body over 4096 bytes ("Custom resource response objects"):
# the reason is cut to fit, the data never is (handlers return small data).
MAX_RESPONSE_BYTES = 4096
# Time kept back from Lambda's limit to send FAILED: the PUT to S3, with its retries, must fit in it.
RESPONSE_MARGIN_SECONDS = 15.0
# One PUT of the answer: each try waits at most this long, and tries are spaced by these pauses
# (then given up: the pre-signed URL itself expires, and the stack's ServiceTimeout ends the wait).
RESPONSE_TIMEOUT_SECONDS = 5.0
RESPONSE_PAUSES_SECONDS = (0.5, 1.0, 2.0)
# Never start a try with less than this left before the caller's deadline.
RESPONSE_MIN_TRY_SECONDS = 0.5

# Bounds of one AWS call (aws_config): botocore's standard retry mode waits
# rand(0, 1) * min(2 ** (n - 1), 20) s before retry n after throttling (50 ms scale otherwise), and
# up to 5 s more when the service asks for it with x-amz-retry-after ("Retries", Boto3 guide;
# botocore/retries/standard.py, ExponentialBackoff). total_max_attempts counts the first try.
AWS_MAX_ATTEMPTS = 3
AWS_MAX_CONNECT_SECONDS = 5.0
AWS_MAX_READ_SECONDS = 30.0
AWS_MIN_TIMEOUT_SECONDS = 1.0
AWS_RETRY_AFTER_EXTRA_SECONDS = 5.0
AWS_MAX_BACKOFF_SECONDS = 20.0


def aws_config(seconds_left: float) -> Config:
    """A botocore ``Config`` whose worst case (every try timing out, every pause at its longest)
    fits in ``seconds_left``: fewer tries and shorter timeouts as the time runs out, one try of at
    least a second each way when almost none is left (the watchdog answers then)."""
    budget = max(seconds_left, 0.0)
    attempts = AWS_MAX_ATTEMPTS
    while attempts > 1 and (budget - worst_backoff(attempts)) / attempts < 2 * AWS_MIN_TIMEOUT_SECONDS:
        attempts -= 1
    per_try = min(AWS_MAX_CONNECT_SECONDS + AWS_MAX_READ_SECONDS, (budget - worst_backoff(attempts)) / attempts)
    connect = max(AWS_MIN_TIMEOUT_SECONDS, min(AWS_MAX_CONNECT_SECONDS, per_try / 4))
    read = max(AWS_MIN_TIMEOUT_SECONDS, min(AWS_MAX_READ_SECONDS, per_try - connect))
    return Config(
        connect_timeout=connect, read_timeout=read,
        retries={"total_max_attempts": attempts, "mode": "standard"},
    )


def worst_backoff(attempts: int) -> float:
    """The longest botocore's standard mode pauses in all, between ``attempts`` tries."""
    return sum(
        min(2.0 ** (retry - 1), AWS_MAX_BACKOFF_SECONDS) + AWS_RETRY_AFTER_EXTRA_SECONDS
        for retry in range(1, attempts)
    )


def worst_case_seconds(config: Config) -> float:
    """How long one call with ``config`` can take at most (each read counted once per try)."""
    attempts = config.retries["total_max_attempts"]
    return attempts * (config.connect_timeout + config.read_timeout) + worst_backoff(attempts)


class ResourceFailed(Exception):
    """A failure whose message is the reason CloudFormation shows on the resource, as it is."""


@dataclass(frozen=True)
class Result:
    """What a handler returns: the resource's physical id and the attributes ``Fn::GetAtt`` reads."""

    physical_id: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """One CloudFormation event, with the time left to handle it."""

    request_type: str
    """``Create``, ``Update`` or ``Delete``."""
    properties: dict
    """The resource's properties (``ServiceToken`` removed)."""
    old_properties: dict
    """On Update, the properties before it; else empty."""
    physical_id: str | None
    """On Update and Delete, the id the last response gave; on Create, None."""
    logical_id: str
    deadline: float
    """``time.monotonic()`` value by which the handler must have returned."""
    log_location: str
    """Where this invocation's log is, for failure reasons (log group and stream)."""
    request_id: str = ""
    """CloudFormation's id of this request: the same in every delivery of one event."""
    stack_id: str = ""
    response_url: str = ""
    """Where the answer goes (pre-signed S3 URL), for a handler that has something else answer."""

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()


@dataclass(frozen=True)
class Deferred:
    """What a handler returns when something else answers later (``note`` says what, for the log)."""

    note: str


Handler = Callable[[Request], Result | Deferred]


def failed_physical_id(logical_id: str, request_id: str, physical_id: str | None) -> str:
    """The id a FAILED answer carries: the resource's own on Update and Delete; on Create, which
    has none yet, one the Delete that follows receives and knows it has nothing to undo."""
    return physical_id or f"{logical_id}-failed-{request_id}"


def run(event: dict, context, handler: Handler) -> None:
    """Handle ``event`` with ``handler`` and always answer CloudFormation exactly once."""
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - RESPONSE_MARGIN_SECONDS
    properties = dict(event.get("ResourceProperties") or {})
    properties.pop("ServiceToken", None)
    log_location = f"log group {context.log_group_name}, stream {context.log_stream_name}"
    request = Request(
        request_type=event["RequestType"],
        properties=properties,
        old_properties=dict(event.get("OldResourceProperties") or {}),
        physical_id=event.get("PhysicalResourceId"),
        logical_id=event["LogicalResourceId"],
        deadline=deadline,
        log_location=log_location,
        request_id=event["RequestId"],
        stack_id=event["StackId"],
        response_url=event["ResponseURL"],
    )
    fallback_id = failed_physical_id(request.logical_id, request.request_id, request.physical_id)
    # The answer may use the margin but its last tenth (Lambda ends the process at its limit).
    responder = _Responder(event, deadline + RESPONSE_MARGIN_SECONDS * 0.9)
    watchdog = threading.Timer(
        max(deadline - time.monotonic(), 0.0),
        lambda: responder.send("FAILED", fallback_id, reason=f"timed out before finishing; see {log_location}"),
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        LOG.info("%s %s (%s)", request.request_type, request.logical_id, request.physical_id)
        result = handler(request)
    except ResourceFailed as error:
        LOG.error("failed: %s", error)
        responder.send("FAILED", fallback_id, reason=f"{error} (log: {log_location})")
    except Exception as error:  # noqa: BLE001 - every failure must reach CloudFormation
        LOG.exception("unexpected error")
        responder.send("FAILED", fallback_id, reason=f"{type(error).__name__}: {error} (log: {log_location})")
    else:
        if isinstance(result, Deferred):
            LOG.info("not answering now: %s", result.note)
            responder.defer()
        else:
            responder.send("SUCCESS", result.physical_id, data=result.data)
    finally:
        watchdog.cancel()


class _Responder:
    """Sends one response to the pre-signed URL; later calls do nothing (the watchdog races the handler)."""

    def __init__(self, event: dict, deadline: float) -> None:
        self._event = event
        self._deadline = deadline
        self._lock = threading.Lock()
        self._sent = False

    def defer(self) -> None:
        """Something else answers: the watchdog must not."""
        with self._lock:
            self._sent = True

    def send(self, status: str, physical_id: str, reason: str = "", data: dict | None = None) -> None:
        with self._lock:
            if self._sent:
                return
            self._sent = True
        send_response(self._event, status, physical_id, reason, data or {}, self._deadline)


def send_response(event: dict, status: str, physical_id: str, reason: str, data: dict, deadline: float) -> bool:
    """PUT the answer to ``event["ResponseURL"]`` (``event`` needs ``ResponseURL``, ``StackId``,
    ``RequestId`` and ``LogicalResourceId``), trying again after a network error, a timeout or a
    5xx from S3, never past ``deadline`` (``time.monotonic()``). A 4xx is final: the URL's
    signature or expiry refuses it, and trying again cannot change that. True when S3 took it."""
    body = response_body(event, status, physical_id, reason, data)
    pauses = iter(RESPONSE_PAUSES_SECONDS)
    tries = 0
    while True:
        # The first try is made whatever the time; another only if it can still finish in time.
        left = max(deadline - time.monotonic(), RESPONSE_MIN_TRY_SECONDS if not tries else 0.0)
        if left < RESPONSE_MIN_TRY_SECONDS:
            LOG.error("gave up sending %s after %d tries: no time left", status, tries)
            return False
        tries += 1
        request = urllib.request.Request(
            event["ResponseURL"],
            data=body,
            method="PUT",
            # The URL is pre-signed for an empty content type; any other value breaks its signature.
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=min(RESPONSE_TIMEOUT_SECONDS, left)) as response:
                LOG.info("sent %s: HTTP %s", status, response.status)
                return True
        except urllib.error.HTTPError as error:
            if error.code < 500:
                LOG.error("CloudFormation's URL refused %s: HTTP %s", status, error.code)
                return False
            LOG.warning("sending %s: HTTP %s (try %d)", status, error.code, tries)
        except OSError as error:
            LOG.warning("sending %s: %s (try %d)", status, error, tries)
        pause = next(pauses, None)
        if pause is None:
            LOG.error("gave up sending %s after %d tries", status, tries)
            return False
        time.sleep(max(0.0, min(pause, deadline - time.monotonic() - RESPONSE_MIN_TRY_SECONDS)))


def response_body(event: dict, status: str, physical_id: str, reason: str, data: dict) -> bytes:
    """The JSON response, with ``reason`` shortened so the body fits CloudFormation's limit."""
    document = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": data,
    }
    body = json.dumps(document).encode()
    if len(body) <= MAX_RESPONSE_BYTES:
        return body
    # JSON escaping makes a character's byte count vary: find the longest prefix that fits.
    reason, low, high = document["Reason"], 0, len(document["Reason"])
    while low < high:
        middle = (low + high + 1) // 2
        document["Reason"] = reason[:middle] + "..."
        if len(json.dumps(document).encode()) <= MAX_RESPONSE_BYTES:
            low = middle
        else:
            high = middle - 1
    document["Reason"] = reason[:low] + "..." if low else ""
    return json.dumps(document).encode()
