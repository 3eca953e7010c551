"""The suites' pytest plugin (setup.cfg: ``addopts = -p tests.support.plugin``).

- The unit tier's guard (tests.support.guard): a test without ``pytest.mark.integration`` fails if
  it starts a subprocess or a server, in every run, so `make test` (CI) catches what `make
  test-unit` would otherwise quietly run.
- Server logs in failure reports: a failed test's report gets the end of the log of every server
  it used (tests.support.processes.LocalProcess): those started while it ran, and those its
  fixtures hold (a fixture value that is a dict of servers, or lists them in ``local_processes()``).
- The order files run in: those with a test marked ``long`` first, then the integration tier, then
  the unit tests, each group in collection order. `make test` hands whole files to its workers in
  this order (``--dist loadfile --no-loadscope-reorder``), so no worker starts a file of minutes
  while the others are nearly done, and the short unit files fill the end.
- Under pytest-xdist, the controller writes the test modules' assertion-rewritten bytecode before
  the workers start (tests.support.bytecode), so that on a fresh clone they do not each rewrite all.
- ``aws_test_environment``: dummy AWS credentials for every boto3 client a suite creates;
  ``moto``: moto in server mode for the session; ``local_cognito``: the emulator's Cognito layer
  for a module.
- The fixtures of two more plugins it loads: the rendered templates (tests.support.templates:
  ``release``, ``render``, ``default_template``) and the browser (tests.support.browser).

Under pytest-xdist each worker is a session of its own: a session fixture (moto, the browser, a
rendered template) is made once per worker that needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.bytecode import write_rewritten_bytecode
from tests.support.guard import MARKER, Guard
from tests.support.moto import CognitoMoto, Moto
from tests.support.processes import AWS_CLEARED, AWS_TEST_ENV, REPO, STARTED, LocalProcess

pytest_plugins = ("tests.support.templates", "tests.support.browser")

LONG = "long"  # setup.cfg's marker for a test of a minute or more

GUARD = Guard()
VIOLATIONS = pytest.StashKey[list]()
"""What the guard caught in the phase that just ran (set by pytest_runtest_setup and _call)."""
FIRST_STARTED = pytest.StashKey[int]()
"""How many servers the started list held when the test began (set by pytest_runtest_protocol)."""


def pytest_configure(config) -> None:
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        write_rewritten_bytecode(config, REPO / "tests", REPO)  # the xdist controller, before any worker
    GUARD.install()


def pytest_unconfigure(config) -> None:
    GUARD.uninstall()


def pytest_collection_modifyitems(items) -> None:
    """Whole files, long ones first, then integration, then unit; a file's own order is kept."""
    rank: dict[Path, tuple[bool, bool]] = {}
    for item in items:
        long, unit = rank.get(item.path, (True, True))
        rank[item.path] = (long and item.get_closest_marker(LONG) is None,
                           unit and item.get_closest_marker(MARKER) is None)
    items.sort(key=lambda item: rank[item.path])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    item.stash[FIRST_STARTED] = len(STARTED)
    return (yield)


# Setup and call only: the teardown after a test also ends module and session fixtures that
# other (marked) tests started, and what those do on the way out is not this test's doing.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _guarded(item))


def _guarded(item):
    """Arm the guard around one phase of an unmarked test; what it catches is kept for the report."""
    before = GUARD.watching(item.nodeid if item.get_closest_marker(MARKER) is None else None)
    try:
        return (yield)
    finally:
        item.stash[VIOLATIONS] = GUARD.violations
        GUARD.restore(before)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    violations = item.stash.get(VIOLATIONS, [])
    if violations and report.when != "teardown":
        # Reported once, in the phase that started it; failed even when the test caught the exception.
        message = "\n".join(violations)
        item.stash[VIOLATIONS] = []
        if report.failed:
            if message not in str(report.longrepr):  # failed for another reason, after swallowing ours
                report.sections.append(("unit tier guard", message))
        else:
            report.outcome, report.longrepr = "failed", message
    if report.failed:
        attach_logs(report, processes_of(item, STARTED))
    return report


def processes_of(item, started: list[LocalProcess]) -> list[LocalProcess]:
    """The servers the test used: those added to ``started`` while it ran, and its fixtures'."""
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


@pytest.fixture(scope="session")
def moto(tmp_path_factory) -> Moto:
    """moto for the session (the gateway's and the page's Cognito), behind the emulator's Cognito
    layer as ``make local`` runs it, so the suites see what a user of the emulator sees."""
    server = CognitoMoto(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local_cognito():
    """The emulator's Cognito layer (ecsapi_local.cognito.LocalCognito: moto behind it, in this
    process) for one test module; tests.support.moto.reset empties it between tests."""
    from ecsapi_local.cognito import LocalCognito

    cognito = LocalCognito().start()
    yield cognito
    cognito.stop()


@pytest.fixture(scope="session")
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
