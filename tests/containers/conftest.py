"""Fixtures for the container tests: dynalite and gunicorn on free loopback ports, the services'
Dockerfiles parsed, Flask apps wired to the local tables.

Nothing here talks to AWS: every client gets an endpoint on 127.0.0.1 and dummy credentials.
"""

from __future__ import annotations

import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from generator.model.config import DEFAULT_SERVICES, ServiceSpec
from generator.template.storage import key_schema
from generator.tooling.assets import SERVICE_DOCKERFILES

REPO = Path(__file__).resolve().parents[2]
CONTAINERS = REPO / "containers"
DYNALITE = REPO / "node_modules" / ".bin" / "dynalite"
# The venv's gunicorn stands in for the image's `gunicorn` (both from containers/requirements.txt).
GUNICORN = Path(sys.executable).parent / "gunicorn"
REGION = "us-east-1"

if str(CONTAINERS) not in sys.path:  # the image puts containers/ on PYTHONPATH the same way (/app)
    sys.path.insert(0, str(CONTAINERS))

from itemstore.contract import HEALTH_PATH  # noqa: E402 (needs containers/ on sys.path)

# Dummy credentials and no shared config: boto3 must never find real credentials or a profile.
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
AWS_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL",
               "AWS_ENDPOINT_URL_DYNAMODB", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
               "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")


# --- the services, as the generator defines them -------------------------------------------------

@dataclass(frozen=True)
class Service:
    spec: ServiceSpec  # the generator's service: name, path, table key
    image: str         # directory under containers/: food

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def table_key(self) -> str:
        return self.spec.key_attribute

    @property
    def prefix(self) -> str:
        return self.spec.path_prefix

    @property
    def table_name(self) -> str:
        return f"test-{self.name}"

    @property
    def dockerfile(self) -> Path:
        return CONTAINERS / self.image / "Dockerfile"

    def url(self, item_id: str) -> str:
        return f"{self.prefix}/{item_id}"


# The folder of each service's Dockerfile, from the one place that maps services to Dockerfiles.
IMAGE_OF = {name: Path(dockerfile).parent.name for name, dockerfile in SERVICE_DOCKERFILES.items()}


SERVICES = tuple(Service(spec, IMAGE_OF[spec.name]) for spec in DEFAULT_SERVICES)


@pytest.fixture(scope="session")
def services() -> tuple[Service, ...]:
    return SERVICES


@pytest.fixture(params=SERVICES, ids=[s.name for s in SERVICES])
def service(request) -> Service:
    return request.param


# --- Dockerfiles -----------------------------------------------------------------------------------

@dataclass
class Dockerfile:
    """The instructions of a Dockerfile that the tests check (one stage, JSON-form commands)."""

    path: Path
    instructions: list[tuple[str, str]]

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        instructions, pending = [], ""
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not pending and (not line or line.startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line, pending = pending + line, ""
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
        return cls(path, instructions)

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def one(self, keyword: str) -> str:
        found = self.all(keyword)
        assert len(found) == 1, f"{self.path}: expected one {keyword}, found {found}"
        return found[0]

    @property
    def cmd(self) -> list[str]:
        return json.loads(self.one("CMD"))

    @property
    def env(self) -> dict[str, str]:
        env = {}
        for rest in self.all("ENV"):
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
        return env

    @property
    def healthcheck(self) -> list[str]:
        _, _, command = self.one("HEALTHCHECK").partition("CMD ")
        return ["CMD", *json.loads(command)]


@pytest.fixture(scope="session")
def dockerfiles() -> dict[str, Dockerfile]:
    return {s.name: Dockerfile.parse(s.dockerfile) for s in SERVICES}


def gunicorn_argv(dockerfile: Dockerfile) -> list[str]:
    """The image's CMD, with the venv's gunicorn in place of the image's."""
    cmd = dockerfile.cmd
    assert cmd[0] == "gunicorn", cmd
    return [str(GUNICORN), *cmd[1:]]


# --- processes on loopback ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 headers: dict | None = None, timeout: float = 10.0):
    """(status, headers, body bytes) of one request to 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


STARTED: list[LocalProcess] = []  # every process started this session, in order


class LocalProcess:
    """A server process with its output in a log file, shown when a test using it fails."""

    name = "process"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def _spawn(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        STARTED.append(self)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                        cwd=cwd, start_new_session=True)
        log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _wait_ready(self, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout} s:\n{self.log()}")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class Dynalite(LocalProcess):
    """dynalite on a free loopback port, storing its tables under `data`."""

    name = "dynalite"

    def __init__(self, data: Path, log_path: Path) -> None:
        super().__init__(log_path)
        self.data = data
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Dynalite:
        if not DYNALITE.exists():
            pytest.fail(f"{DYNALITE} is missing: run `make node_modules/.installed`")
        self._spawn([str(DYNALITE), "--port", str(self.port), "--host", "127.0.0.1",
                     "--path", str(self.data)], env=dict(os.environ))
        self._wait_ready(self._answers, timeout=15)
        return self

    def _answers(self) -> bool:
        try:
            self.client().list_tables()
            return True
        except Exception:
            return False

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.session.Session(**_boto_credentials()).client(
            "dynamodb", endpoint_url=self.url,
            config=Config(connect_timeout=1, read_timeout=5, retries={"total_max_attempts": 1}))

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_table(self, name: str, spec: ServiceSpec) -> None:
        """The table of ``spec`` with the key schema the generated template gives it."""
        client = self.client()
        if name in client.list_tables()["TableNames"]:
            return
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **key_schema(spec))
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})


def _boto_credentials() -> dict:
    return {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": REGION}


class Gunicorn(LocalProcess):
    """One service's image command, run by the venv's gunicorn on a free loopback port."""

    def __init__(self, service: Service, dockerfile: Dockerfile, log_path: Path, env: dict[str, str],
                 home: Path) -> None:
        super().__init__(log_path)
        self.name = f"gunicorn {service.name}"
        self.service = service
        self.port = free_port()
        self.argv = gunicorn_argv(dockerfile)
        # The image's environment, then the task definition's, then the test's.
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in AWS_CLEARED},
            **dockerfile.env,
            "PYTHONPATH": str(CONTAINERS),
            "HOME": str(home),
            **AWS_TEST_ENV,
            "TABLE_NAME": service.table_name,
            "PORT": str(self.port),
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "4",
            # stop() sends SIGTERM; the drain tests set their own DRAIN_SECONDS.
            "DRAIN_SECONDS": "0",
            **env,
        }
        # The config module binds 0.0.0.0:$PORT, right in a container; here gunicorn's own
        # GUNICORN_CMD_ARGS keeps it on loopback while argv stays exactly the image's CMD.
        self.env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self._spawn(self.argv, env=self.env, cwd=self.log_path.parent)
        self._wait_ready(self._healthy, timeout=20)
        return self

    def _healthy(self) -> bool:
        try:
            return http_request(self.port, "GET", HEALTH_PATH, timeout=1)[0] == 200
        except OSError:
            return False

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 10.0):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        return http_request(self.port, method, path, body, headers, timeout)


# --- session fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def aws_test_environment():
    """Dummy credentials for every boto3 client the tests create; restored afterwards."""
    saved = {name: os.environ.get(name) for name in (*AWS_TEST_ENV, *AWS_CLEARED)}
    for name in AWS_CLEARED:
        os.environ.pop(name, None)
    os.environ.update(AWS_TEST_ENV)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


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
    for server in started:
        server.stop()


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


# --- server logs in failure reports ---------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    item.stash[FIRST_STARTED] = len(STARTED)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        attach_logs(report, processes_of(item, STARTED))
    return report


FIRST_STARTED = pytest.StashKey[int]()
"""How many servers the started list held when the test began (set by pytest_runtest_protocol)."""


def processes_of(item, started: list[LocalProcess]) -> list[LocalProcess]:
    """The servers the test used: those added to ``started`` while it ran, and its fixtures' (a
    fixture value that is a dict, or that lists its servers in ``local_processes()``, counts too)."""
    found = list(started[item.stash.get(FIRST_STARTED, len(started)):])
    for value in getattr(item, "funcargs", {}).values():
        if hasattr(value, "local_processes"):
            candidates = value.local_processes()
        else:
            candidates = value.values() if isinstance(value, dict) else [value]
        found.extend(v for v in candidates if isinstance(v, LocalProcess) and v not in found)
    return found


def attach_logs(report, processes: list[LocalProcess]) -> None:
    """The end of each server's log, as a section of a failed test's report."""
    for process in processes:
        report.sections.append((f"{process.name} log (last 6000 chars)", process.log()[-6000:]))
