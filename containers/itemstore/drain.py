"""Draining: on SIGTERM the task keeps serving for a while before gunicorn's graceful stop.

Why: ECS deregisters a task from Cloud Map and sends it SIGTERM at the same moment, but API
Gateway keeps sending requests to it for a while from its own cache of Cloud Map's answer
(aws/containers-roadmap#1639; README, "Deployments without dropped requests"). gunicorn's own
SIGTERM handling closes the listening sockets at once, so every request API Gateway still sends
there would fail. With draining, the timeline after SIGTERM is:

1. for ``DRAIN_SECONDS`` (contract.DEFAULT_DRAIN_SECONDS) the task accepts and serves as before;
   every response carries ``Connection: close``, so no idle kept-alive connection is left for the
   proxy to reuse when the listeners close; ``/health`` answers 200 with ``"status": "draining"``
   and each access-log line ends with ``draining``;
2. then gunicorn's graceful stop: the listeners close, in-flight requests get
   ``graceful_timeout`` to finish, the workers exit.

The gunicorn master owns the clock (:func:`install` replaces the arbiter's SIGTERM handler); the
workers read it through a :class:`DrainClock`, an anonymous shared mapping made in the master
before any worker is forked, so a worker (re)started during the drain sees it too. SIGINT and
SIGQUIT still stop at once. This module uses only the standard library: the master imports it.
"""

from __future__ import annotations

import mmap
import signal
import struct
import threading
import time

_DEADLINE = struct.Struct("d")  # time.monotonic() at which the drain ends; 0.0: not draining


class DrainClock:
    """When this task's drain ends, shared by the gunicorn master and its forked workers.

    CLOCK_MONOTONIC is one clock for every process of the host, so a deadline written by the master
    means the same instant to a worker.
    """

    def __init__(self) -> None:
        # An anonymous mapping is MAP_SHARED by default: after fork(), parent and children see
        # one page.
        self._memory = mmap.mmap(-1, _DEADLINE.size)

    def start(self, seconds: float) -> None:
        _DEADLINE.pack_into(self._memory, 0, time.monotonic() + seconds)

    def seconds_left(self) -> float | None:
        """Seconds until the drain ends (0.0 once it has), or None when the task is not draining."""
        (deadline,) = _DEADLINE.unpack_from(self._memory, 0)
        if deadline == 0.0:
            return None
        return max(deadline - time.monotonic(), 0.0)


_clock: DrainClock | None = None


def clock() -> DrainClock | None:
    """The clock :func:`install` made in this process or its master; None outside gunicorn (tests
    that build the app directly), which never drains."""
    return _clock


def seconds_left() -> float | None:
    """Seconds of drain left, 0.0 once over, None when not draining (see DrainClock.seconds_left)."""
    return _clock.seconds_left() if _clock is not None else None


def install(arbiter, drain_seconds: int) -> DrainClock:
    """Make the shared clock and give ``arbiter`` (gunicorn's) a SIGTERM handler that drains.

    Called from the gunicorn config's ``on_starting`` hook, in the master, before any fork. gunicorn
    dispatches each queued signal to ``arbiter.handle_<name>`` looked up on the instance, so this
    instance attribute replaces ``Arbiter.handle_term`` (which raises StopIteration: the graceful
    stop) for this arbiter only. With ``drain_seconds`` 0 SIGTERM is gunicorn's as before.
    """
    global _clock
    _clock = DrainClock()
    drain_clock = _clock
    state = {"over": False}
    graceful_stop = arbiter.handle_term  # gunicorn's: raise StopIteration

    def end_drain() -> None:
        # Runs in a timer thread: only queue the signal, as gunicorn's own signal handler does; the
        # main loop dispatches it to handle_term, which this time stops.
        state["over"] = True
        arbiter.signal(signal.SIGTERM, None)

    def handle_term() -> None:
        if state["over"] or drain_seconds <= 0:
            graceful_stop()  # raises StopIteration: the arbiter halts, gracefully
        if drain_clock.seconds_left() is not None:
            arbiter.log.info("SIGTERM while draining: ignored (the drain ends in %.0f s; SIGINT or SIGQUIT "
                             "stops now)", drain_clock.seconds_left())
            return
        drain_clock.start(drain_seconds)
        arbiter.log.info("Draining: SIGTERM received; still accepting and serving for %d s (API Gateway may "
                         "route here from its cache of Cloud Map's answer), then a graceful stop of up to %s s",
                         drain_seconds, arbiter.cfg.graceful_timeout)
        timer = threading.Timer(drain_seconds, end_drain)
        timer.daemon = True
        timer.start()

    arbiter.handle_term = handle_term
    return drain_clock


def close_while_draining(req) -> None:
    """gunicorn ``pre_request`` hook body: while draining, answer with ``Connection: close``.

    gunicorn's response closes the connection when the request says so (``Request.should_close``
    reads ``must_close`` first); a ``Connection`` header set by the app would be dropped as
    hop-by-hop. A proxy then opens a new connection per request, which the listener still accepts,
    and none is idle when the listeners close.
    """
    if _clock is not None and _clock.seconds_left() is not None:
        req.must_close = True
