"""gunicorn's gthread worker, with the errors gunicorn answers by itself sent in the API's JSON
shape, and the next request of a kept-alive connection served by the thread that served the last.

gunicorn refuses some requests before the app sees them: a request line or header it cannot parse
(400), a request line over ``limit_request_line`` (414), too many or too large header fields (431),
a transfer coding other than chunked (501), an unexpected ``Expect`` (417). Its worker answers
those through ``gunicorn.util.write_error`` with an HTML page. This worker replaces that one
function, in its own process, by one that writes ``{"error": {"code": ..., "message": ...}}``
with the code from :mod:`itemstore.contract`, so every error the service sends is JSON.
gunicorn's choice of status, its access-log line and its warning in the error log are kept.

Kept-alive connections: gunicorn's gthread worker hands every request of a kept-alive connection
through its main thread: the worker thread's result goes back through a queue and a pipe, the main
thread puts the socket back in its poller (``fcntl``, ``epoll_ctl``), wakes when the next request
arrives, takes it out again and submits the connection to the thread pool (a future, a condition,
a thread wake-up) before a thread reads the request. Profiled under wrk (py-spy ``--gil``, PUT),
the main thread's loop alone was about 30 % of the samples holding the GIL. This worker's thread,
once it has answered a kept-alive request, waits up to KEEPALIVE_WAIT_SECONDS for the next request
on the same connection and serves it itself (strace: ``epoll_ctl`` went from 2 to under 0.1 per
request). It waits only while every submitted connection has a free thread; when the main thread
submits one that has none, it wakes the thread that has waited longest (a byte in that thread's
own pipe: only that thread wakes), which hands its connection back to gunicorn's poller as gthread
always does. gunicorn's ``handle`` serves each
request, so its parsing, errors, ``pre_request`` (the drain's ``Connection: close``), access log
and ``max_requests`` are unchanged; the wait ends after any request that closes the connection,
and a stopping worker (``alive`` false: the graceful stop) starts no new wait.

Configured in :mod:`itemstore.gunicorn_conf` as ``worker_class``.
"""

from __future__ import annotations

import collections
import os
import select
import threading
import time
from http import HTTPStatus

from gunicorn import util
from gunicorn.workers import gthread

from itemstore.errors import error_body, status_and_code

# gunicorn's message can quote the request line it refused; a client gets the start of it.
MAX_MESSAGE_CHARS = 200
# How long a thread that answered a kept-alive request waits for the next request on that connection
# before handing it back to gunicorn's poller. A client that sends its next request as soon as it
# has the answer (a proxy under load, wrk) has it there well within this, even on a busy machine
# (5 ms missed often under wrk with the machine's two cores shared); an idle connection costs the
# thread this long once, with no CPU (it sleeps in poll), and never delays another connection (a
# submitted connection with no free thread wakes one waiting thread at once).
KEEPALIVE_WAIT_SECONDS = 0.05


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """What ``gunicorn.util.write_error`` sends (a whole response, then the connection closes),
    as the API's JSON error."""
    status, code = status_and_code(status_int)
    message = (mesg or reason)[:MAX_MESSAGE_CHARS]
    body = error_body(code, message).encode("ascii")  # json.dumps escapes everything non-ASCII
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


class SecondDate:
    """gunicorn's ``util.http_date``, formatted once per second instead of once per response (the
    Date header has whole seconds; email.utils.formatdate was a few microseconds per answer)."""

    def __init__(self, http_date=util.http_date, clock=time.time) -> None:
        self._http_date = http_date
        self._clock = clock
        self._cached = (-1, "")

    def __call__(self, timestamp=None) -> str:
        if timestamp is not None:
            return self._http_date(timestamp)
        second = int(self._clock())
        cached = self._cached
        if cached[0] != second:
            cached = self._cached = (second, self._http_date(second))
        return cached[1]


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker; its own error responses are JSON, and a thread serves the next
    request of the kept-alive connection it just answered when it comes within KEEPALIVE_WAIT_SECONDS
    (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._queue_lock = threading.Lock()
        self._queued = 0  # connections submitted to the thread pool that no thread has taken yet
        self._busy = 0  # threads in handle(), waiting ones included
        # The wake pipes' write ends of the threads waiting for their connection's next request,
        # longest-waiting first. Each thread has its own pipe, so a wake-up wakes one thread: with
        # one pipe shared by all, every waiting thread woke for each byte and all but one went back
        # to waiting (a thundering herd on every connection that found no free thread).
        self._waiters: collections.deque[int] = collections.deque()
        self._thread_pipe = threading.local()

    def init_process(self) -> None:
        # Runs in the worker process after the fork, before it serves: the master never answers
        # requests, gunicorn's Worker.handle_error is the only caller of write_error, and its
        # responses (http.wsgi, http2.response) the only callers of http_date without a timestamp.
        util.write_error = write_json_error
        util.http_date = SecondDate()
        super().init_process()

    def enqueue_req(self, conn) -> None:
        """gthread's submission (main thread), counted; when no thread is free for it, the thread
        that has waited longest for its connection's next request is woken to give its thread back."""
        with self._queue_lock:
            self._queued += 1
            if self._waiters and self._queued > self.cfg.threads - self._busy:
                # Under the lock, so that a waiter that leaves finds the byte when it is no longer
                # listed (one byte at most per pipe: the write never blocks).
                os.write(self._waiters.popleft(), b"\0")
        super().enqueue_req(conn)

    def handle(self, conn):
        """gthread's ``handle`` for this connection's request, then for each next request that
        comes within KEEPALIVE_WAIT_SECONDS; the last result goes back to gthread (True: keep the
        connection alive in the poller)."""
        with self._queue_lock:
            self._queued -= 1
            self._busy += 1
        try:
            result = super().handle(conn)
            while result is True and self.alive and not conn.is_http2 and self._next_request_comes(conn):
                result = super().handle(conn)
            return result
        finally:
            with self._queue_lock:
                self._busy -= 1

    def _next_request_comes(self, conn) -> bool:
        """Whether the connection has its next request within KEEPALIVE_WAIT_SECONDS, unless this
        thread is wanted for another connection first."""
        if conn.parser.unreader.buf.getvalue():
            return True  # already read ahead (a pipelined request)
        pipe = getattr(self._thread_pipe, "fds", None)
        if pipe is None:
            pipe = self._thread_pipe.fds = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        wake_read, wake_write = pipe
        with self._queue_lock:
            if self._queued > self.cfg.threads - self._busy:
                return False  # a submitted connection has no free thread: give this one back
            self._waiters.append(wake_write)
        try:
            poller = select.poll()
            poller.register(conn.sock, select.POLLIN)
            poller.register(wake_read, select.POLLIN)
            deadline = time.monotonic() + KEEPALIVE_WAIT_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                ready = dict(poller.poll(left * 1000))
                if wake_read in ready:
                    return False  # wanted for another connection: this one goes back to the poller
                if conn.sock.fileno() in ready:
                    # POLLIN, or POLLHUP/POLLERR: gunicorn's handle reads the request or finds the
                    # connection gone.
                    return True
            return False
        finally:
            with self._queue_lock:
                try:
                    self._waiters.remove(wake_write)
                except ValueError:  # woken by enqueue_req: take its byte, so the next wait starts clean
                    os.read(wake_read, 1)
