"""CloudFormation's side of the tests: the pre-signed URL a custom resource answers at, the Lambda
context its handler reads, the resource provider schemas cfn-lint ships, and stack events as
``describe_stack_events`` returns them (a recorded create, and that create failing).
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# --- custom resources ------------------------------------------------------------------------------


class ResponseServer:
    """Stands in for CloudFormation's pre-signed S3 URL: records each PUT (headers and body) it
    accepts; answers the first PUTs with the statuses in ``refusals`` instead (counted in ``refused``)."""

    def __init__(self, refusals: tuple[int, ...] = ()) -> None:
        self.responses: list[dict] = []
        self.refused: list[int] = []
        received, refused, pending = self.responses, self.refused, list(refusals)

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if pending:
                    status = pending.pop(0)
                    refused.append(status)
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body),
                                 "size": len(body)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/presigned?X-Amz-Signature=abc"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Context:
    """The two things ``run`` reads from Lambda's context object."""

    log_group_name = "/aws/lambda/test"
    log_stream_name = "2026/11/25/[$LATEST]abc"

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - time.monotonic()) * 1000)


# --- resource provider schemas ---------------------------------------------------------------------

# Found without importing cfnlint (a second of CPU in each test process that collects this module).
SCHEMAS = Path(importlib.util.find_spec("cfnlint").origin).parent / "data" / "schemas"


def schema(resource_type: str) -> dict:
    """The resource provider schema of ``resource_type`` (us-east-1's, as cfn-lint ships it)."""
    index = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    return json.loads((SCHEMAS / "resources" / f"{index[resource_type]}.json").read_text())


# --- stack events ------------------------------------------------------------------------------------

BUILD_LOG = ("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:"
             "group=/aws/codebuild/ImageBuildProject-abc")


def read_events(path: Path) -> list[dict]:
    """Stack events recorded as JSON (tests/*/fixtures/create-events.json), timestamps as datetimes."""
    return [{**e, "Timestamp": datetime.fromisoformat(e["Timestamp"])} for e in json.loads(path.read_text())]


def failed_create(events: list[dict]) -> list[dict]:
    """The fixture with the image build failing: its FAILED event, then the cancellations and the
    rollback that follow in CloudFormation."""
    at = next(i for i, e in enumerate(events) if e["LogicalResourceId"] == "ImageBuild"
              and e["ResourceStatus"] == "CREATE_COMPLETE")
    when = events[at]["Timestamp"]
    failure = {**events[at], "ResourceStatus": "CREATE_FAILED",
               "ResourceStatusReason": f"Build failed: COMMAND_EXECUTION_ERROR. Build log: log group "
               f"/aws/codebuild/ImageBuildProject-abc - {BUILD_LOG}"}
    cancelled = [{**e, "Timestamp": when + timedelta(seconds=1), "ResourceStatus": "CREATE_FAILED",
                  "ResourceStatusReason": "Resource creation cancelled", "EventId": f"c{i}"}
                 for i, e in enumerate(events[:at]) if e["ResourceStatus"] == "CREATE_IN_PROGRESS"
                 and not any(x["LogicalResourceId"] == e["LogicalResourceId"] and x["ResourceStatus"] == "CREATE_COMPLETE"
                             for x in events[:at])][:3]
    return [*events[:at], *cancelled, failure] if cancelled else [*events[:at], failure]
