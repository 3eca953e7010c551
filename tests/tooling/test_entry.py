"""The CLI's entry point keeps the garbage collector off while the command's modules load, freezes
what they built, and hands the command a collector in the state the process had."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.processes import REPO

pytestmark = pytest.mark.integration  # a fresh interpreter as a subprocess: freezing is process-wide

PROBE = """
import gc, json, sys
{before}
from generator.tooling import entry, cli
seen = {{}}
def command(argv):
    seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count(), troposphere="troposphere" in sys.modules)
    return 0
cli.main = command  # the command itself is not what is probed
entry.main(["describe"])
print(json.dumps({{**seen, "enabled_after": gc.isenabled()}}))
"""


def probe(before: str = "") -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE.format(before=before)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_command_runs_with_the_collector_on_and_start_up_objects_frozen():
    seen = probe()
    assert seen["troposphere"]  # the modules loaded before the command ran
    assert seen["enabled"] and seen["enabled_after"]
    assert seen["frozen"] > 10_000  # troposphere's classes and the modules' objects, not walked again


def test_a_collector_the_caller_turned_off_stays_off():
    seen = probe("gc.disable()")
    assert not seen["enabled"] and not seen["enabled_after"]
