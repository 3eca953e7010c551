"""The CloudFormation custom-resource protocol, written once for every function of the stack.

CloudFormation sends a Create, Update or Delete event and then waits — for up to an hour — until
something PUTs a result to the event's pre-signed ``ResponseURL`` ("Custom resources", AWS
CloudFormation User Guide; the response fields are those of its "Custom resource response
objects" page). A function that crashes or times out without answering leaves the stack waiting
that hour. So :func:`run` answers in every case: SUCCESS with the handler's data, FAILED with the
error when the handler raises, and FAILED before Lambda's own timeout when the handler is still
running then (it gets a deadline to stop at on its own, and a watchdog answers if it does not).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

# CloudFormation refuses a response body over 4096 bytes ("Custom resource response objects"):
# the reason is cut to fit, the data never is (handlers return small data).
MAX_RESPONSE_BYTES = 4096
# Time kept back from Lambda's limit to send FAILED: the PUT to S3 must fit in it.
RESPONSE_MARGIN_SECONDS = 10.0
RESPONSE_TIMEOUT_SECONDS = 8.0


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

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()


Handler = Callable[[Request], Result]


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
    )
    # A failed Create still needs a physical id; Delete then receives it and has nothing to undo.
    fallback_id = request.physical_id or f"{request.logical_id}-failed-{event['RequestId']}"
    responder = _Responder(event)
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
        responder.send("SUCCESS", result.physical_id, data=result.data)
    finally:
        watchdog.cancel()


class _Responder:
    """Sends one response to the pre-signed URL; later calls do nothing (the watchdog races the handler)."""

    def __init__(self, event: dict) -> None:
        self._event = event
        self._lock = threading.Lock()
        self._sent = False

    def send(self, status: str, physical_id: str, reason: str = "", data: dict | None = None) -> None:
        with self._lock:
            if self._sent:
                return
            self._sent = True
        body = response_body(self._event, status, physical_id, reason, data or {})
        request = urllib.request.Request(
            self._event["ResponseURL"],
            data=body,
            method="PUT",
            # The URL is pre-signed for an empty content type; any other value breaks its signature.
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as response:
                LOG.info("sent %s: HTTP %s", status, response.status)
        except OSError:
            LOG.exception("could not send %s to CloudFormation", status)


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
