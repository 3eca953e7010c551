"""Start, watch and stop a set of local processes, each in its own process group, with every line
they print prefixed by the component's name.

A component is started, then polled until it is ready (or fails). Once all are up the supervisor
waits: SIGINT or SIGTERM stops every component, newest first, and returns 0; a component that exits
on its own is reported with its status, the others are stopped and the result is 1. Stopping a
component sends SIGTERM to its whole process group (gunicorn's workers, npm's node), waits, and
sends SIGKILL to what is left, so nothing outlives the supervisor's stop.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

POLL_SECONDS = 0.1
# Terminal colour codes (werkzeug colours moto's warnings): dropped, so every line reads the same
# on a terminal, in a pipe and in a log file.
_ANSI = re.compile(rb"\x1b\[[0-9;]*m")
# How long a component may take to stop after SIGTERM before its group gets SIGKILL. gunicorn
# lets in-flight requests finish; an idle one exits in well under a second.
STOP_SECONDS = 25.0


class StartError(Exception):
    """A component could not be started or never became ready; the message names it."""


class Stopped(Exception):
    """SIGINT or SIGTERM arrived while the stack was starting."""


@dataclass
class Component:
    """A process the supervisor runs."""

    name: str
    argv: Sequence[str]
    env: dict[str, str] | None = None
    """The process environment (None: the supervisor's own)."""
    cwd: Path | None = None
    ready: Callable[[], bool] = lambda: True
    """Polled after the start until it returns True; the component is up then."""
    ready_seconds: float = 60.0
    """How long ``ready`` may take to return True."""
    stop_signal: int = signal.SIGTERM
    """What the supervisor's stop sends the component's process group first."""
    process: subprocess.Popen | None = field(default=None, repr=False)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (a socket in TIME_WAIT does not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def answers(port: int, host: str = "127.0.0.1") -> bool:
    """True when host:port accepts a TCP connection."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Supervisor:
    """Runs components; ``out`` receives every line, prefixed ``name | ``."""

    def __init__(self, out: TextIO | None = None, name_width: int = 10, stop_seconds: float = STOP_SECONDS) -> None:
        self.out = out or sys.stdout
        self.width = name_width
        self.stop_seconds = stop_seconds
        self.components: list[Component] = []
        self.released: list[Component] = []
        self.stopping = threading.Event()
        self.signal_name: str | None = None
        self._lock = threading.Lock()
        self._pumps: list[threading.Thread] = []

    # --- output -------------------------------------------------------------------------------

    def say(self, line: str, name: str = "local") -> None:
        with self._lock:
            try:
                self.out.write(f"{name:<{self.width}} | {line}\n")
                self.out.flush()
            except (BrokenPipeError, ValueError):  # the reader went away (`| head`): keep supervising
                pass

    def _pump(self, component: Component) -> None:
        for raw in component.process.stdout:
            self.say(_ANSI.sub(b"", raw).decode(errors="replace").rstrip("\n"), component.name)

    # --- signals ----------------------------------------------------------------------------

    def handle_signals(self) -> None:
        """SIGINT and SIGTERM stop the stack (call from the main thread).

        The handler only records the signal: it runs in the main thread between two bytecodes,
        possibly while that thread holds the output lock, so printing from it could deadlock.
        """

        def handler(signum, frame) -> None:
            self.signal_name = self.signal_name or signal.Signals(signum).name
            self.stopping.set()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    # --- starting -----------------------------------------------------------------------------

    def start(self, component: Component) -> Component:
        """Start ``component`` and wait until it is ready; raises StartError or Stopped."""
        return self.start_all([component])[0]

    def start_all(self, components: Iterable[Component]) -> list[Component]:
        """Start several components at once, then wait until each is ready."""
        components = list(components)
        for component in components:
            self._spawn(component)
        for component in components:
            self._wait_ready(component)
        return components

    def _spawn(self, component: Component) -> None:
        if self.stopping.is_set():
            raise Stopped()
        try:
            component.process = subprocess.Popen(
                list(component.argv), env=component.env, cwd=component.cwd, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as error:
            raise StartError(f"{component.name}: cannot run {component.argv[0]}: {error.strerror}") from None
        self.components.append(component)
        pump = threading.Thread(target=self._pump, args=(component,), name=f"log-{component.name}", daemon=True)
        pump.start()
        self._pumps.append(pump)

    def _wait_ready(self, component: Component) -> None:
        deadline = time.monotonic() + component.ready_seconds
        while True:
            if self.stopping.is_set():
                raise Stopped()
            status = component.process.poll()
            if status is not None:
                raise StartError(f"{component.name} exited with status {status} while starting (its log is above)")
            if component.ready():
                self.say(f"{component.name} is up (pid {component.process.pid})")
                return
            if time.monotonic() > deadline:
                raise StartError(f"{component.name} was not ready after {component.ready_seconds:g} s")
            time.sleep(POLL_SECONDS)

    # --- running and stopping ---------------------------------------------------------------

    def release(self, component: Component) -> None:
        """Stop watching ``component``: it is being stopped on purpose (a task replaced or scaled
        in), so its exit is not a failure. The supervisor's own stop still stops it if it lingers."""
        with self._lock:
            self.components.remove(component)
            self.released.append(component)

    def wait(self) -> int:
        """Block until a signal (returns 0) or until a component exits on its own (returns 1);
        either way every component is stopped first."""
        failed = None
        while not self.stopping.is_set():
            failed = next((c for c in list(self.components) if c.process.poll() is not None), None)
            if failed is not None:
                self.say(f"{failed.name} exited with status {failed.process.returncode}; stopping the stack")
                break
            time.sleep(POLL_SECONDS * 2)
        self.stop()
        return 1 if failed is not None else 0

    def stop(self) -> None:
        """Stop every component, newest first, and wait for their process groups to be gone."""
        self.stopping.set()
        if self.signal_name:
            self.say(f"{self.signal_name}: stopping")
        for component in reversed([*self.released, *self.components]):
            self._stop(component)
        for pump in self._pumps:
            pump.join(timeout=2)
        self.say("stopped")

    def _stop(self, component: Component) -> None:
        process = component.process
        group = process.pid  # start_new_session: the leader's pid is the group id
        if _signal_group(group, component.stop_signal):
            deadline = time.monotonic() + self.stop_seconds
            while _group_alive(group, process) and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
            if _group_alive(group, process):
                self.say(f"{component.name} did not stop within {self.stop_seconds:g} s: SIGKILL")
                _signal_group(group, signal.SIGKILL)
        process.wait()
        while _group_alive(group, process):  # members the leader left behind, after SIGKILL
            _signal_group(group, signal.SIGKILL)
            time.sleep(POLL_SECONDS)


def _signal_group(group: int, signum: int) -> bool:
    try:
        os.killpg(group, signum)
        return True
    except ProcessLookupError:
        return False


def _group_alive(group: int, process: subprocess.Popen) -> bool:
    process.poll()  # reap the leader, so a zombie does not count
    try:
        os.killpg(group, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
