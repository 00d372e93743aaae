"""`epos serve` stops whole: no worker outlives its master, and a worker told to stop is gone within
STOP_GRACE, even while its threads are busy with work they acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.web import SLACK_PATH
from tests.conftest import BOT_TOKEN, SE, SIGNING_SECRET
from tests.integration.test_serve_process import free_port
from tests.support.processes import children_of, running
from tests.support.slack import MockSlack
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

STOP_GRACE_SECONDS = 2
# Far longer than STOP_GRACE: a listener posting its answer to Slack meanwhile is busy for all of it
# (the client gives up after 30 s), so only a bounded stop ends the worker in time.
SLOW_SLACK_SECONDS = 60
# Well past STOP_GRACE and the watch's half second, well short of the slow Slack: room for a busy machine.
GONE_WITHIN_SECONDS = 20


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    wire: SlackWire
    log_path: Path

    @property
    def workers(self) -> list[int]:
        return children_of(self.process.pid)


@pytest.fixture
def server(database_url: str, slack: MockSlack, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url, "STOP_GRACE": f"{STOP_GRACE_SECONDS}s", "LOG_FORMAT": "text",
        # Someone who may list engagements, so the busy work is an answer being posted, not a refusal.
        "EPOS_READERS": SE,
    }
    with log_path.open("w") as log_file:
        # A session of its own: whatever the test does to the master, the group is killed at the end.
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    return response.status == 200
            except OSError:
                return process.poll() is not None

        assert eventually(healthy, timeout=60) and process.poll() is None, log_path.read_text()
        assert eventually(lambda: len(children_of(process.pid)) == 2, timeout=30)
        yield Server(process, SlackWire(base + SLACK_PATH, SIGNING_SECRET, response_url_base=slack.base_url), log_path)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=20)


def keep_busy(server: Server, slack: MockSlack, commands: int = 12) -> None:
    """Send commands whose answers go to a Slack that takes a minute to take them, and wait until the
    listeners are posting them: each worker then has acknowledged work under way."""
    slack.fail("response_url", delay=SLOW_SLACK_SECONDS, times=commands * 4)
    posting: list[str] = []
    slack.on_arrival(lambda method: posting.append(method) if method == "response_url" else None)
    for n in range(commands):
        assert server.wire.command("/engagement", "list", user_id=SE, response_name=f"busy-{n}").status == 200
    assert eventually(lambda: len(posting) >= commands, timeout=30)


def gone(pids: list[int]) -> bool:
    return not any(running(pid) for pid in pids)


def test_no_worker_outlives_a_master_killed_while_they_are_busy(server: Server, slack: MockSlack) -> None:
    workers = server.workers
    keep_busy(server, slack)
    started = time.monotonic()
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    assert eventually(lambda: gone(workers), timeout=GONE_WITHIN_SECONDS), (
        f"workers {[pid for pid in workers if running(pid)]} still running "
        f"{time.monotonic() - started:.0f} s after their master was killed:\n" + server.log_path.read_text())
    assert "the gunicorn master" in server.log_path.read_text()


def test_a_worker_sent_sigterm_stops_within_stop_grace_while_busy(server: Server, slack: MockSlack) -> None:
    """As systemd, Docker or a bench stopping a whole process group do: every process gets SIGTERM."""
    workers = server.workers
    keep_busy(server, slack)
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
    assert eventually(lambda: gone(workers), timeout=GONE_WITHIN_SECONDS), server.log_path.read_text()
    logged = server.log_path.read_text()
    assert "STOP_GRACE (2s) ran out" in logged and "unfinished work cut off" in logged
    # The master carries on with new workers, which answer.
    assert eventually(lambda: len(set(server.workers) - set(workers)) == 2, timeout=60)
    assert server.wire.command("/asset", "help", user_id=SE).status == 200


def test_sigterm_to_the_server_stops_master_and_busy_workers_within_stop_grace(server: Server, slack: MockSlack) -> None:
    workers = server.workers
    keep_busy(server, slack)
    stopped = threading.Event()
    threading.Thread(target=lambda: (server.process.wait(), stopped.set()), daemon=True).start()
    os.killpg(server.process.pid, signal.SIGTERM)
    assert stopped.wait(GONE_WITHIN_SECONDS) and eventually(lambda: gone(workers), timeout=5), server.log_path.read_text()
