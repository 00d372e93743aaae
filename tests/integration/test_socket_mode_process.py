"""`epos run` for real: its own process, connected through the mock Slack's `apps.connections.open` to a
loopback Socket Mode server, answering envelopes, and stopping on SIGTERM without cutting work off."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import BOT_TOKEN, SE, SELLER, answer_to
from tests.support.slack import MockSlack
from tests.support.socket_mode import NOT_ACKNOWLEDGED, SocketModeServer, SocketModeWire
from tests.support.waiting import eventually

APP_TOKEN = "xapp-1-A0EPOS001-0000-process"
HOME_EVENT = {"type": "app_home_opened", "user": SE, "channel": "D0HOME01", "tab": "home", "event_ts": "1700000000.1"}

Started = tuple[subprocess.Popen[bytes], Path]


@pytest.fixture
def socket_server(slack: MockSlack) -> Iterator[SocketModeServer]:
    with SocketModeServer() as server:
        yield server.attach(slack)


@pytest.fixture
def epos_run(database_url: str, slack: MockSlack, socket_server: SocketModeServer,
             tmp_path: Path) -> Iterator[Callable[..., Started]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> Started:
        log_path = tmp_path / "run.log"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "INFO",
            **settings,
        }
        with log_path.open("w") as log_file:
            process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
                                       stdout=log_file, stderr=subprocess.STDOUT)
        started.append(process)
        try:
            socket_server.wait_connected(timeout=60)
        except AssertionError:
            raise AssertionError("epos run did not connect:\n" + log_path.read_text()) from None
        return process, log_path

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_epos_run_answers_then_finishes_acknowledged_work_on_sigterm_and_exits_0(
    epos_run: Callable[..., Started], socket_server: SocketModeServer, slack: MockSlack
) -> None:
    process, log_path = epos_run()
    wire = SocketModeWire(socket_server, response_url_base=slack.base_url)
    help_answer = answer_to(wire.command("/asset", "help", user_id=SE), slack)
    assert "How to find field assets" in help_answer.params["text"]

    # Work in flight: the event is acked at once, and publishing the home takes Slack three seconds.
    slack.fail("views.publish", delay=3)
    assert wire.event(HOME_EVENT, event_id="Ev0RUN00001").status == 200
    process.send_signal(signal.SIGTERM)
    assert eventually(lambda: "no longer taking envelopes" in log_path.read_text(), timeout=10), log_path.read_text()
    late = wire.event_while_stopping({**HOME_EVENT, "user": SELLER}, event_id="Ev0RUN00002")

    assert process.wait(timeout=30) == 0, log_path.read_text()
    assert [c.params["user_id"] for c in slack.calls_to("views.publish")] == [SE], "acked work was cut off"
    assert late is None or late.status == NOT_ACKNOWLEDGED, "an envelope that came after SIGTERM was taken"
    assert socket_server.opened == 1, "the stopping process connected again"
    logs = log_path.read_text()
    assert "received SIGTERM" in logs
    # Whether `late` reached the process before its connection closed is a matter of timing: sent but not
    # read, it is left unacknowledged all the same. The line logged when one is read during a stop is
    # tests/integration/test_socket_mode.py's to check, where the stop is held open.
    assert "all acknowledged work is done" in logs
    assert "Traceback" not in logs
    assert BOT_TOKEN not in logs and APP_TOKEN not in logs


def test_epos_run_cuts_work_off_when_stop_grace_runs_out_and_says_so(
    epos_run: Callable[..., Started], socket_server: SocketModeServer, slack: MockSlack
) -> None:
    process, log_path = epos_run(STOP_GRACE="1s")
    wire = SocketModeWire(socket_server, response_url_base=slack.base_url)
    slack.fail("views.publish", delay=60)
    assert wire.event(HOME_EVENT, event_id="Ev0RUN00003").status == 200
    process.send_signal(signal.SIGTERM)
    # STOP_GRACE is the behaviour: the process ends long before the work it gave up on would have.
    assert process.wait(timeout=30) == 1, log_path.read_text()
    # At least the Home publish Slack holds up; on a busy machine another short piece of work may be pending too.
    assert re.search(r"STOP_GRACE \(1s\) ran out: stopping with unfinished work cut off \([1-9]\d* pending\)",
                     log_path.read_text())


def test_epos_run_with_a_token_slack_refuses_says_what_to_check_and_exits_2(
    database_url: str, slack: MockSlack, tmp_path: Path
) -> None:
    slack.answers["apps.connections.open"] = lambda _params: {"ok": False, "error": "invalid_auth"}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "epos: Slack refused to open a Socket Mode connection (invalid_auth); check that SLACK_APP_TOKEN is the "
        "app-level token (xapp-…) with connections:write and that Socket Mode is on "
        "(see README › Create the Slack app)"
    )
    assert "Traceback" not in result.stderr and APP_TOKEN not in result.stderr
