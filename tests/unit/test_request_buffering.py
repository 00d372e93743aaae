"""When the serving worker counts a request as arrived: only then does it take a request thread."""

from __future__ import annotations

import logging
import os
import selectors
import socket
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn

from bot import request_buffering
from bot.request_buffering import MAX_HEADER_BYTES, Arrival, RequestBufferingWorker, arrival

HEAD = b"POST /slack/events HTTP/1.1\r\nHost: epos\r\n"


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (b"", Arrival.PARTIAL),
        (HEAD, Arrival.PARTIAL),
        (b"GET /healthz HTTP/1.1\r\nHost: epos\r\n\r\n", Arrival.WHOLE),
        (HEAD + b"Content-Length: 10\r\n\r\n12345", Arrival.PARTIAL),
        (HEAD + b"content-length: 5\r\n\r\n12345", Arrival.WHOLE),
        # A pipelined request behind the body stays for the parser.
        (HEAD + b"Content-Length: 5\r\n\r\n12345GET / HTTP/1.1\r\n", Arrival.WHOLE),
        (HEAD + b"Content-Length: 10\r\nExpect: 100-continue\r\n\r\n", Arrival.PARTIAL_EXPECTING_CONTINUE),
        (HEAD + b"Content-Length: 1000001\r\n\r\n", Arrival.BODY_TOO_LARGE),
        # Framing the worker cannot judge goes to gunicorn's parser, which answers 400.
        (HEAD + b"Content-Length: -5\r\n\r\n", Arrival.WHOLE),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", Arrival.PARTIAL),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Arrival.WHOLE),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Arrival.WHOLE),
        (HEAD + b"X-Long: " + b"a" * MAX_HEADER_BYTES, Arrival.HEADERS_TOO_LARGE),
    ],
)
def test_arrival(received: bytes, expected: Arrival) -> None:
    assert arrival(received) is expected


# ----- the worker's event loop, driven by hand over loopback sockets ----------------------------------


@pytest.fixture
def worker() -> Iterator[RequestBufferingWorker]:
    serving = RequestBufferingWorker(0, os.getpid(), [], None, 30, Config(), logging.getLogger("gunicorn.test"))
    serving.tpool = ThreadPoolExecutor(max_workers=1)
    serving.poller = selectors.DefaultSelector()
    yield serving
    serving.tpool.shutdown(wait=False)
    serving.poller.close()
    serving.tmp.close()


def connect(serving: RequestBufferingWorker) -> socket.socket:
    """A client connection as the worker's accept() hands it on; the client's end is returned."""
    client, server_side = socket.socketpair()
    client.settimeout(5)
    serving.nr_conns += 1
    serving.enqueue_req(TConn(serving.cfg, server_side, ("127.0.0.1", 0), ("127.0.0.1", 3000)))
    return client


def turn(serving: RequestBufferingWorker, times: int = 5) -> None:
    for _ in range(times):
        serving.wait_for_and_dispatch_events(timeout=0.05)


def test_past_its_memory_budget_the_worker_refuses_new_bytes_with_503(
    worker: RequestBufferingWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_buffering, "MAX_GATHERED_BYTES", 4000)
    first, second = connect(worker), connect(worker)
    first.sendall(HEAD + b"Content-Length: 50000\r\n\r\n" + b"x" * 3000)
    turn(worker)
    second.sendall(HEAD + b"Content-Length: 50000\r\n\r\n" + b"x" * 3000)
    turn(worker)
    assert second.recv(4096).startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert second.recv(4096) == b""  # and closed
    assert len(worker.arriving) == 1 and worker.nr_conns == 1
    # The first is still gathered, and its bytes still count.
    assert worker.gathered_bytes == len(HEAD) + len(b"Content-Length: 50000\r\n\r\n") + 3000
    first.close()
    turn(worker)
    assert worker.arriving == deque() and worker.gathered_bytes == 0 and worker.nr_conns == 0
    second.close()
