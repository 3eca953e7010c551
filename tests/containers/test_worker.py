"""itemstore.worker under a real gunicorn: the requests gunicorn refuses itself get the API's JSON
errors, with gunicorn's status, and the server keeps serving; and two of its parts alone: the Date
header made once per second, and which waiting thread a connection without a thread wakes."""

from __future__ import annotations

import collections
import email.utils
import io
import json
import socket
import threading
import time
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from gunicorn import util
from gunicorn.workers import gthread
from itemstore import contract
from itemstore import worker as worker_module
from itemstore.contract import HEALTH_PATH, MAX_ID_BYTES

pytestmark = pytest.mark.integration


def _raw(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are, read the answer to the end (gunicorn closes after an error)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


def _get(target: str, *extra: str) -> bytes:
    return "\r\n".join([f"GET {target} HTTP/1.1", "Host: test", *extra, "Connection: close", "", ""]).encode("latin-1")


REFUSED = {
    "request line over the limit": (_get("/" + "a" * 9000), contract.ERROR_URI_TOO_LONG),
    "not HTTP": (b"HELLO\r\n\r\n", contract.ERROR_BAD_REQUEST),
    "header over the limit": (_get("/x", "X-Big: " + "b" * 9000), contract.ERROR_HEADERS_TOO_LARGE),
    "invalid header name": (_get("/x", "Bad Header: 1"), contract.ERROR_BAD_REQUEST),
    "unknown transfer coding": (b"PUT /x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: bogus\r\n\r\n",
                                contract.ERROR_NOT_IMPLEMENTED),
    "unknown expectation": (_get("/x", "Expect: a-pony"), contract.ERROR_EXPECTATION_FAILED),
}


@pytest.mark.parametrize("case", REFUSED)
def test_requests_gunicorn_refuses_get_json_errors(gunicorn_servers, service, case):
    server = gunicorn_servers[service.name]
    request, code = REFUSED[case]
    status, headers, body = _raw(server.port, request)
    assert status == contract.ERROR_STATUS[code], body
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"} and error["code"] == code
    assert server.request("GET", HEALTH_PATH)[0] == 200  # the worker goes on serving
    assert "access log line failed" not in server.log()


def test_the_longest_id_fits_gunicorns_request_line(gunicorn_servers, service):
    # Every byte percent-encoded: 3 characters each, still under limit_request_line. (An id no
    # other test stores, so the answer is the item's 404, not the 414 of a line too long.)
    item_id = "ö" * (MAX_ID_BYTES // 2 - 1) + "zz"
    assert len(item_id.encode()) == MAX_ID_BYTES
    status, headers, body = _raw(gunicorn_servers[service.name].port, _get(service.url(quote(item_id))))
    assert (status, json.loads(body)["error"]["code"]) == (404, contract.ERROR_ITEM_NOT_FOUND)


def test_the_collection_path_is_a_json_404_over_http(gunicorn_servers, service):
    status, headers, body = _raw(gunicorn_servers[service.name].port, _get(service.prefix))
    assert status == 404 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == contract.ERROR_NOT_FOUND


def _read_answer(reader) -> tuple[int, bytes]:
    """One HTTP/1.1 answer with a Content-Length from a socket's file: (status, body)."""
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, reader.read(length)


def test_requests_sent_together_on_one_connection_are_all_answered_in_order(gunicorn_servers, service):
    # Pipelined: the second and third requests are read ahead with the first, so the thread that
    # answered the first finds them already buffered (worker.ThreadWorker._next_request_comes).
    server = gunicorn_servers[service.name]
    ids = ["pipelined-1", "pipelined-2"]
    for item_id in ids:
        assert server.request("PUT", f"{service.prefix}/{item_id}", {"n": item_id})[0] == 200
    requests = b"".join(f"GET {service.prefix}/{item_id} HTTP/1.1\r\nHost: test\r\n\r\n".encode() for item_id in ids)
    requests += f"GET {HEALTH_PATH} HTTP/1.1\r\nHost: test\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock, sock.makefile("rb") as reader:
        sock.sendall(requests)
        answers = [_read_answer(reader) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200, 200]
    assert [json.loads(body)["n"] for _, body in answers[:2]] == ids
    assert json.loads(answers[2][1])["status"] == contract.HEALTH_OK


def test_an_idle_kept_alive_connection_does_not_hold_the_only_thread(start_gunicorn, dynalite, service):
    # One thread: after answering A (kept alive, then idle) it must serve B, whose request comes
    # while the thread may be waiting for A's next one; then A's next request too.
    server = start_gunicorn(service, DYNAMODB_ENDPOINT_URL=dynalite.url, GUNICORN_THREADS="1")
    get = f"GET {HEALTH_PATH} HTTP/1.1\r\nHost: test\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as a, a.makefile("rb") as a_reader:
        a.sendall(get)
        assert _read_answer(a_reader)[0] == 200
        for _ in range(20):  # each B: a new connection, answered while A stays open
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as b, b.makefile("rb") as b_reader:
                b.sendall(get)
                assert _read_answer(b_reader)[0] == 200
        a.sendall(get)
        assert _read_answer(a_reader)[0] == 200


def test_the_date_header_is_gunicorns_formatted_once_per_second():
    now = [1772705702.25]  # 2026-03-05T10:15:02.25Z
    calls = []

    def http_date(timestamp=None):
        calls.append(timestamp)
        return util.http_date(timestamp)

    date = worker_module.SecondDate(http_date, clock=lambda: now[0])
    assert date() == "Thu, 05 Mar 2026 10:15:02 GMT" == util.http_date(now[0])
    now[0] += 0.7  # the same second
    assert date() == "Thu, 05 Mar 2026 10:15:02 GMT"
    assert len(calls) == 1
    now[0] += 0.1  # the next one
    assert date() == "Thu, 05 Mar 2026 10:15:03 GMT"
    assert date(0) == email.utils.formatdate(0, usegmt=True)  # an explicit time is formatted as asked


def test_a_connection_without_a_free_thread_wakes_only_the_longest_waiting_thread(monkeypatch):
    # Three threads wait for the next request of their kept-alive connections; a connection comes
    # that has no free thread. The thread that has waited longest gives its thread back; the others
    # keep waiting and serve their own connection's next request.
    monkeypatch.setattr(worker_module, "KEEPALIVE_WAIT_SECONDS", 60.0)  # only a wake or a request ends a wait
    monkeypatch.setattr(gthread.ThreadWorker, "enqueue_req", lambda self, conn: None)  # no thread pool here
    worker = worker_module.ThreadWorker.__new__(worker_module.ThreadWorker)
    worker.cfg = SimpleNamespace(threads=3)
    worker._queue_lock, worker._queued, worker._busy = threading.Lock(), 0, 3
    worker._waiters, worker._thread_pipe = collections.deque(), threading.local()

    pairs = [socket.socketpair() for _ in range(3)]
    results: dict[str, bool] = {}
    threads = {}
    for name, (ours, _) in zip("ABC", pairs, strict=True):
        conn = SimpleNamespace(sock=ours, parser=SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO())))
        threads[name] = threading.Thread(target=lambda n=name, c=conn: results.__setitem__(n, worker._next_request_comes(c)))
        waiting, started = len(worker._waiters) + 1, time.monotonic()
        threads[name].start()
        while len(worker._waiters) < waiting:  # A waits first, then B, then C
            assert threads[name].is_alive() and time.monotonic() - started < 10, f"{name} is not waiting"
            time.sleep(0.01)
    try:
        worker.enqueue_req(object())  # no free thread: 1 queued > 3 threads - 3 busy
        threads["A"].join(10)
        assert results == {"A": False}
        assert threads["B"].is_alive() and threads["C"].is_alive()
        pairs[1][1].sendall(b"GET / HTTP/1.1\r\n\r\n")  # B's next request
        threads["B"].join(10)
        assert results == {"A": False, "B": True}
        worker.enqueue_req(object())
        threads["C"].join(10)
        assert results == {"A": False, "B": True, "C": False}
        assert not worker._waiters
    finally:
        for _, theirs in pairs:
            theirs.sendall(b"x")  # ends any wait left, whatever happened above
        for thread in threads.values():
            thread.join(10)
        for ours, theirs in pairs:
            ours.close()
            theirs.close()
