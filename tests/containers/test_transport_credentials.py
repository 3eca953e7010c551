"""ECS task-role credentials, as the containers get them on Fargate: from the container credential
endpoint named by AWS_CONTAINER_CREDENTIALS_FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN, each
set of keys expiring and replaced before it does.

Here the endpoint is a local HTTP server handing out numbered credentials with an expiry the test
chooses; the image's command runs under gunicorn with no other credentials; DynamoDB is dynalite
behind a recording TCP proxy, so the test sees the access key id and session token of every
request DynamoDB received. (dynalite does not check signatures; test_sigv4.py proves they are
botocore's.)

botocore's refresh rules (botocore.credentials): 15 minutes before expiry a refresh is attempted
and a failure keeps the current keys; 10 minutes before, the refresh must succeed or the call
fails. Its container fetcher tries 3 times, with a 2 s timeout and 1 s of sleep after each failure.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.credentials
import botocore.utils
import pytest

from tests.support.containers import SERVICES

pytestmark = pytest.mark.integration

ADVISORY = botocore.credentials._DEFAULT_ADVISORY_REFRESH_TIMEOUT  # 15 min
MANDATORY = botocore.credentials._DEFAULT_MANDATORY_REFRESH_TIMEOUT  # 10 min
FETCHER = botocore.utils.ContainerMetadataFetcher  # 3 attempts, 2 s timeout each, 1 s sleep after each
TOKEN = "test-authorization-token"
SERVICE = SERVICES[0]


def key_of(generation: int) -> str:
    return f"ASIAGEN{generation:013d}"


class CredentialEndpoint:
    """The ECS container credential endpoint: each GET with the right Authorization header hands
    out the next generation of credentials, expiring ``lifetime(generation)`` seconds later.
    ``hang()`` makes it accept requests and never answer them (``serve()`` ends that: the
    requests that came in meanwhile are closed unanswered)."""

    def __init__(self, lifetime, port: int = 0) -> None:
        endpoint = self
        self.lifetime = lifetime
        self.generations = 0
        self.authorizations: list[str | None] = []
        self.unanswered = 0  # requests that came in while hanging
        self.expiries: dict[int, float] = {}
        self.answering = threading.Event()
        self.answering.set()
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                endpoint.authorizations.append(self.headers.get("Authorization"))
                if not endpoint.answering.is_set():
                    with endpoint.lock:
                        endpoint.unanswered += 1
                    endpoint.answering.wait()
                    return  # a request that arrived while hanging is never answered
                if self.headers.get("Authorization") != TOKEN:
                    self.send_error(401)
                    return
                with endpoint.lock:
                    endpoint.generations += 1
                    generation = endpoint.generations
                    expiry = int(time.time()) + endpoint.lifetime(generation)
                    endpoint.expiries[generation] = expiry
                body = json.dumps({
                    "AccessKeyId": key_of(generation), "SecretAccessKey": f"secret-{generation}",
                    "Token": f"token-{generation}", "RoleArn": "arn:aws:iam::123456789012:role/test",
                    "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry)),
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v2/credentials/test"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def hang(self) -> None:
        self.answering.clear()

    def serve(self) -> None:
        self.answering.set()

    def close(self) -> None:
        self.answering.set()
        self.server.shutdown()
        self.server.server_close()


class RecordingProxy:
    """A TCP proxy on 127.0.0.1 in front of ``upstream_port`` that keeps every byte the client
    sent, so a test can read the requests' signing headers."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.sent = bytearray()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self.sockets += (client, upstream)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, record: bool) -> None:
        try:
            while data := source.recv(65536):
                if record:
                    with self.lock:
                        self.sent += data
                target.sendall(data)
        except OSError:
            pass
        finally:
            try:
                target.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def signed_with(self) -> list[tuple[str, str]]:
        """(access key id, session token) of each request received, in order."""
        with self.lock:
            text = self.sent.decode("latin-1")
        keys = re.findall(r"Credential=([A-Z0-9]+)/", text)
        tokens = re.findall(r"X-Amz-Security-Token: (\S+)\r\n", text)
        assert len(keys) == len(tokens), text[-2000:]
        return list(zip(keys, tokens, strict=True))

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def credential_endpoint():
    """A factory: credential_endpoint(lifetime, port=0) starts a CredentialEndpoint."""
    endpoints: list[CredentialEndpoint] = []

    def start(lifetime, port: int = 0) -> CredentialEndpoint:
        endpoints.append(CredentialEndpoint(lifetime, port))
        return endpoints[-1]

    yield start
    for endpoint in endpoints:
        endpoint.close()


@pytest.fixture
def recording_proxy(dynalite):
    proxy = RecordingProxy(dynalite.port)
    yield proxy
    proxy.close()


def _start_with_task_role(start_gunicorn, proxy: RecordingProxy, credentials_url: str):
    """The image's command with only task-role credentials (the environment's keys emptied)."""
    return start_gunicorn(SERVICE, DYNAMODB_ENDPOINT_URL=proxy.url, AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="",
                          AWS_CONTAINER_CREDENTIALS_FULL_URI=credentials_url,
                          AWS_CONTAINER_AUTHORIZATION_TOKEN=TOKEN, DYNAMODB_MAX_ATTEMPTS="1",
                          RETRY_AFTER_SECONDS="5")


def _wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def _is_503(status: int, headers, body: bytes) -> None:
    assert status == 503, body
    assert headers["Retry-After"] == "5"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "dynamodb_unavailable"


def test_rotated_task_role_credentials_are_used_without_a_restart(start_gunicorn, recording_proxy,
                                                                  credential_endpoint):
    # The first keys are due for refresh 15 s after they are handed out (time enough to start and
    # serve two requests on a loaded machine); the next ones last an hour.
    endpoint = credential_endpoint(lambda generation: ADVISORY + 15 if generation == 1 else 3600)
    server = _start_with_task_role(start_gunicorn, recording_proxy, endpoint.url)
    assert server.request("PUT", SERVICE.url("rotating"), {"n": 1})[0] == 200
    assert server.request("GET", SERVICE.url("rotating"))[0] == 200
    assert recording_proxy.signed_with() == [(key_of(1), "token-1")] * 2

    _wait_until(endpoint.expiries[1] - ADVISORY + 1)  # now inside the refresh window of the first keys
    assert server.request("GET", SERVICE.url("rotating"))[0] == 200
    assert server.request("PUT", SERVICE.url("rotating"), {"n": 2})[0] == 200
    assert recording_proxy.signed_with()[2:] == [(key_of(2), "token-2")] * 2
    assert endpoint.generations == 2  # fetched at start and once when due, not per request
    assert set(endpoint.authorizations) == {TOKEN}  # AWS_CONTAINER_AUTHORIZATION_TOKEN, as sent
    assert server.process.poll() is None  # the same server, never restarted


def test_a_credential_endpoint_that_stops_answering_is_a_bounded_503_then_recovers(start_gunicorn, recording_proxy,
                                                                                   credential_endpoint):
    # Every set of keys reaches botocore's must-refresh window 4 s after it is handed out.
    endpoint = credential_endpoint(lambda generation: MANDATORY + 4)
    server = _start_with_task_role(start_gunicorn, recording_proxy, endpoint.url)
    assert server.request("PUT", SERVICE.url("outage"), {"n": 1})[0] == 200
    endpoint.hang()  # accepts connections, never answers
    _wait_until(max(endpoint.expiries.values()) - MANDATORY + 1)

    # The endpoint never answers, yet the request gets its 503: the wait is bounded by botocore's
    # fetcher (RETRY_ATTEMPTS requests, each given up after TIMEOUT_SECONDS), not by the endpoint.
    _is_503(*server.request("GET", SERVICE.url("outage"), timeout=60))
    assert not endpoint.answering.is_set()
    assert endpoint.unanswered == FETCHER.RETRY_ATTEMPTS
    assert "AWS credentials unavailable" in server.log()
    signed_before = len(recording_proxy.signed_with())

    endpoint.serve()
    status, _, body = server.request("GET", SERVICE.url("outage"))
    assert (status, json.loads(body)) == (200, {SERVICE.table_key: "outage", "n": 1})
    assert recording_proxy.signed_with()[signed_before:] == [(key_of(endpoint.generations),
                                                              f"token-{endpoint.generations}")]


def test_an_unreachable_credential_endpoint_at_start_is_a_503_until_it_answers(start_gunicorn, recording_proxy,
                                                                               credential_endpoint, closed_port):
    url = f"http://127.0.0.1:{closed_port}/v2/credentials/test"
    server = _start_with_task_role(start_gunicorn, recording_proxy, url)  # starts: /health needs no credentials
    assert "AWS credentials not available yet" in server.log()
    _is_503(*server.request("GET", SERVICE.url("late"), timeout=60))
    assert recording_proxy.signed_with() == []  # nothing unsigned or half-signed reached DynamoDB

    endpoint = credential_endpoint(lambda generation: 3600, port=closed_port)  # the endpoint comes up
    assert server.request("PUT", SERVICE.url("late"), {"n": 1})[0] == 200
    assert recording_proxy.signed_with() == [(key_of(1), "token-1")]
    assert endpoint.generations == 1 and endpoint.authorizations == [TOKEN]
