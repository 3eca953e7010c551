"""DynamoDB failures that dynalite cannot produce (throttling, server errors, bad answers), from a
tiny DynamoDB-shaped HTTP server on 127.0.0.1: real sockets, the app's own transport, no patching.

The unreachable cases (closed port, a server that never answers) run under gunicorn in
test_gunicorn_server.py.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from itemstore import create_app
from itemstore.transport import DynamoDBClient, DynamoDBError, DynamoDBUnreachable

pytestmark = pytest.mark.integration  # a fake DynamoDB on a loopback port (http.server)

ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"


def error(status: int, code: str, message: str = "") -> tuple[int, dict, bytes]:
    """An error answer as DynamoDB sends it (JSON 1.0 protocol)."""
    body = {"__type": ERROR_TYPE + code}
    if message:
        body["message"] = message
    return status, {}, json.dumps(body).encode()


def ok(document: dict, crc: int | None = None) -> tuple[int, dict, bytes]:
    body = json.dumps(document).encode()
    return 200, {"x-amz-crc32": str(zlib.crc32(body) if crc is None else crc)}, body


class FakeDynamoDB:
    """Answers each POST with the next scripted answer (the last one repeats) and records the
    requests: (X-Amz-Target, headers, JSON body)."""

    def __init__(self, *answers: tuple[int, dict, bytes]) -> None:
        fake = self
        self.answers = list(answers)
        self.requests: list[tuple[str, dict, dict]] = []
        self.peers: list[int] = []  # the client's port of each request
        self.drop_after_answer = False  # close the connection silently, as an idle timeout does
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as DynamoDB

            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with fake.lock:
                    fake.requests.append((self.headers["X-Amz-Target"], dict(self.headers), json.loads(body)))
                    fake.peers.append(self.client_address[1])
                    status, headers, data = fake.answers.pop(0) if len(fake.answers) > 1 else fake.answers[0]
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = fake.drop_after_answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_dynamodb():
    """A factory: fake_dynamodb(*answers) starts a FakeDynamoDB."""
    servers: list[FakeDynamoDB] = []

    def start(*answers) -> FakeDynamoDB:
        servers.append(FakeDynamoDB(*answers))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def app_against(service):
    """app_against(fake, attempts) is the service's Flask test client with DynamoDB at `fake`."""

    def make(fake: FakeDynamoDB, attempts: int = 1):
        app = create_app({"TABLE_NAME": service.table_name, "TABLE_KEY": service.table_key,
                          "ITEM_PATH_PREFIX": service.prefix, "AWS_REGION": "us-east-1",
                          "DYNAMODB_ENDPOINT_URL": fake.url, "DYNAMODB_MAX_ATTEMPTS": str(attempts),
                          "RETRY_AFTER_SECONDS": "7"})
        return app.test_client()

    return make


def _request(client, service, method: str):
    return client.open(service.url("t"), method=method, json={"a": 1} if method == "PUT" else None)


def _is_503(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "7"
    assert response.get_json()["error"]["code"] == "dynamodb_unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "RequestLimitExceeded", "ResourceNotFoundException"])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_throttling_and_missing_table_are_503_with_retry_after(fake_dynamodb, app_against, service, code, method):
    fake = fake_dynamodb(error(400, code, "slow down"))
    _is_503(_request(app_against(fake), service, method))
    assert len(fake.requests) == 1  # one attempt configured


@pytest.mark.parametrize("answer", [error(500, "InternalServerError"), error(503, "ServiceUnavailable"),
                                    (502, {}, b"<html>bad gateway</html>"), ok({"Item": {}}, crc=12345)],
                         ids=["500", "503", "502 not JSON", "bad crc32"])
def test_transient_failures_are_retried_up_to_max_attempts_then_503(fake_dynamodb, app_against, service, answer):
    fake = fake_dynamodb(answer)
    _is_503(_request(app_against(fake, attempts=3), service, "GET"))
    assert len(fake.requests) == 3


def test_throttling_is_retried_and_a_later_success_is_served(fake_dynamodb, app_against, service):
    item = {service.table_key: {"S": "t"}, "n": {"N": "1.5"}}
    fake = fake_dynamodb(error(400, "ProvisionedThroughputExceededException"), ok({"Item": item}))
    response = app_against(fake, attempts=2).get(service.url("t"))
    assert response.status_code == 200
    assert response.get_data() == b'{"%s":"t","n":1.5}' % service.table_key.encode()
    assert len(fake.requests) == 2


@pytest.mark.parametrize(("code", "status"), [("ValidationException", 400), ("AccessDeniedException", 400),
                                              ("ConditionalCheckFailedException", 400)])
def test_client_errors_are_not_retried(fake_dynamodb, app_against, service, code, status):
    fake = fake_dynamodb(error(status, code, "no"))
    _request(app_against(fake, attempts=3), service, "PUT")
    assert len(fake.requests) == 1


def test_a_validation_error_from_dynamodb_is_400(fake_dynamodb, app_against, service):
    fake = fake_dynamodb(error(400, "ValidationException", "One or more parameter values were invalid"))
    response = app_against(fake).put(service.url("v"), json={"a": 1})
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "invalid_item", "message": "DynamoDB rejected the item: One or more parameter values were invalid"}


def test_an_item_size_error_from_dynamodb_is_413(fake_dynamodb, app_against, service):
    fake = fake_dynamodb(error(400, "ValidationException", "Item size has exceeded the maximum allowed size"))
    response = app_against(fake).put(service.url("v"), json={"a": 1})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "item_too_large"


def test_an_unexpected_dynamodb_error_is_a_503_not_a_traceback(fake_dynamodb, app_against, service):
    _is_503(app_against(fake_dynamodb(error(400, "AccessDeniedException"))).get(service.url("denied")))


def test_the_requests_are_dynamodb_json_and_signed(fake_dynamodb, app_against, service):
    fake = fake_dynamodb(ok({}))
    client = app_against(fake)
    client.get(service.url("g"))
    client.put(service.url("p"), json={"a": 1})
    (get_target, get_headers, get_body), (put_target, put_headers, put_body) = fake.requests
    assert (get_target, put_target) == ("DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem")
    assert get_body == {"TableName": service.table_name, "Key": {service.table_key: {"S": "g"}}}
    assert put_body == {"TableName": service.table_name, "Item": {"a": {"N": "1"}, service.table_key: {"S": "p"}}}
    for headers in (get_headers, put_headers):
        assert headers["Content-Type"] == "application/x-amz-json-1.0"
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=test/")
        assert "/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, " \
               "Signature=" in headers["Authorization"]


def test_a_bug_in_the_app_is_a_json_500_without_a_traceback(fake_dynamodb, app_against, service, monkeypatch):
    fake = fake_dynamodb(ok({"Item": {"x": {"S": "y"}}}))

    def broken(item):
        raise RuntimeError("a bug with a secret in its message")

    monkeypatch.setattr("itemstore.codec.item_to_json", broken)
    response = app_against(fake).get(service.url("odd"))
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "message": "The server failed to handle the request."}}


# --- the transport on its own ------------------------------------------------------------------

class RotatingCredentials:
    """A provider whose frozen credentials change on every call, as task-role credentials rotate."""

    def __init__(self) -> None:
        self.calls = 0

    def get_frozen_credentials(self):
        self.calls += 1
        return SimpleNamespace(access_key=f"AKID{self.calls}", secret_key=f"secret{self.calls}",
                               token=f"token{self.calls}")


def _client(fake: FakeDynamoDB, credentials, attempts: int = 1, sleeps: list | None = None) -> DynamoDBClient:
    return DynamoDBClient(fake.url, "us-east-1", credentials, connect_timeout=1, read_timeout=2,
                          max_attempts=attempts, sleep=(sleeps.append if sleeps is not None else time.sleep),
                          rand=lambda: 1.0)


def test_credentials_are_read_per_request_with_the_session_token(fake_dynamodb):
    fake = fake_dynamodb(ok({}))
    client = _client(fake, RotatingCredentials())
    client.call("GetItem", b"{}")
    client.call("GetItem", b"{}")
    keys = [headers["Authorization"].split("Credential=")[1].split("/")[0] for _, headers, _ in fake.requests]
    tokens = [headers["X-Amz-Security-Token"] for _, headers, _ in fake.requests]
    assert (keys, tokens) == (["AKID1", "AKID2"], ["token1", "token2"])
    assert "x-amz-security-token" in fake.requests[0][1]["Authorization"]


def test_backoff_is_exponential_and_bounded(fake_dynamodb):
    sleeps: list[float] = []
    fake = fake_dynamodb(error(400, "ThrottlingException"))
    with pytest.raises(DynamoDBError) as raised:
        _client(fake, RotatingCredentials(), attempts=4, sleeps=sleeps).call("PutItem", b"{}")
    assert (raised.value.code, raised.value.status) == ("ThrottlingException", 400)
    assert sleeps == [1.0, 2.0, 4.0]  # rand() = 1: the upper bounds, 2^(n-1) s
    sleeps.clear()
    fake = fake_dynamodb(error(500, "InternalServerError"))
    with pytest.raises(DynamoDBError):
        _client(fake, RotatingCredentials(), attempts=3, sleeps=sleeps).call("PutItem", b"{}")
    assert sleeps == [0.025, 0.05]  # botocore's 25 ms scale for DynamoDB's transient errors


def test_a_429_without_a_modelled_code_is_retried_as_throttling(fake_dynamodb):
    sleeps: list[float] = []
    fake = fake_dynamodb((429, {}, b""), ok({"Item": {"k": {"S": "v"}}}))
    assert _client(fake, RotatingCredentials(), attempts=3, sleeps=sleeps).call("GetItem", b"{}") == {
        "Item": {"k": {"S": "v"}}}
    assert len(fake.requests) == 2 and sleeps == [1.0]  # throttling: botocore's 1 s scale


def test_a_429_with_a_modelled_code_is_decided_by_the_model(fake_dynamodb):
    fake = fake_dynamodb(error(429, "ConditionalCheckFailedException", "no"))
    with pytest.raises(DynamoDBError) as raised:
        _client(fake, RotatingCredentials(), attempts=3, sleeps=[]).call("PutItem", b"{}")
    assert raised.value.code == "ConditionalCheckFailedException" and len(fake.requests) == 1


def test_a_replicated_write_conflict_is_retried_on_putitem_only(fake_dynamodb):
    sleeps: list[float] = []
    fake = fake_dynamodb(error(409, "ReplicatedWriteConflictException"), ok({}))
    assert _client(fake, RotatingCredentials(), attempts=2, sleeps=sleeps).call("PutItem", b"{}") == {}
    assert len(fake.requests) == 2 and sleeps == [0.025]  # modelled retryable, not throttling
    # GetItem does not model it: not retried, as botocore does not.
    fake = fake_dynamodb(error(409, "ReplicatedWriteConflictException"))
    with pytest.raises(DynamoDBError):
        _client(fake, RotatingCredentials(), attempts=2, sleeps=[]).call("GetItem", b"{}")
    assert len(fake.requests) == 1


def test_x_amz_retry_after_raises_the_backoff_up_to_the_worst_case_bound(fake_dynamodb):
    sleeps: list[float] = []
    fake = fake_dynamodb((503, {"x-amz-retry-after": "700"}, b""), (503, {"x-amz-retry-after": "60000"}, b""),
                         ok({}))
    assert _client(fake, RotatingCredentials(), attempts=3, sleeps=sleeps).call("GetItem", b"{}") == {}
    # botocore: max(t, min(after, t + 5)), t = 25 ms x 2^(n-1): 0.7 s, then 5.05 s; the second is
    # held to the 2 s the worst case counts before a third attempt.
    assert sleeps == [0.7, 2.0]


def test_a_429_through_the_app_is_a_503_with_retry_after_once_every_attempt_is_spent(fake_dynamodb, app_against, service):
    fake = fake_dynamodb((429, {"x-amz-retry-after": "1"}, b""))
    _is_503(_request(app_against(fake, attempts=2), service, "PUT"))
    assert len(fake.requests) == 2


class FailingCredentials:
    """A provider whose refresh fails, as botocore's does when the ECS endpoint is down."""

    def get_frozen_credentials(self):
        from botocore.exceptions import CredentialRetrievalError

        raise CredentialRetrievalError(provider="container-role", error_msg="connection refused")


def test_missing_credentials_fail_at_once_without_a_request_or_a_retry(fake_dynamodb):
    sleeps: list[float] = []
    fake = fake_dynamodb(ok({}))
    with pytest.raises(DynamoDBUnreachable, match="CredentialRetrievalError"):
        _client(fake, FailingCredentials(), attempts=3, sleeps=sleeps).call("GetItem", b"{}")
    assert fake.requests == [] and sleeps == []


def test_the_retry_quota_stops_retries_when_spent(fake_dynamodb):
    fake = fake_dynamodb(error(500, "InternalServerError"))
    client = _client(fake, RotatingCredentials(), attempts=3, sleeps=[])
    client.quota.available = 14  # one more retry's worth
    with pytest.raises(DynamoDBError):
        client.call("GetItem", b"{}")
    assert len(fake.requests) == 2 and client.quota.available == 0
    with pytest.raises(DynamoDBError):
        client.call("GetItem", b"{}")
    assert len(fake.requests) == 3  # no retry left


def test_keep_alive_connections_are_reused_and_a_closed_one_is_replaced(fake_dynamodb):
    fake = fake_dynamodb(ok({"n": 1}))
    client = _client(fake, RotatingCredentials())
    assert [client.call("GetItem", b"{}") for _ in range(3)] == [{"n": 1}] * 3
    assert len(set(fake.peers)) == 1  # one connection, kept alive
    # The server closes the idle connection (no Connection: close header): the next call, even
    # with a single attempt, sees it closed before sending and opens a new one.
    fake.drop_after_answer = True
    client.call("GetItem", b"{}")
    fake.drop_after_answer = False

    time.sleep(0.05)  # the server's FIN reaches the idle connection
    assert client.call("GetItem", b"{}") == {"n": 1}
    assert len(fake.requests) == 5 and fake.peers[4] != fake.peers[3]


def test_an_answer_that_is_not_http_is_unreachable(fake_dynamodb):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def garbage() -> None:
        peer, _ = listener.accept()
        peer.recv(65536)
        peer.sendall(b"SSH-2.0-OpenSSH\r\n")
        peer.close()

    threading.Thread(target=garbage, daemon=True).start()
    fake = SimpleNamespace(url=f"http://127.0.0.1:{listener.getsockname()[1]}")
    with pytest.raises(DynamoDBUnreachable, match="BadResponse"):
        _client(fake, RotatingCredentials()).call("GetItem", b"{}")
    listener.close()
