"""Fixtures for the container tests: dynalite and gunicorn on free loopback ports, the services'
Dockerfiles parsed, Flask apps wired to the local tables.

Nothing here talks to AWS: every client gets an endpoint on 127.0.0.1 and dummy credentials.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.containers import SERVICES, Dockerfile, Gunicorn, Service
from tests.support.processes import REGION, Dynalite, free_port, http_request, stop_all


@pytest.fixture(scope="session", autouse=True)
def _aws_test_environment(aws_test_environment):
    """Every container test runs with the dummy credentials (tests.support.plugin)."""


@pytest.fixture(scope="session")
def services() -> tuple[Service, ...]:
    return SERVICES


@pytest.fixture(params=SERVICES, ids=[s.name for s in SERVICES])
def service(request) -> Service:
    return request.param


@pytest.fixture(scope="session")
def dockerfiles() -> dict[str, Dockerfile]:
    return {s.name: Dockerfile.parse(s.dockerfile) for s in SERVICES}


# --- session fixtures ---------------------------------------------------------------------------

def _dynalite_with_tables(root: Path) -> Dynalite:
    """A started dynalite storing under ``root``, with one table per service."""
    server = Dynalite(root / "data", root / "dynalite.log").start()
    for service in SERVICES:
        server.create_table(service.table_name, service.spec)
    return server


@pytest.fixture(scope="session")
def dynalite(tmp_path_factory) -> Dynalite:
    """dynalite with one table per service, key schema as the generator creates it."""
    server = _dynalite_with_tables(tmp_path_factory.mktemp("dynalite"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def start_gunicorn(tmp_path_factory, dockerfiles):
    """A factory: start_gunicorn(service, **env) runs the service's image command under gunicorn."""
    started: list[Gunicorn] = []

    def start(service: Service, **env: str) -> Gunicorn:
        root = tmp_path_factory.mktemp(f"gunicorn-{service.image}")
        (root / "home").mkdir()
        server = Gunicorn(service, dockerfiles[service.name], root / "gunicorn.log", env, root / "home")
        started.append(server)
        return server.start()

    yield start
    stop_all(started)  # at once: one after another, the session's servers took seconds at its end


@pytest.fixture(scope="session")
def gunicorn_servers(dynalite, start_gunicorn) -> dict[str, Gunicorn]:
    """One gunicorn per service against the session's dynalite, shared by the HTTP tests."""
    return {s.name: start_gunicorn(s, DYNAMODB_ENDPOINT_URL=dynalite.url) for s in SERVICES}


@pytest.fixture
def app_factory(dynalite):
    """create_app for a service against the session's dynalite; extra settings override."""
    from itemstore import create_app

    def make(service: Service, **overrides):
        config = {
            "TABLE_NAME": service.table_name,
            "TABLE_KEY": service.table_key,
            "ITEM_PATH_PREFIX": service.prefix,
            "AWS_REGION": REGION,
            "DYNAMODB_ENDPOINT_URL": dynalite.url,
            **overrides,
        }
        app = create_app(config)
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def client(app_factory, service):
    """A Flask test client of the service's app."""
    return app_factory(service).test_client()


# --- a slow DynamoDB, for tests of in-flight requests -------------------------------------------

class SlowProxy:
    """An HTTP proxy on loopback that holds each request `delay` seconds before passing it on.

    `arrived` is set when a request reaches it, so a test knows the app is waiting on DynamoDB.
    """

    def __init__(self, upstream_port: int, delay: float) -> None:
        proxy = self
        self.arrived = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.arrived.set()
                time.sleep(delay)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                status, response_headers, data = http_request(upstream_port, "POST", self.path, body, headers)
                self.send_response(status)
                for name in ("Content-Type", "x-amzn-RequestId", "x-amz-crc32"):
                    if response_headers.get(name):
                        self.send_header(name, response_headers[name])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_dynamodb(dynalite):
    """A factory: slow_dynamodb(delay) is a SlowProxy in front of the session's dynalite."""
    proxies = []

    def make(delay: float) -> SlowProxy:
        proxies.append(SlowProxy(dynalite.port, delay))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    return free_port()


@pytest.fixture
def own_dynalite(tmp_path_factory):
    """A dynalite of the test's own (with the services' tables), for tests that restart it."""
    server = _dynalite_with_tables(tmp_path_factory.mktemp("own-dynalite"))
    yield server
    server.stop()


@pytest.fixture
def blackhole():
    """A loopback port that accepts TCP connections (into the backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock.getsockname()[1]
    sock.close()
