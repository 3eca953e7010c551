"""The supervisor with small stand-in processes: prefixed output, a crash reported, a start that
fails, and stopping whole process groups, including members that ignore SIGTERM or outlive their
leader."""

from __future__ import annotations

import io
import subprocess
import sys
import threading

import pytest

from ecsapi_local.supervisor import Component, StartError, Supervisor
from tests.support.processes import alive, descendants

pytestmark = pytest.mark.integration  # real child processes

# A process that prints its pid, starts a child that ignores SIGTERM, and (``stubborn``) ignores it too.
FAMILY = """
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('child ready', flush=True); time.sleep(120)"])
if {stubborn}:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("leader", os.getpid(), "child", child.pid, flush=True)
time.sleep(120)
"""


def _component(name: str, code: str, **kwargs) -> Component:
    return Component(name, [sys.executable, "-c", code], **kwargs)


def _pids(supervisor: Supervisor) -> set[int]:
    import os

    return descendants(os.getpid()) & {
        pid for c in supervisor.components for pid in {c.process.pid, *descendants(c.process.pid)}}


def test_every_line_is_prefixed_and_a_crash_stops_the_rest_with_status_1():
    out = io.StringIO()
    supervisor = Supervisor(out, name_width=6, stop_seconds=1)
    supervisor.start(_component("sleepy", "import time; print('up', flush=True); time.sleep(120)"))
    supervisor.start(_component("crash", "import time; print('bye', flush=True); time.sleep(0.5); raise SystemExit(3)"))
    pids = _pids(supervisor)
    assert supervisor.wait() == 1
    lines = out.getvalue().splitlines()
    assert "sleepy | up" in lines and "crash  | bye" in lines
    assert "local  | crash exited with status 3; stopping the stack" in lines
    assert lines[-1] == "local  | stopped"
    assert not [pid for pid in pids if alive(pid)]


@pytest.mark.parametrize("stubborn", [False, True], ids=["leader-exits-child-stays", "whole-group-ignores-term"])
def test_stop_leaves_no_member_of_a_group_behind(stubborn):
    out = io.StringIO()
    supervisor = Supervisor(out, stop_seconds=1)
    component = supervisor.start(_component(
        "family", FAMILY.format(stubborn=stubborn),
        ready=lambda: "child ready" in out.getvalue() and "leader" in out.getvalue()))
    pids = _pids(supervisor)
    assert len(pids) == 2, pids
    supervisor.stop()
    # The leader died of SIGTERM, or of the SIGKILL that the whole group got when a member
    # (the child, in both cases) was still there after stop_seconds.
    assert component.process.returncode == (-9 if stubborn else -15)
    assert "family did not stop within 1 s: SIGKILL" in out.getvalue()
    assert not [pid for pid in pids if alive(pid)]


def test_a_component_that_exits_while_starting_is_named_and_the_others_are_stopped():
    out = io.StringIO()
    supervisor = Supervisor(out, stop_seconds=1)
    supervisor.start(_component("first", "import time; time.sleep(120)"))
    with pytest.raises(StartError, match=r"^second exited with status 2 while starting"):
        supervisor.start(_component("second", "raise SystemExit(2)", ready=lambda: False))
    pids = _pids(supervisor)
    supervisor.stop()
    assert not [pid for pid in pids if alive(pid)]


def test_a_signal_ends_the_wait_with_status_0():
    supervisor = Supervisor(io.StringIO(), stop_seconds=1)
    supervisor.start(_component("idle", "import time; time.sleep(120)"))
    threading.Timer(0.3, supervisor.stopping.set).start()  # what the SIGINT/SIGTERM handler does
    # Without the flag, wait() would return 1 when the component's sleep ends.
    assert supervisor.wait() == 0


# The main thread holds the output lock when the signal arrives: the handler runs right there, in
# the same thread, and must not wait for that lock (it did once: a SIGTERM just as the ready line
# was printed hung the stack).
SIGNAL_WHILE_PRINTING = """
import io, os, signal
from ecsapi_local.supervisor import Supervisor
supervisor = Supervisor(io.StringIO())
supervisor.handle_signals()
with supervisor._lock:
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(100_000):
        pass
supervisor.stop()
print(supervisor.out.getvalue(), end="")
"""


def test_a_signal_that_arrives_while_a_line_is_printed_does_not_hang():
    result = subprocess.run([sys.executable, "-c", SIGNAL_WHILE_PRINTING], capture_output=True, text=True,
                            timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    said = [tuple(part.strip() for part in line.split("|", 1)) for line in result.stdout.splitlines()]
    assert said == [("local", "SIGTERM: stopping"), ("local", "stopped")]
