"""The unit tier's guard: a test without the ``integration`` marker that starts a subprocess or a
listening server fails, naming what it started, so `make test-unit` cannot grow a server unnoticed.

Subprocesses are seen through Python's audit events (``subprocess.Popen``, ``os.posix_spawn``,
``os.fork``, ``os.system``, ``os.exec``: PEP 578, "Audit events table" in the Python docs), which
cover every way the standard library starts a process (Playwright's driver and asyncio
subprocesses go through ``subprocess.Popen`` too). Servers are seen at ``socket.listen``, which
has no audit event and is wrapped instead: http.server, gunicorn in-process and moto's threaded
server all listen through it. A violation is recorded as well as raised, so a test that swallows
the exception still fails; one in another thread (moto's threaded server listens in its own) is
also raised in the test's thread, through SIGUSR1, so the test fails instead of waiting forever for
a server that never came up.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading

# The audit events that start another program (or a copy of this one).
PROCESS_EVENTS = frozenset({
    "subprocess.Popen", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.system", "os.exec",
    "pty.spawn",
})

MARKER = "integration"


class UnmarkedIntegration(RuntimeError):
    """Raised where an unmarked test starts a subprocess or a server."""


class Guard:
    """Watches one test at a time: ``watching(nodeid)`` arms it for that test, ``restore`` puts
    back what was watched before."""

    def __init__(self) -> None:
        self.nodeid: str | None = None
        self.violations: list[str] = []
        self._depth = 0
        self._hooked = False
        self._listen = socket.socket.listen

    def install(self) -> None:
        # Counted: an inner pytest session (pytester) installs and uninstalls it too.
        self._depth += 1
        if self._depth > 1:
            return
        if not self._hooked:  # an audit hook cannot be removed; it does nothing while no test is watched
            self._hooked = True
            sys.addaudithook(self._audit)
        guard, listen = self, self._listen

        def guarded_listen(sock, *args):
            guard._check("a server (socket.listen on %s)" % (sock.getsockname(),))
            return listen(sock, *args)

        socket.socket.listen = guarded_listen
        signal.signal(signal.SIGUSR1, self._raise_in_main_thread)

    def uninstall(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            socket.socket.listen = self._listen
            signal.signal(signal.SIGUSR1, signal.SIG_DFL)
            self.nodeid = None

    def watching(self, nodeid: str | None) -> tuple[str | None, list[str]]:
        """Watch ``nodeid`` (None: nothing); returns what was watched before, for :meth:`restore`."""
        before = (self.nodeid, self.violations)
        self.nodeid, self.violations = nodeid, []
        return before

    def restore(self, before: tuple[str | None, list[str]]) -> None:
        self.nodeid, self.violations = before

    def _audit(self, event: str, args: tuple) -> None:
        if event in PROCESS_EVENTS and self.nodeid is not None:
            what = args[1] if event == "subprocess.Popen" else args[:1]
            self._check(f"a subprocess ({event} {repr(what)[:200]})")

    def _check(self, what: str) -> None:
        nodeid = self.nodeid
        if nodeid is None:
            return
        message = (f"{nodeid} starts {what} but is not marked {MARKER}: add "
                   f"`pytestmark = pytest.mark.{MARKER}` (or the decorator) so `make test-unit` leaves it out")
        self.violations.append(message)
        if threading.current_thread() is not threading.main_thread():
            signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)
        raise UnmarkedIntegration(message)

    def _raise_in_main_thread(self, signum, frame) -> None:
        if self.nodeid is not None and self.violations:
            raise UnmarkedIntegration(self.violations[-1])
