"""The gunicorn worker `epos serve` runs: a request takes a thread only once it has arrived whole.

gunicorn's gthread worker gives a connection to a request thread as soon as it is readable, and the
thread then blocks reading the body for as long as the client cares to send it. Eight clients that
announce a body and stall held every thread of the default two processes. Here the worker's event loop
gathers each request (headers and the body its Content-Length announces) without a thread, and drops
it with 408 when it is still not whole after REQUEST_READ_SECONDS. A stalled client then costs a socket
and a few bytes, never a thread, however many there are.

A read deadline alone would not do: a thread would still wait out the deadline for each stalled request
in turn, so 50 of them on 8 threads keep Slack's requests queued for several deadlines.
"""

from __future__ import annotations

import enum
import selectors
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from bot.web import MAX_BODY_BYTES

# Slack gives up on a request after 3 s; one still arriving after 5 s can never be answered in time.
REQUEST_READ_SECONDS = 5.0
MAX_HEADER_BYTES = 64 * 1024
RECEIVE_BYTES = 64 * 1024
# Gathering moves a stalled request from a thread to memory; this bounds that memory per process. Slack's
# requests are a few kilobytes, so only a flood of large bodies ever meets it (and gets 503).
MAX_GATHERED_BYTES = 64 * 1024 * 1024


class Arrival(enum.Enum):
    PARTIAL = "partial"
    PARTIAL_EXPECTING_CONTINUE = "partial, the client waits for 100 Continue"
    WHOLE = "whole"
    BODY_TOO_LARGE = "413 Content Too Large"
    HEADERS_TOO_LARGE = "431 Request Header Fields Too Large"


def arrival(received: bytes | bytearray, max_body: int = MAX_BODY_BYTES) -> Arrival:
    """How much of the HTTP/1.1 request starting at `received` is here.

    Framing it cannot judge (a malformed length, say) counts as whole: gunicorn's parser then answers it.
    """
    end = received.find(b"\r\n\r\n")
    if end < 0:
        return Arrival.HEADERS_TOO_LARGE if len(received) > MAX_HEADER_BYTES else Arrival.PARTIAL
    fields: dict[str, str] = {}
    for line in bytes(received[:end]).decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), value.strip().lower())
    body = received[end + 4:]
    if "chunked" in fields.get("transfer-encoding", ""):
        # The last chunk and an empty trailer section; a body that merely contains them early is handed on
        # early, and the thread reads the rest as gunicorn always did.
        whole = body.startswith(b"0\r\n\r\n") or body.endswith(b"\r\n0\r\n\r\n")
    else:
        length = fields.get("content-length", "0")
        if not length.isdigit():
            return Arrival.WHOLE
        if int(length) > max_body:
            return Arrival.BODY_TOO_LARGE
        whole = len(body) >= int(length)
    if whole:
        return Arrival.WHOLE
    return Arrival.PARTIAL_EXPECTING_CONTINUE if fields.get("expect") == "100-continue" else Arrival.PARTIAL


class RequestBufferingWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, except that the event loop reads each request whole before a thread serves it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # In arrival order, so deadlines are in order too.
        self.arriving: deque[Any] = deque()
        self.gathered_bytes = 0

    def enqueue_req(self, conn: Any) -> None:
        # Every way gunicorn hands a connection to a thread passes here, in the event loop's thread: a new
        # connection, a kept-alive one that became readable, one with a pipelined request read ahead.
        conn.received = bytearray(conn.parser.unreader.take_buffered() if conn.parser else b"")
        self.gathered_bytes += len(conn.received)
        conn.read_deadline = time.monotonic() + REQUEST_READ_SECONDS
        conn.continue_sent = False
        conn.sock.setblocking(False)
        if not self.judge(conn):
            self.arriving.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_request_bytes, conn))

    def on_request_bytes(self, conn: Any, _sock: Any) -> None:
        try:
            data = conn.sock.recv(RECEIVE_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before its request was whole
            self.stop_waiting(conn)
            self.gathered_bytes -= len(conn.received)
            self.nr_conns -= 1
            conn.close()
            return
        if self.gathered_bytes + len(data) > MAX_GATHERED_BYTES:
            self.stop_waiting(conn)
            self.refuse(conn, "503 Service Unavailable")
            return
        self.gathered_bytes += len(data)
        conn.received += data
        self.judge(conn)

    def judge(self, conn: Any) -> bool:
        """Hand the request to a thread or refuse it when it allows; False while more of it is due."""
        state = arrival(conn.received)
        if state is Arrival.WHOLE:
            self.stop_waiting(conn)
            self.gathered_bytes -= len(conn.received)
            conn.sock.setblocking(True)
            super().enqueue_req(conn)
            return True
        if state in (Arrival.BODY_TOO_LARGE, Arrival.HEADERS_TOO_LARGE):
            self.stop_waiting(conn)
            self.refuse(conn, state.value)
            return True
        if state is Arrival.PARTIAL_EXPECTING_CONTINUE and not conn.continue_sent:
            # The client sends its body only after this; gunicorn may say it again later, which HTTP allows.
            conn.continue_sent = True
            self.send_quietly(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
        return False

    def stop_waiting(self, conn: Any) -> None:
        """Stop gathering this connection's request (a no-op when it was never waited for)."""
        if conn not in self.arriving:
            return
        self.arriving.remove(conn)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def refuse(self, conn: Any, status: str) -> None:
        self.gathered_bytes -= len(conn.received)
        self.send_quietly(conn, f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        self.nr_conns -= 1
        conn.close()

    @staticmethod
    def send_quietly(conn: Any, data: bytes) -> None:
        # A short answer fits the socket's send buffer; a client that cannot take it has gone.
        try:
            conn.sock.send(data)
        except OSError:
            pass

    def murder_keepalived(self, force: bool = False) -> None:
        # The event loop calls this at least once a second, and with force=True when it stops.
        super().murder_keepalived(force)
        now = time.monotonic()
        while self.arriving and (force or self.arriving[0].read_deadline <= now):
            conn = self.arriving[0]
            self.stop_waiting(conn)
            self.refuse(conn, "408 Request Timeout")

    def handle(self, conn: Any) -> Any:
        # In the request thread: give the parser what the event loop gathered, then serve as gthread does.
        received, conn.received = bytes(conn.received), bytearray()
        conn.data_ready = True
        conn.init()
        conn.parser.unreader.unread(received)
        return super().handle(conn)
