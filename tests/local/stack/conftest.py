"""Fixtures for the emulator's end-to-end tests: ``python -m ecsapi_local`` as a subprocess on
free loopback ports with a temporary work and data folder, boto3 clients on its moto and dynalite,
and Debian's chromium driven by Playwright.

A failing test's report gets the stack's output (every component's log lines).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.moto import PASSWORD
from tests.support.processes import REPO, boto_client, descendants, free_port, free_run

# The checkout's dynalite (`make node_modules/.installed`), as `make local` passes it: no install on first use.
DYNALITE = REPO / "node_modules" / ".bin" / "dynalite"
READY_LINE = "Ctrl-C stops everything."
START_SECONDS = 180  # a busy 2-core machine: moto's import alone can take many seconds


class EmulatorRun:
    """One ``python -m ecsapi_local`` run (the emulator); ``output`` is everything it printed so far."""

    def __init__(self, root: Path, config: Path | None = None, data: Path | None = None,
                 ports: dict[str, int] | None = None, services: int = 3, extra: tuple[str, ...] = ()) -> None:
        self.root = root
        self.work = root / "work"
        self.data = data or root / "data"
        self.ports = ports or {"page": free_port(), "api": free_port(), "cognito": free_port(), "control": free_port(),
                               "dynamodb": free_port(), "containers": free_run(services)}
        self.argv = [sys.executable, "-m", "ecsapi_local", "--work", str(self.work), "--data", str(self.data),
                     "--dynalite", str(DYNALITE),
                     *(f"--{name}-port={port}" for name, port in self.ports.items())]
        if config is not None:
            self.argv += ["--config", str(config)]
        self.argv += list(extra)
        self.lines: list[str] = []
        self.process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    # --- running ------------------------------------------------------------------------

    def start(self, wait: bool = True) -> EmulatorRun:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECSAPI_LOCAL_") and k != "CONFIG"}
        self.process = subprocess.Popen(self.argv, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        STARTED.append(self)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait:
            self.wait_ready()
        return self

    def _read(self) -> None:
        for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not any(line.endswith(READY_LINE) for line in self.lines):
            if self.process.poll() is not None:
                self._reader.join(5)
                raise RuntimeError(f"the emulator exited with {self.process.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator was not ready after {START_SECONDS} s:\n{self.output}")
            time.sleep(0.1)

    def wait_exit(self, timeout: float = 60) -> int:
        status = self.process.wait(timeout)
        self._reader.join(5)
        return status

    def stop(self) -> int | None:
        """SIGTERM, then the exit status (None if it had already exited)."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.send_signal(signal.SIGTERM)
        return self.wait_exit()

    def kill_leftovers(self) -> None:
        """After a failed test: nothing of this run may outlive the session."""
        if self.process is None:
            return
        for pid in descendants(self.process.pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    # --- what it serves -----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['page']}/"

    @property
    def page_config(self) -> dict:
        """The config.json the page gets (read from the page's own server)."""
        with urllib.request.urlopen(self.page_url + "config.json", timeout=10) as response:
            return json.loads(response.read())

    def client(self, service: str):
        endpoint = {"cognito-idp": f"http://127.0.0.1:{self.ports['cognito']}",
                    "dynamodb": f"http://127.0.0.1:{self.ports['dynamodb']}"}[service]
        return boto_client(service, endpoint, read_timeout=10, connect_timeout=2)

    def access_token(self, email: str) -> str:
        """A confirmed user's access token from the stack's user pool (signed up through the API)."""
        config = self.page_config
        idp = self.client("cognito-idp")
        idp.sign_up(ClientId=config["clientId"], Username=email, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": email}])
        idp.admin_confirm_sign_up(UserPoolId=config["userPoolId"], Username=email)
        result = idp.initiate_auth(ClientId=config["clientId"], AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
        return result["AuthenticationResult"]["AccessToken"]

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        """(status, parsed JSON body) of one request to the gateway."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.api_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def process_tree(self) -> set[int]:
        return descendants(self.process.pid)

    def listening_ports(self) -> list[int]:
        """Every port this run planned, including the containers' (the supervisor prints them)."""
        ports = [p for name, p in self.ports.items() if name != "containers"]
        ports += [int(p) for p in re.findall(r"Listening at: http://127\.0\.0\.1:(\d+) ", self.output)]
        return ports


STARTED: list[EmulatorRun] = []


@pytest.fixture
def make_stack(tmp_path):
    """A factory: make_stack(config=None, data=None, ...) is an EmulatorRun under tmp_path, not yet
    started; every stack made is stopped (and, should a test fail, killed) afterwards."""
    made: list[EmulatorRun] = []

    def make(**kwargs) -> EmulatorRun:
        stack = EmulatorRun(tmp_path / f"stack{len(made)}", **kwargs)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.stop()
        stack.kill_leftovers()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for stack in STARTED:
            report.sections.append((f"emulator {stack.root.name} output", stack.output[-12000:]))
    if call.when == "teardown":
        STARTED.clear()
    return report


_EMAILS = iter(range(1, 1_000_000))


@pytest.fixture
def email() -> str:
    return f"local{next(_EMAILS)}-{os.getpid()}@example.com"


