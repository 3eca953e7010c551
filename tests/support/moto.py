"""moto in server mode, the one way the suites start it.

Two forms, for two needs:

- :class:`Moto`: ``python -m moto.server`` as a subprocess (a :class:`LoopbackServer`, its log in a
  failed test's report), for servers in other processes that must reach it (the gateway's JWKS, a
  browser's Cognito calls).
- :func:`threaded_moto`: moto's ``ThreadedMotoServer`` in this process, for tests that also reach
  into moto's backends (scripting a CodeBuild build, resetting state) or only call it from here.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

from tests.support.processes import REGION, LoopbackServer

# A password every user pool of the template accepts (12+ characters, all four classes), for the
# users the suites sign up.
PASSWORD = "Correct-Horse-9-battery"


class Moto(LoopbackServer):
    """``python -m moto.server`` on a free loopback port."""

    name = "moto"
    module = "moto.server"

    def start(self) -> Moto:
        # moto must not see (and so never use) the caller's AWS settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._spawn([sys.executable, "-m", self.module, "-H", "127.0.0.1", "-p", str(self.port)], env=env)
        self._wait_ready(self._answers, timeout=30)
        return self

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/moto-api/", timeout=1).read()
            return True
        except (urllib.error.URLError, OSError):
            return False

    def client(self, service: str):
        from tests.support.processes import boto_client

        return boto_client(service, self.url, read_timeout=10)


class CognitoMoto(Moto):
    """moto behind make local's Cognito layer (``python -m ecsapi_local.cognito``: refused sign-in
    flows, ``email_verified``, ``RevokeToken``, as Cognito answers them), as the emulator runs it."""

    module = "ecsapi_local.cognito"


@functools.cache
def _threaded_server_url() -> str:
    # One server per test process, started on first use and stopped when the process exits: a new
    # server builds each service's app anew on its first request (its routes, its service model),
    # about a quarter of the CPU of a suite that talks to moto.
    from moto.server import ThreadedMotoServer

    # No default AMIs: nothing here launches an instance, and moto loads them into every EC2 backend
    # it makes (each region a test touches, again after each reset): 144 ms against 2 ms apiece.
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    atexit.register(server.stop)
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


@contextlib.contextmanager
def threaded_moto() -> Iterator[str]:
    """moto's threaded server on a loopback port, its state reset (every backend empty, as a new
    server's); yields its URL."""
    url = _threaded_server_url()
    # The backends live in this process and outlive each use: start from empty.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    yield url


def moto_environment(url: str) -> dict[str, str]:
    """What points an unmodified ``boto3.client("...")`` at moto: boto3 reads AWS_ENDPOINT_URL."""
    return {
        "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextlib.contextmanager
def moto_for_boto3(monkeypatch) -> Iterator[str]:
    """:func:`threaded_moto`, with this process's environment pointing plain boto3 clients at it;
    yields its URL."""
    with threaded_moto() as url:
        for name, value in moto_environment(url).items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        yield url


# A Cognito client of a moto (or local Cognito) server, and moto's reset, for the Cognito suites.


def idp(url: str):
    from tests.support.processes import boto_client

    return boto_client("cognito-idp", url, read_timeout=60, connect_timeout=60)


def reset(url: str) -> None:
    """Empty moto's backends: they live in the server's process and outlive a test."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
