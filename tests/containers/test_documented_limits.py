"""Every status the container's HTTP server answers for a request over its limits is in the OpenAPI
document for that route and method: an over-long request line (414) and over-large headers (431),
sent to each service's image command under a real gunicorn."""

from __future__ import annotations

import http.client

import pytest
from itemstore import contract

from generator import StackConfig
from generator.template.openapi import build_openapi
from generator.tooling.release import ReleaseSettings

pytestmark = pytest.mark.integration

METHODS = ("GET", "PUT")
OVER_LIMITS = {
    "request line": (lambda s: s.url("a" * contract.MAX_REQUEST_LINE_BYTES), {}, 414),
    "one large header field": (lambda s: s.url("x"), {"X-Big": "b" * (contract.MAX_HEADER_FIELD_BYTES + 1)}, 431),
    "too many header fields": (lambda s: s.url("x"),
                               {f"X-Field-{i}": "v" for i in range(contract.MAX_HEADER_FIELDS + 1)}, 431),
}


@pytest.fixture(scope="module")
def document() -> dict:
    return build_openapi(StackConfig(), ReleaseSettings())


def _send(port: int, method: str, target: str, headers: dict[str, str]) -> tuple[int, dict]:
    """One request exactly as given (http.client sends any length), the status and the JSON body."""
    import json

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", "0")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", OVER_LIMITS)
def test_a_request_over_the_servers_limits_gets_a_status_the_document_lists(
        gunicorn_servers, service, document, method, case):
    target, headers, expected = OVER_LIMITS[case]
    status, body = _send(gunicorn_servers[service.name].port, method, target(service), headers)
    assert status == expected, body
    responses = document["paths"][service.spec.path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {service.spec.path} answers {status}; the document lists {sorted(responses)}"
    [part] = [p for p in responses[str(status)]["content"]["application/json"]["schema"]["allOf"] if "properties" in p]
    assert body["error"]["code"] in part["properties"]["error"]["properties"]["code"]["enum"]
