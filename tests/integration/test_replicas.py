"""Several epos processes on one database: each scheduled thing happens once, and a process killed
with SIGKILL in the middle of a job loses nothing.

Real processes (`epos scheduler --once --at …`, the entry point a deployment runs) tick at the same
instant against the test's mock Slack. SQLite runs them too: its writers queue on the file lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot import db
from bot.config import Settings
from bot.services import claims, devrel
from bot.services.actors import Actor
from models import DevRelRequest, DevRelRequestEvent
from models.schemas.devrel import DevRelPolicy, RequestDraft
from tests.conftest import BOT_TOKEN, SE
from tests.devrel_helpers import LENA, add_engagement, load_roster
from tests.scheduler_helpers import SE2, hand_computed_week
from tests.support.slack import Call, MockSlack

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_NINE = datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)  # the digest slot, and nudge time for both SEs
WEEK = "2026-W47"
REPLICAS = 3


def environment(settings: Settings, slack: MockSlack) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": settings.database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "EPOS_TIMEZONE": "Europe/Berlin",
        "DIGEST_CHANNEL": "C0DIGEST1",
        "DEVREL_CHANNEL": "C0DEVREL1",
        "LOG_LEVEL": "WARNING",
    }


def start(at: datetime, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "bot", "scheduler", "--once", "--at", at.isoformat()]
    return subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def tick_together(at: datetime, env: dict[str, str], cwd: Path, count: int = REPLICAS) -> None:
    """`count` processes ticking at the same instant; each must finish cleanly."""
    processes = [start(at, env, cwd) for _ in range(count)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert "Traceback" not in err, err


def posted(slack: MockSlack) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if "_fault" not in c.params]


def digest_posts(slack: MockSlack) -> list[Call]:
    return [c for c in posted(slack) if c.params["channel"] == "C0DIGEST1" and not c.params.get("thread_ts")]


@pytest.fixture
def timed_out_request(database_url: str) -> int:
    """A DevRel request whose first ask (Lena) timed out just before Monday 09:00."""
    load_roster()
    engagement_id = add_engagement(at=MONDAY_NINE.astimezone(UTC) - timedelta(days=10))
    asked_at = MONDAY_NINE.astimezone(UTC) - timedelta(hours=3)
    meeting = datetime(2026, 11, 25, 15, 0, tzinfo=BERLIN).astimezone(UTC)
    update_ = devrel.create_request(
        Actor(user_id=SE),
        RequestDraft(engagement_id=engagement_id, meeting_start=meeting, duration_minutes=60, topics=["observability"],
                     meeting_link="https://meet.example.com/abc", customer_asked="Can traces cross Kafka?",
                     promised="", held_in_reserve=""),
        policy=DevRelPolicy(lead_channel="C0DEVREL1", escalate_after=timedelta(hours=2)), now=asked_at,
    )
    assert update_.request.candidate_id == LENA
    with db.transaction() as session:
        session.execute(update(DevRelRequest).where(DevRelRequest.id == update_.request.id)
                        .values(escalate_at=MONDAY_NINE.astimezone(UTC) - timedelta(minutes=1)))
    return update_.request.id


def events(request_id: int) -> list[tuple[str, str | None]]:
    with db.reading() as session:
        rows = session.scalars(select(DevRelRequestEvent).where(DevRelRequestEvent.request_id == request_id)
                               .order_by(DevRelRequestEvent.id))
        return [(row.kind, row.subject_id) for row in rows]


def test_three_scheduler_processes_post_each_thing_once(settings: Settings, slack: MockSlack, timed_out_request: int,
                                                         tmp_path: Path) -> None:
    slack.add_user(SE, name="Dana Reyes", tz="Europe/Berlin")
    slack.add_user(SE2, name="Sam Okafor", tz="Europe/Berlin")
    hand_computed_week()
    env = environment(settings, slack)

    tick_together(MONDAY_NINE, env, tmp_path)
    # A minute later every replica ticks again: nothing is done twice.
    tick_together(MONDAY_NINE + timedelta(minutes=1), env, tmp_path)

    assert len(digest_posts(slack)) == 1
    state = claims.state("digest", WEEK)
    assert state is not None and state.done and state.attempts == 1
    # One nudge DM per SE for the day.
    nudged = sorted(c.params["channel"] for c in posted(slack)
                    if c.params["channel"] in (SE, SE2) and "stale engagement" in c.params.get("text", ""))
    assert nudged == [SE, SE2]
    # One escalation of the timed-out ask: Lena's turn ended once, and the next person was asked once.
    kinds = events(timed_out_request)
    assert [k for k, _ in kinds].count("escalated") == 1
    asks = [subject for kind, subject in kinds if kind == "asked"]
    assert len(asks) == 2 and asks[0] == LENA and asks[1] != LENA
    assert len([c for c in posted(slack) if c.params["channel"] == asks[1]]) == 1
    told = [c for c in posted(slack) if c.params["channel"] == SE and "did not answer" in c.params.get("text", "")]
    assert len(told) == 1  # the requester hears of it once


def test_a_process_killed_while_posting_the_digest_loses_nothing(settings: Settings, slack: MockSlack,
                                                                tmp_path: Path) -> None:
    hand_computed_week()
    env = environment(settings, slack)
    # Tuesday early morning: the digest is still to be caught up, and no nudge is due yet.
    tuesday = datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN)
    in_flight = threading.Event()

    def watch(method: str) -> None:
        if method == "chat.postMessage":
            in_flight.set()

    slack.on_arrival(watch)
    # The digest post hangs in Slack and its connection is dropped: Slack never takes it.
    slack.fail("chat.postMessage", delay=30, drop=True, times=1)

    victim = start(tuesday, env, tmp_path)
    try:
        assert in_flight.wait(60), victim.communicate(timeout=5)
        state = claims.state("digest", WEEK)
        assert state is not None and not state.done
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert victim.returncode == -signal.SIGKILL

    # Its lease still holds: another process leaves the week alone rather than risk posting it twice.
    tick_together(tuesday + timedelta(minutes=1), env, tmp_path, count=1)
    assert digest_posts(slack) == []
    # Once the lease has run out, the next tick takes the week over and posts it exactly once.
    tick_together(tuesday + timedelta(minutes=11), env, tmp_path, count=1)
    tick_together(tuesday + timedelta(minutes=12), env, tmp_path, count=1)
    assert len(digest_posts(slack)) == 1
    state = claims.state("digest", WEEK)
    assert state is not None and state.done and state.attempts == 2


def watch_posts(slack: MockSlack, nth: int) -> threading.Event:
    """An event set when the `nth` chat.postMessage reaches the mock (before any delay it is given)."""
    reached = threading.Event()
    seen = [0]

    def watch(method: str) -> None:
        if method == "chat.postMessage":
            seen[0] += 1
            if seen[0] == nth:
                reached.set()

    slack.on_arrival(watch)
    return reached


def test_a_process_killed_before_an_escalated_ask_reached_slack_loses_no_ask(
        settings: Settings, slack: MockSlack, timed_out_request: int, tmp_path: Path) -> None:
    env = {k: v for k, v in environment(settings, slack).items() if k != "DIGEST_CHANNEL"}
    early = datetime(2026, 11, 23, 7, 0, tzinfo=BERLIN)  # before nudge time; the ask timed out at 06:59 UTC-ish
    with db.transaction() as session:
        session.execute(update(DevRelRequest).where(DevRelRequest.id == timed_out_request)
                        .values(escalate_at=early.astimezone(UTC) - timedelta(minutes=1)))
    # The escalation first tells the requester, then asks the next person: that ask hangs and is dropped.
    ask_in_flight = watch_posts(slack, nth=2)
    slack.fail("chat.postMessage", times=1)
    slack.fail("chat.postMessage", delay=30, drop=True, times=1)

    victim = start(early, env, tmp_path)
    try:
        assert ask_in_flight.wait(60), victim.communicate(timeout=5)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    kinds = events(timed_out_request)
    asked = [subject for kind, subject in kinds if kind == "asked"][-1]
    assert asked != LENA and [k for k, _ in kinds].count("escalated") == 1

    def asks_to(person: str) -> list[Call]:
        return [c for c in posted(slack) if c.params["channel"] == person]

    # A minute later the ask may still be on its way from a live process: it is left alone.
    tick_together(early + timedelta(minutes=1), env, tmp_path, count=1)
    assert asks_to(asked) == []
    # Later, the ask nobody delivered is sent, once, however many processes tick.
    tick_together(early + timedelta(minutes=6), env, tmp_path, count=2)
    tick_together(early + timedelta(minutes=7), env, tmp_path, count=2)
    assert len(asks_to(asked)) == 1
    assert [k for k, _ in events(timed_out_request)].count("escalated") == 1
