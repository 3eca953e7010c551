"""gunicorn's gthread worker, with the errors gunicorn answers by itself sent in the API's JSON shape.

gunicorn refuses some requests before the app sees them: a request line or header it cannot parse
(400), a request line over ``limit_request_line`` (414), too many or too large header fields (431),
a transfer coding other than chunked (501), an unexpected ``Expect`` (417). Its worker answers
those through ``gunicorn.util.write_error`` with an HTML page. This worker replaces that one
function, in its own process, by one that writes ``{"error": {"code": ..., "message": ...}}``
with the code from :mod:`itemstore.contract`, so every error the service sends is JSON.
gunicorn's choice of status, its access-log line and its warning in the error log are kept.

Configured in :mod:`itemstore.gunicorn_conf` as ``worker_class``.
"""

from __future__ import annotations

from http import HTTPStatus

from gunicorn import util
from gunicorn.workers import gthread

from itemstore.errors import error_body, status_and_code

# gunicorn's message can quote the request line it refused; a client gets the start of it.
MAX_MESSAGE_CHARS = 200


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


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker; its own error responses are JSON."""

    def init_process(self) -> None:
        # Runs in the worker process after the fork, before it serves: the master never answers
        # requests, and gunicorn's Worker.handle_error is the only caller of write_error.
        util.write_error = write_json_error
        super().init_process()
