"""`epos serve` for real: gunicorn in its own process, signed requests over loopback, and its logs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slackmock import MockSlack
from bot.web import SLACK_PATH
from bot.wire import SlackWire
from tests.conftest import BOT_TOKEN, SE, SIGNING_SECRET, answer_to

MARKER = "zebra-7731-observability"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(database_url: str, slack: MockSlack, tmp_path: Path) -> Iterator[tuple[SlackWire, Path]]:
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "DEBUG",
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
    assert wire.block_action("no_such_action", user_id=SE, value=MARKER).status in (200, 404)
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
