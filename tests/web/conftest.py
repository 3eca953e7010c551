"""Fixtures for the web page tests: the page served from web/ under the production CSP, moto (server
mode) as Cognito, a small fake API, and Debian's chromium driven by Playwright (tests.support.web).

Everything listens on 127.0.0.1 on free ports and is torn down after; the servers' logs and the
browser's console are attached to a failing test's report.
"""

from __future__ import annotations

import pytest

from tests.support.web import SERVICES, CognitoFront, Rig, UserPool, create_user_pool


@pytest.fixture(scope="session")
def pool(moto) -> UserPool:
    """One user pool for the session (creating one costs a second); each test signs up its own user."""
    return create_user_pool(moto)


_EMAILS = iter(range(1, 1_000_000))


@pytest.fixture
def email() -> str:
    """An address no other test in the session uses."""
    return f"user{next(_EMAILS)}@example.com"


RIGS: list[Rig] = []


@pytest.fixture
def make_rig(browser, moto, pool):
    """A factory: make_rig(services) builds the test's world; its pages must log no console errors
    beyond those the test allowed (checked after the test)."""
    made: list[Rig] = []

    def make(services: list[dict] | None = None) -> Rig:
        rig = Rig(browser, moto, pool, SERVICES[:2] if services is None else services)
        made.append(rig)
        RIGS.append(rig)
        return rig

    yield make
    problems = []
    for rig in made:
        problems += rig.unexpected_console()
        rig.close()
    assert not problems, "the page logged errors:\n" + "\n".join(problems)


@pytest.fixture
def rig(make_rig) -> Rig:
    return make_rig()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        # moto's log comes with the servers' logs (tests.support.plugin); the rigs are this suite's own.
        for rig in RIGS:
            report.sections.append(("web rig", rig.report()[-8000:]))
    if call.when == "teardown":
        RIGS.clear()
    return report


@pytest.fixture
def cognito_front(moto, pool):
    front = CognitoFront(moto, pool)
    yield front
    front.close()
