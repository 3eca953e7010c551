"""What the browser suites (tests/web, tests/local/stack) share: one Debian Chromium for the session
(for each xdist worker, its own).

One, because Playwright's sync API runs one event loop per thread: two suites each starting their
own would depend on the order pytest runs them in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Debian's chromium in its headless shell build (package chromium-headless-shell: the same chromium
# source and version), the build Playwright itself runs for headless Chromium since 1.49
# (microsoft/playwright#33566). Beside the full browser in its headless mode it runs the same Blink
# and V8 without the browser's own layer, at ~40 % of the CPU per test here (the Makefile says how
# much); the page uses nothing that layer adds.
CHROMIUM = "/usr/bin/chromium-headless-shell"
# Quiet and offline: no first-run UI, no background fetches, no GPU in CI.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium under Playwright, launched at first use and closed at the session's end."""
    # Imported here so that suites without a browser do not pay for Playwright's import.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (the Makefile installs Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
