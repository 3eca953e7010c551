"""The DynamoDB client's HTTP/1.1 response parser (itemstore.transport.Connection) against a
maintained parser, h11, on the same bytes.

Each input is a whole answer (1xx answers first, then the final one: Content-Length, chunked with
extensions and trailers, or a body that runs to the end of the connection), written by the peer of
a real socket pair that then closes its side; ``Connection.exchange`` reads it as it reads
DynamoDB's answers. h11 is given the same request (``POST /``) and the same bytes, then the end of
the connection. Wherever h11 reads an answer, ours must read the same status, headers (lowercase
names, repeated fields joined with ", "), body and whether the connection can be reused; wherever
h11 refuses the bytes, ours must raise BadResponse. Ours is stricter on purpose where STRICTER
says so. The second test damages generated answers (one byte replaced, removed or added) to reach
the refusals.

Found this way and fixed in the parser: a 204 or 304 with a Content-Length read a body; a status
line, header, chunk-size or trailer line outside the grammar was read as best it could be; a
Transfer-Encoding other than chunked was read to the end of the connection; "Connection" options
were matched as substrings.
"""

from __future__ import annotations

import socket
import threading

import h11
import pytest
from hypothesis import HealthCheck, assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from itemstore.transport import BadResponse, Connection

REQUEST = b"POST / HTTP/1.1\r\nHost: dynamodb\r\nContent-Length: 2\r\n\r\n{}"
READ_TIMEOUT = 5.0


def ours(data: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    """What Connection.exchange reads from a peer that answers ``data`` and closes."""
    near, far = socket.socketpair()
    connection = Connection(near)

    def peer() -> None:
        try:
            far.recv(65536)  # the request
            far.sendall(data)
        finally:
            far.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    try:
        status, headers, body = connection.exchange(REQUEST, READ_TIMEOUT)
        return status, headers, body, connection.reusable
    finally:
        thread.join(10)
        connection.close()
        far.close()


class Refused(Exception):
    """h11 does not read a complete answer from these bytes."""


def theirs(data: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    """What h11, as the client of the same request, reads from ``data`` followed by the end of the
    connection: the final answer's status, headers (joined as ours joins them), body, and whether
    h11 would send another request on the connection (the answer ended without the connection's
    end, and h11's states are DONE, not MUST_CLOSE)."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="POST", target="/", headers=[("Host", "dynamodb"), ("Content-Length", "2")]))
    client.send(h11.Data(data=b"{}"))
    client.send(h11.EndOfMessage())
    client.receive_data(data)
    response, chunks, closed = None, [], False
    while True:
        try:
            event = client.next_event()
        except h11.RemoteProtocolError as error:
            raise Refused(str(error)) from None
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            headers: dict[str, str] = {}
            for name, value in response.headers:
                name, value = name.decode("latin-1"), value.decode("latin-1")
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            reusable = not closed and client.their_state is h11.DONE and client.our_state is h11.DONE
            return response.status_code, headers, b"".join(chunks), reusable
        elif event is h11.NEED_DATA and not closed:
            client.receive_data(b"")  # the peer has closed: a body that runs to the end ends here
            closed = True
        else:  # NEED_DATA after the end, or ConnectionClosed: the answer ended before it was complete
            raise Refused(f"incomplete answer ({event!r})")


def _ours_or_refused(data: bytes):
    try:
        return ours(data)
    except BadResponse as error:
        return error


def _not_http_1(data: bytes) -> bool:
    # h11 reads any digit.digit version ("HTTP/0.1", "HTTP/7.1") as HTTP/1.x; ours refuses every
    # status line that is not HTTP/1.x, on purpose: DynamoDB and any proxy before it speak 1.1.
    return any(not line.startswith(b"HTTP/1.") for line in data.split(b"\r\n") if line[:5] == b"HTTP/")


# Where ours refuses what h11 reads, on purpose: each a predicate on the raw bytes.
STRICTER = (_not_http_1,)


def check_same(data: bytes) -> None:
    mine = _ours_or_refused(data)
    try:
        expected = theirs(data)
    except Refused as refusal:
        if isinstance(mine, BadResponse):
            return
        pytest.fail(f"h11 refuses ({refusal}) what ours reads as {mine!r}: {data!r}")
    if isinstance(mine, BadResponse) and any(rule(data) for rule in STRICTER):
        return
    assert not isinstance(mine, BadResponse), f"ours refuses ({mine}) what h11 reads as {expected!r}: {data!r}"
    status, headers, body, reusable = mine
    # h11 hands Transfer-Encoding back lowercased; codings are case-insensitive (RFC 9112, 7).
    for fields in (headers, expected[1]):
        if "transfer-encoding" in fields:
            fields["transfer-encoding"] = fields["transfer-encoding"].lower()
    assert (status, headers, body) == expected[:3], data
    # h11 never keeps an HTTP/1.0 connection (it does not implement 1.0 keep-alive); ours keeps one
    # only when the answer asks for it, which the 1.1 cases compare.
    if b"HTTP/1.0" not in data:
        assert reusable == expected[3], data


# Generated answers. Field names and values as DynamoDB and proxies send them, plus odd spacing.
TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=12)
VALUE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=30).map(str.strip)
EXTRA_HEADER = st.one_of(
    st.tuples(st.sampled_from(["x-amzn-RequestId", "x-amz-crc32", "Content-Type", "Date", "Server"]), VALUE),
    st.tuples(TOKEN.filter(lambda n: n.lower() not in ("content-length", "transfer-encoding", "connection")), VALUE),
)
STATUS = st.one_of(st.sampled_from([200, 204, 304, 400, 413, 429, 500, 503]), st.integers(200, 599))
INFORMATIONAL = st.lists(st.sampled_from([100, 102, 103]), max_size=2)
BODY = st.binary(max_size=200)


def _head(version: str, status: int, headers: list[tuple[str, str]], spacing: str = " ") -> bytes:
    lines = [f"{version} {status} Reason"] + [f"{name}:{spacing}{value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@st.composite
def answers(draw) -> bytes:
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0"]))
    status = draw(STATUS)
    headers = draw(st.lists(EXTRA_HEADER, max_size=5))
    connection = draw(st.sampled_from([None, "close", "keep-alive", "Keep-Alive", "Close"]))
    if connection is not None:
        headers.append(("Connection", connection))
    body = draw(BODY)
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    if status in (204, 304):
        framing = draw(st.sampled_from(["none", "length"]))  # a length here announces no body
    if framing == "length":
        headers.append(("Content-Length", str(len(body))))
        payload = body if status not in (204, 304) else b""
    elif framing == "chunked":
        headers.append(("Transfer-Encoding", draw(st.sampled_from(["chunked", "Chunked"]))))
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True) if b > a]
        payload = b""
        for piece in pieces:
            extension = draw(st.sampled_from([b"", b";name=value", b";ext"]))
            payload += b"%x%s\r\n%s\r\n" % (len(piece), extension, piece)
        trailers = draw(st.lists(st.tuples(TOKEN, VALUE), max_size=2))
        payload += b"0\r\n" + b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in trailers) + b"\r\n"
    elif framing == "close":
        payload = body
    else:
        payload = b""
    head = _head(version, status, headers, draw(st.sampled_from([" ", "", "  ", "\t"])))
    preface = b"".join(_head("HTTP/1.1", code, []) for code in draw(INFORMATIONAL))
    return preface + head + payload


@st.composite
def damaged(draw) -> bytes:
    """A generated answer with one byte replaced, removed or added: mostly refused by both."""
    data = bytearray(draw(answers()))
    where = draw(st.integers(0, len(data) - 1))
    how = draw(st.sampled_from(["replace", "delete", "insert"]))
    byte = draw(st.sampled_from(b"\r\n :;0aZ\x00\x7f\xff-"))
    if how == "replace":
        data[where] = byte
    elif how == "delete":
        del data[where]
    else:
        data.insert(where, byte)
    return bytes(data)


SETTINGS = hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(answers())
# DynamoDB's own shape, a chunked answer, a 100 Continue before the answer, a body to the close.
@example(b"HTTP/1.1 200 OK\r\nx-amzn-RequestId: R\r\nx-amz-crc32: 2745614147\r\n"
         b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}")
@example(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a=b\r\n{\r\n1\r\n}\r\n0\r\nX-T: 1\r\n\r\n")
@example(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
@example(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\nbusy")
@example(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}")
@example(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n")
def test_ours_reads_every_answer_as_h11_reads_it(data):
    check_same(data)


@SETTINGS
@given(damaged())
@example(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}")  # the connection closes mid-body
@example(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}")  # mid-chunk
@example(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n{}")
@example(b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}")
@example(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
@example(b"HTTP/2 200\r\n\r\n")
@example(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n")
def test_what_h11_refuses_ours_refuses_too(data):
    assume(data.startswith(b"HTTP/"))  # a damaged version is refused by both, trivially
    check_same(data)
