"""Servers on free loopback ports, each with its output in a log file that a failed test's report
shows (tests.support.plugin): the base class, dynalite, and the small HTTP helpers the suites share.

Nothing here talks to AWS: every client gets an endpoint on 127.0.0.1 and dummy credentials.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTAINERS = REPO / "containers"
DYNALITE = REPO / "node_modules" / ".bin" / "dynalite"
REGION = "us-east-1"

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_run(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports, below the ephemeral range (so that
    the kernel does not hand them out to clients meanwhile). Free as the emulator judges it."""
    from ecsapi_local.supervisor import port_free

    for _ in range(200):
        first = random.randrange(20000, 30000 - count)
        if all(port_free(first + i) for i in range(count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports found")


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


def boto_client(service: str, endpoint_url: str, read_timeout: float = 5, connect_timeout: float = 1,
                verify: str | None = None):
    """A boto3 client of ``service`` at a local endpoint, dummy credentials, one attempt per call
    (``verify``: the CA bundle of an https endpoint; None, botocore's default).

    From the commands' own sessions (generator.tooling.aws.boto3_session): each service model is
    parsed once per test process, not once per client.
    """
    from botocore.config import Config

    from generator.tooling.aws import boto3_session

    return boto3_session(REGION, aws_access_key_id="test", aws_secret_access_key="test").client(
        service, endpoint_url=endpoint_url, verify=verify,
        config=Config(connect_timeout=connect_timeout, read_timeout=read_timeout, retries={"total_max_attempts": 1}))


def descendants(root: int) -> set[int]:
    """Every live process whose chain of parents leads to ``root`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


STARTED: list[LocalProcess] = []  # every process started this session, in order


class LocalProcess:
    """A server process with its output in a log file, shown when a test using it fails."""

    name = "process"
    stop_signal = signal.SIGTERM  # what stop() sends first

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

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        if not self.running:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(self.stop_signal)
        return self._wait_or_kill(timeout)

    def _wait_or_kill(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def stop_all(processes: list[LocalProcess], timeout: float = 10.0) -> None:
    """Stop every process at once: each gets its stop signal before any is waited for, so the set
    takes as long as its slowest member, not the sum of them."""
    running = [process for process in processes if process.running]
    for process in running:
        process.process.send_signal(process.stop_signal)
    for process in running:
        process._wait_or_kill(timeout)


class LoopbackServer(LocalProcess):
    """A server process on a free loopback port (chosen when made, so its URL is known before it starts)."""

    def __init__(self, log_path: Path) -> None:
        super().__init__(log_path)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 10.0):
        """(status, headers, body bytes) of one request; a dict or list body is sent as JSON."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        return http_request(self.port, method, path, body, headers, timeout)


class Dynalite(LoopbackServer):
    """dynalite on a free loopback port, storing its tables under `data`."""

    name = "dynalite"

    def __init__(self, data: Path, log_path: Path) -> None:
        super().__init__(log_path)
        self.data = data

    def start(self) -> Dynalite:
        if not DYNALITE.exists():
            raise RuntimeError(f"{DYNALITE} is missing: run `make node_modules/.installed`")
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
        return boto_client("dynamodb", self.url)

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_table(self, name: str, spec) -> None:
        """The table of ``spec`` (a ServiceSpec), keyed as the generated template keys it (the one
        source: generator.template.storage.key_schema, which `make tables` uses too)."""
        from generator.template.storage import key_schema

        client = self.client()
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **key_schema(spec))
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
