"""When the serving worker counts a request as arrived: only then does it take a request thread."""

from __future__ import annotations

import pytest

from bot.request_buffering import MAX_HEADER_BYTES, Arrival, arrival

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
