"""The scheduler's tick, its APScheduler wiring, the digest's posting window, pacing and the chart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time as walltime
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from bot import db
from bot import scheduler as scheduler_module
from bot.app import make_client
from bot.charts import digest_chart
from bot.config import Settings, load_settings
from bot.errors import InvalidInput
from bot.jobs import Job
from bot.outbox import Pacer
from bot.services import claims
from bot.services.digest import due_week, parse_week, posting_window, previous_week, week_bounds
from models import EsatSurvey
from models.schemas.digest import TrendPoint
from tests.conftest import SE
from tests.scheduler_helpers import add_engagement, utc
from tests.support.slack import MockSlack

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = (0, time(9, 0))

calls: list[str] = []


def job_ok(client: WebClient, settings: Settings, now: datetime) -> int:
    calls.append("ok")
    return 2


def job_broken(client: WebClient, settings: Settings, now: datetime) -> int:
    calls.append("broken")
    raise RuntimeError("boom")


def job_with_owner(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
    calls.append(f"owner={owner}")
    return 1


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    calls.clear()


# ----- tick ------------------------------------------------------------------------------------
def test_a_failing_job_is_logged_and_the_others_still_run(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    jobs = (
        Job("broken", __name__, "job_broken"),
        Job("ok", __name__, "job_ok"),
        Job("mine", __name__, "job_with_owner", takes_owner=True),
    )
    result = scheduler_module.tick(make_client(settings), settings, datetime.now(UTC), owner="me", jobs=jobs)
    assert calls == ["broken", "ok", "owner=me"]
    assert result == {"ok": 2, "mine": 1}
    assert "scheduled job broken failed" in caplog.text


def test_a_job_that_cannot_be_loaded_fails_loudly_and_the_others_still_run(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = (Job("absent", "bot.jobs.no_such_module", "run"), Job("renamed", __name__, "no_such_function"),
            Job("ok", __name__, "job_ok"))
    result = scheduler_module.tick(make_client(settings), settings, datetime.now(UTC), jobs=jobs)
    assert result == {"ok": 2}
    assert "scheduled job absent failed" in caplog.text and "scheduled job renamed failed" in caplog.text


def test_one_tick_runs_every_registered_job(settings: Settings) -> None:
    result = scheduler_module.tick(make_client(settings), settings, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert list(result) == ["devrel-timers", "esat-reminders", "nudges", "asset-reviews", "digest", "playbook-redraws",
                            "stage-webhooks", "housekeeping"]


def test_the_tick_sends_a_due_esat_reminder_once_across_ticks(settings: Settings, slack: MockSlack) -> None:
    engagement_id = add_engagement("Northbeam", SE, [("poc", "2026-10-20 10:00")], closed=("won", "2026-11-18 10:00"))
    with db.transaction() as session:
        session.add(EsatSurvey(engagement_id=engagement_id, owner_id=SE, asked_at=utc("2026-11-18 10:00"),
                               remind_at=utc("2026-11-20 10:00"), reminded_at=None, score=None, comment="",
                               answered_at=None))
    client = make_client(settings)
    assert scheduler_module.tick(client, settings, utc("2026-11-20 10:01"))["esat-reminders"] == 1
    assert scheduler_module.tick(client, settings, utc("2026-11-20 10:02"))["esat-reminders"] == 0
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == [SE]


def test_housekeeping_runs_once_a_day_across_processes(settings: Settings) -> None:
    client = make_client(settings)
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    first = scheduler_module.tick(client, settings, now, owner="a")
    second = scheduler_module.tick(client, settings, now + timedelta(minutes=1), owner="b")
    assert "housekeeping" in first and second.get("housekeeping") == 0
    state = claims.state("housekeeping", "2026-11-23")
    assert state is not None and state.done and state.claimed_by == "a"


def test_housekeeping_forgets_old_delivery_keys_and_long_finished_claims(settings: Settings) -> None:
    from bot.services import deliveries

    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert deliveries.first_time("event:old", now=now - timedelta(days=3))
    assert deliveries.first_time("event:new", now=now - timedelta(hours=1))
    assert claims.claim("digest", "2026-W30", owner="a", now=now - timedelta(days=120))
    assert claims.complete("digest", "2026-W30", owner="a", now=now - timedelta(days=120))
    assert claims.claim("digest", "2026-W46", owner="a", now=now - timedelta(days=7))
    assert claims.complete("digest", "2026-W46", owner="a", now=now - timedelta(days=7))
    assert scheduler_module.tick(make_client(settings), settings, now)["housekeeping"] == 2
    assert not deliveries.first_time("event:new", now=now) and deliveries.first_time("event:old", now=now)
    assert claims.state("digest", "2026-W30") is None and claims.state("digest", "2026-W46") is not None


# ----- APScheduler wiring ----------------------------------------------------------------------
def test_scheduler_ticks_at_start_then_every_minute_in_the_configured_timezone(settings: Settings) -> None:
    frozen = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    instance = scheduler_module.Scheduler(settings, make_client(settings), now=lambda: frozen)
    instance.start()
    try:
        deadline = walltime.monotonic() + 10
        while instance.ticks == 0 and walltime.monotonic() < deadline:
            walltime.sleep(0.05)
        assert instance.ticks >= 1
        job = instance._scheduler.get_job(scheduler_module.TICK_JOB_ID)
        assert job.trigger.timezone == BERLIN
        assert str(job.trigger) == "cron[minute='*', second='0']"
        assert (job.coalesce, job.max_instances) == (True, 1)
        next_tick = instance.next_tick_at()
        assert next_tick is not None and next_tick.second == 0
    finally:
        instance.shutdown()
    assert not instance.running
    assert claims.state("housekeeping", "2026-11-23") is not None


def test_scheduler_in_bot_can_be_turned_off(settings: Settings) -> None:
    off = settings.model_copy(update={"scheduler_in_bot": False})
    assert scheduler_module.start_in_process(off, make_client(off)) is None


def test_epos_scheduler_stops_cleanly_on_sigterm(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": settings.database_url,
        "SLACK_BOT_TOKEN": "xoxb-test-1",
        "SLACK_API_URL": settings.slack_api_url,
        "EPOS_TIMEZONE": "Europe/Berlin",
    }
    process = subprocess.Popen([sys.executable, "-m", "bot", "scheduler"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = walltime.monotonic() + 30
        while not any(row.job == "housekeeping" for row in claims.recent()):
            assert process.poll() is None, process.communicate()[1]
            assert walltime.monotonic() < deadline, "the scheduler never ticked"
            walltime.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "scheduler stopped" in stderr
    assert "Traceback" not in stderr


# ----- the digest's week and posting window ----------------------------------------------------
def test_weeks_parse_and_bound_in_local_time() -> None:
    since, until = week_bounds("2026-W47", BERLIN)
    assert since == datetime(2026, 11, 16, 0, 0, tzinfo=BERLIN)
    assert until == datetime(2026, 11, 23, 0, 0, tzinfo=BERLIN)
    assert until - since == timedelta(days=7)
    assert parse_week("2026w01").isoformat() == "2025-12-29"


@pytest.mark.parametrize("text", ["", "2026-47", "2026-W54", "2026-W00", "W47", "2025-W53", "next week"])
def test_a_bad_week_is_refused_with_a_hint(text: str) -> None:
    with pytest.raises(InvalidInput, match="like 2026-W47"):
        parse_week(text)


def test_previous_week_follows_the_team_timezone() -> None:
    # Sunday 23:30 UTC is already Monday in Berlin: last week there is W47, in UTC still W46.
    moment = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert previous_week(moment, BERLIN) == "2026-W47"
    assert previous_week(moment, ZoneInfo("UTC")) == "2026-W46"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 23, 8, 59), None),  # Monday before 09:00
        (datetime(2026, 11, 23, 9, 0), "2026-W47"),  # Monday 09:00 sharp
        (datetime(2026, 11, 24, 14, 0), "2026-W47"),  # Tuesday: catching up
        (datetime(2026, 11, 25, 23, 59), "2026-W47"),  # Wednesday, last minute of the window
        (datetime(2026, 11, 26, 0, 0), None),  # Thursday: too late, skipped
        (datetime(2026, 11, 29, 12, 0), None),  # Sunday
    ],
)
def test_the_digest_is_due_from_monday_9_until_wednesday_end(local: datetime, expected: str | None) -> None:
    assert due_week(local.replace(tzinfo=BERLIN), BERLIN, MONDAY_9) == expected


def test_a_late_week_slot_never_reaches_into_the_next_week() -> None:
    start, end = posting_window(datetime(2026, 11, 27, 12, 0, tzinfo=BERLIN), BERLIN, (5, time(9, 0)))
    assert start == datetime(2026, 11, 28, 9, 0, tzinfo=BERLIN)
    assert end == datetime(2026, 11, 30, 0, 0, tzinfo=BERLIN)


def test_the_window_holds_across_a_daylight_saving_change() -> None:
    # Berlin leaves summer time on Sunday 25 Oct 2026; Monday 09:00 is then 08:00 UTC.
    assert due_week(datetime(2026, 10, 26, 7, 59, tzinfo=UTC), BERLIN, MONDAY_9) is None
    assert due_week(datetime(2026, 10, 26, 8, 0, tzinfo=UTC), BERLIN, MONDAY_9) == "2026-W43"


# ----- settings ------------------------------------------------------------------------------
def test_schedule_settings_parse_and_refuse_nonsense() -> None:
    settings = load_settings(_env_file=None, digest_schedule="Tuesday 7:30", nudge_time="8:05")
    assert settings.digest_schedule == "tue 07:30" and settings.digest_slot == (1, time(7, 30))
    assert settings.nudge_at == time(8, 5)
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="DIGEST_SCHEDULE: 'mon 25:00' is not a weekday and time like mon 09:00"):
        load_settings(_env_file=None, digest_schedule="mon 25:00")
    with pytest.raises(ConfigError, match="NUDGE_TIME: '9am' is not a time of day like 09:00"):
        load_settings(_env_file=None, nudge_time="9am")


# ----- pacing ---------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_posts_to_one_channel_are_spaced_a_second_apart_and_channels_do_not_wait_on_each_other() -> None:
    fake = FakeClock()
    pacer = Pacer(1.0, monotonic=fake.monotonic, sleep=fake.sleep)
    assert pacer.wait_turn("C1") == 0
    assert pacer.wait_turn("C2") == 0
    assert pacer.wait_turn("C1") == pytest.approx(1.0)
    assert pacer.wait_turn("C1") == pytest.approx(1.0)
    fake.now += 5
    assert pacer.wait_turn("C1") == 0
    assert fake.slept == [pytest.approx(1.0), pytest.approx(1.0)]


# ----- chart ----------------------------------------------------------------------------------
def test_the_chart_is_a_png_even_without_data() -> None:
    start = datetime(2026, 9, 7).date()
    trend = [TrendPoint(week_start=start + timedelta(weeks=i), mean=10.0 + i, median=9.0 + i, count=1) for i in range(12)]
    png = digest_chart(trend, {"discovery": 4.0, "poc": 19.5, "demo": None}, title="W47", slowest_stage="poc")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    empty = digest_chart([TrendPoint(week_start=start)], {}, title="W47")
    assert empty.startswith(b"\x89PNG")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_the_tick_thread_yields_the_cpu_to_request_threads_and_only_it() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    seen: dict[str, int] = {}

    def tick_thread() -> None:
        scheduler_module.yield_to_requests()
        scheduler_module.yield_to_requests()  # once is enough: a second call changes nothing
        seen["tick"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=tick_thread)
    thread.start()
    thread.join()
    assert seen["tick"] == min(19, before + scheduler_module.TICK_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
