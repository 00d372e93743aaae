"""`epos serve` for real: gunicorn in its own process, signed requests over loopback, and its logs."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.request_buffering import REQUEST_READ_SECONDS
from bot.web import MAX_BODY_BYTES, SLACK_PATH
from tests.conftest import BOT_TOKEN, SE, SIGNING_SECRET, answer_to
from tests.support.slack import MockSlack
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

MARKER = "zebra-7731-observability"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(request: pytest.FixtureRequest, database_url: str, slack: MockSlack,
           tmp_path: Path) -> Iterator[tuple[SlackWire, Path]]:
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "DEBUG",
        # Parametrize `served` indirectly with "json" for the other log format.
        "LOG_FORMAT": getattr(request, "param", "text"),
    }
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError("epos serve did not come up:\n" + log_path.read_text()) from None
                    time.sleep(0.2)
            yield SlackWire(base + SLACK_PATH, SIGNING_SECRET, response_url_base=slack.base_url), log_path
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_serve_answers_signed_requests_and_logs_no_secrets(served: tuple[SlackWire, Path], slack: MockSlack) -> None:
    wire, log_path = served
    # Answered in the ack, or at the response_url when the index was still being built.
    assert MARKER in answer_to(wire.command("/asset", f"{MARKER} <!channel>", user_id=SE), slack).params["text"]
    # An action no listener takes is refused (404), and its payload stays out of the logs all the same.
    assert wire.block_action("no_such_action", user_id=SE, value=MARKER).status == 404
    assert wire.event({"type": "app_home_opened", "user": SE, "tab": "home", "channel": "D1"}).status == 200
    unsigned = wire.post(json.dumps({"type": "event_callback"}).encode(), content_type="application/json", signature="v0=bad")
    assert unsigned.status == 401

    time.sleep(0.5)  # let the worker flush what the handlers logged after their ack
    logs = log_path.read_text()
    assert "Booting worker" in logs or "Listening at" in logs
    assert BOT_TOKEN not in logs
    assert SIGNING_SECRET not in logs
    assert "xoxb-" not in logs
    assert MARKER not in logs, "a payload (or part of one) reached the logs"


def read_response(connection: socket.socket) -> bytes:
    """One whole HTTP response with a Content-Length, read from a raw connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(4096)
        assert chunk, f"the server closed the connection after {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        chunk = connection.recv(4096)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return head + b"\r\n\r\n" + body


def slow_request(port: int, *, kept_alive: bool) -> socket.socket:
    """A connection that announces a 5,000-byte signed body and sends 8 bytes of it, then stalls; when
    `kept_alive`, it does so as the second request on its connection."""
    stalled = socket.create_connection(("127.0.0.1", port), timeout=5)
    if kept_alive:
        stalled.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert read_response(stalled).startswith(b"HTTP/1.1 200")
    stalled.sendall(
        f"POST {SLACK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n"
        f"X-Slack-Request-Timestamp: {int(time.time())}\r\nX-Slack-Signature: v0=00\r\n\r\n"
        "command=".encode()
    )
    return stalled


def closed_by_server(connection: socket.socket, deadline: float) -> bool:
    """Whether the server closed the connection before `deadline` (what it said first does not matter)."""
    while (left := deadline - time.monotonic()) > 0:
        connection.settimeout(left)
        try:
            if not connection.recv(4096):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
    return False


def test_slow_connections_hold_no_request_thread(served: tuple[SlackWire, Path], slack: MockSlack) -> None:
    wire, log_path = served
    port = int(wire.url.split(":")[2].split("/")[0])
    stalled = [slow_request(port, kept_alive=index % 2 == 1) for index in range(50)]
    try:
        time.sleep(0.5)  # every stalled request has reached the server and been accepted
        # Both workers: several requests of each kind, on new connections the kernel spreads between them.
        for attempt in range(4):
            started = time.monotonic()
            answered = wire.post_form(wire.command_fields("/asset", "help", user_id=SE), timeout=3)
            assert answered.status == 200 and time.monotonic() - started < 3, f"signed request {attempt}"
            started = time.monotonic()
            with urllib.request.urlopen(wire.url.replace(SLACK_PATH, "/healthz"), timeout=1) as health:
                assert health.status == 200 and time.monotonic() - started < 1, f"healthz {attempt}"
        # A request still not whole after the read deadline is dropped, not kept for ever.
        deadline = time.monotonic() + REQUEST_READ_SECONDS + 10
        still_open = [index for index, connection in enumerate(stalled) if not closed_by_server(connection, deadline)]
        assert still_open == []
        assert "Traceback" not in log_path.read_text()
    finally:
        for connection in stalled:
            connection.close()


def test_requests_the_worker_answers_while_gathering_them(served: tuple[SlackWire, Path]) -> None:
    """What gunicorn did in the request thread, the gathering loop must do too: 100 Continue, 413."""
    wire, _ = served
    port = int(wire.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 5\r\n"
                           "Expect: 100-continue\r\n\r\n".encode())
        assert connection.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        connection.sendall(b"hello")
        answer = b""
        while b"404 Not Found" not in answer:
            chunk = connection.recv(4096)
            assert chunk, f"the server closed the connection after {answer!r}"
            answer += chunk
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"POST {SLACK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode())
        assert connection.recv(4096).startswith(b"HTTP/1.1 413 Content Too Large\r\n")


def test_port_0_logs_the_port_the_system_picked(slack: MockSlack, tmp_path: Path) -> None:
    log_path = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'epos.db'}",
        "LOG_FORMAT": "text",
    }
    pattern = re.compile(r"epos serves Slack at http://127\.0\.0\.1:(\d+)/slack/events")
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1"],
            env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT,
        )
        try:
            assert eventually(lambda: pattern.search(log_path.read_text()) is not None or process.poll() is not None,
                              timeout=30)
            logged = pattern.search(log_path.read_text())
            assert logged is not None, "no address logged:\n" + log_path.read_text()
            port = int(logged.group(1))
            assert port != 0
            assert "http://0.0.0.0:0" not in log_path.read_text() and ":0/slack/events" not in log_path.read_text()

            def healthy() -> bool:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                        return response.status == 200
                except OSError:
                    return False

            assert eventually(healthy, timeout=30), log_path.read_text()
        finally:
            process.terminate()
            process.wait(timeout=20)
