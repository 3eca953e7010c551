"""DynamoDB failures that dynalite cannot produce (throttling, server errors), stubbed in-process.

The unreachable cases run against real sockets in test_gunicorn_server.py.
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from itemstore import create_app


@pytest.fixture
def stubbed(service, closed_port):
    # The endpoint is a closed loopback port: a request the stub does not answer fails locally.
    app = create_app({"TABLE_NAME": service.table_name, "TABLE_KEY": service.table_key,
                      "ITEM_PATH_PREFIX": service.prefix, "AWS_REGION": "us-east-1",
                      "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
                      "DYNAMODB_MAX_ATTEMPTS": "1", "RETRY_AFTER_SECONDS": "7"})
    with Stubber(app.extensions["itemstore"].client) as stubber:
        yield app.test_client(), stubber


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "RequestLimitExceeded", "InternalServerError", "ResourceNotFoundException"])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_throttling_and_server_errors_are_503_with_retry_after(stubbed, service, code, method):
    client, stubber = stubbed
    stubber.add_client_error("get_item" if method == "GET" else "put_item", service_error_code=code, http_status_code=400)
    response = client.open(service.url("t"), method=method, json={"a": 1} if method == "PUT" else None)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.get_json()["error"]["code"] == "dynamodb_unavailable"
    stubber.assert_no_pending_responses()


def test_a_validation_error_from_dynamodb_is_400(stubbed, service):
    client, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="ValidationException",
                             service_message="One or more parameter values were invalid", http_status_code=400)
    response = client.put(service.url("v"), json={"a": 1})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_item"


def test_an_unexpected_dynamodb_error_is_a_503_not_a_traceback(stubbed, service):
    client, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code="AccessDeniedException", http_status_code=400)
    response = client.get(service.url("denied"))
    assert response.status_code == 503
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_bug_in_the_app_is_a_json_500_without_a_traceback(stubbed, service, monkeypatch):
    client, stubber = stubbed
    stubber.add_response("get_item", {"Item": {"x": {"S": "y"}}})

    def broken(item):
        raise RuntimeError("a bug with a secret in its message")

    monkeypatch.setattr("itemstore.codec.item_to_json", broken)
    response = client.get(service.url("odd"))
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "message": "The server failed to handle the request."}}
