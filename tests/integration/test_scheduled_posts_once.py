"""Every scheduled post is in Slack exactly once, whatever Slack's answer did: one that Slack accepted but
answered after the client's timeout is found in the channel and never posted again; one that never
reached Slack is posted at a later tick. The digest, its thread reply, nudges and ESAT reminders alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient

from bot import clock, outbox
from bot.app import make_client
from bot.config import Settings
from bot.jobs import MINUTE_JOBS
from bot.jobs.esat import REMINDER_JOB, send_due_esat_reminders
from bot.scheduler import tick
from bot.services import claims, engagements
from models.enums import Outcome
from tests.conftest import SE
from tests.engagements_helpers import SE_ACTOR, open_engagement
from tests.scheduler_helpers import SE2, add_engagement, hand_computed_week, utc
from tests.support.slack import MockSlack

CHANNEL = "C0DIGEST1"
MONDAY_0900 = utc("2026-11-23 08:00")  # 09:00 in Berlin
WEEK = "2026-W47"
DIGEST_ONLY = tuple(job for job in MINUTE_JOBS if job.name == "digest")
NUDGES_ONLY = tuple(job for job in MINUTE_JOBS if job.name == "nudges")
# The client gives up after CLIENT_TIMEOUT; Slack (the mock) carries the post out and answers only later.
CLIENT_TIMEOUT = 1
LATE_ANSWER = 2.5
# A dropped connection: nothing reached Slack. The client does not send a scheduled post again by itself
# (outbox.single_send): the claim's look in the channel at the next tick decides.
NEVER_REACHED = 1


@pytest.fixture(autouse=True)
def _unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))


@pytest.fixture
def client(settings: Settings) -> WebClient:
    client = make_client(settings)
    client.timeout = CLIENT_TIMEOUT
    return client


@pytest.fixture
def week(settings: Settings, slack: MockSlack) -> Iterator[Settings]:
    slack.add_user(SE, name="Dana Reyes", tz="Europe/Berlin")
    slack.add_user(SE2, name="Sam Okafor", tz="Europe/Berlin")
    hand_computed_week()
    yield settings.model_copy(update={"digest_channel": CHANNEL})


def top_level(slack: MockSlack, channel: str) -> list:
    return [m for m in slack.messages.get(channel, []) if not m.thread_ts]


def replies(slack: MockSlack, channel: str) -> list:
    return [m for m in slack.messages.get(channel, []) if m.thread_ts and not m.params.get("files")]


def charts(slack: MockSlack, channel: str) -> list:
    return [m for m in slack.messages.get(channel, []) if m.thread_ts and m.params.get("files")]


# ----- the digest ---------------------------------------------------------------------------------------
def test_a_digest_slack_accepted_but_answered_late_is_found_and_never_posted_again(
    week: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage", accept=True, delay=LATE_ANSWER)
    assert tick(client, week, MONDAY_0900, jobs=DIGEST_ONLY)["digest"] == 0
    assert len(top_level(slack, CHANNEL)) == 1
    state = claims.state("digest", WEEK)
    assert state is not None and state.unsure and "timed out" in state.last_error

    for minute in ("08:01", "08:02", "08:03"):
        tick(client, week, utc(f"2026-11-23 {minute}"), jobs=DIGEST_ONLY)
    [digest] = top_level(slack, CHANNEL)
    assert digest.params["metadata"] == {"event_type": "epos_scheduled_post",
                                         "event_payload": {"job": "digest", "period": WEEK}}
    history = slack.calls_to("conversations.history")
    assert history and history[0].params["channel"] == CHANNEL and history[0].params["include_all_metadata"]
    assert claims.state("digest", WEEK).done  # type: ignore[union-attr]
    # The thread reply and the chart follow the digest that was found, once.
    assert [m.thread_ts for m in replies(slack, CHANNEL)] == [digest.ts]
    assert [m.thread_ts for m in charts(slack, CHANNEL)] == [digest.ts]


def test_a_digest_that_never_reached_slack_is_posted_at_the_next_tick(
    week: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage", drop=True, times=NEVER_REACHED)
    assert tick(client, week, MONDAY_0900, jobs=DIGEST_ONLY)["digest"] == 0
    assert top_level(slack, CHANNEL) == []
    assert claims.state("digest", WEEK).unsure  # type: ignore[union-attr]

    assert tick(client, week, utc("2026-11-23 08:01"), jobs=DIGEST_ONLY)["digest"] == 1
    assert tick(client, week, utc("2026-11-23 08:02"), jobs=DIGEST_ONLY)["digest"] == 0
    assert len(top_level(slack, CHANNEL)) == 1
    assert len(replies(slack, CHANNEL)) == 1
    state = claims.state("digest", WEEK)
    assert state is not None and state.done and state.attempts == 2


def test_a_refused_digest_is_posted_again_without_reading_the_channel(
    week: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage", error="not_in_channel")
    tick(client, week, MONDAY_0900, jobs=DIGEST_ONLY)
    assert not claims.state("digest", WEEK).unsure  # type: ignore[union-attr]
    assert tick(client, week, utc("2026-11-23 08:01"), jobs=DIGEST_ONLY)["digest"] == 1
    assert len(top_level(slack, CHANNEL)) == 1
    assert slack.calls_to("conversations.history") == []


def test_a_thread_reply_slack_accepted_but_answered_late_is_posted_once(
    week: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage")  # the digest itself goes through
    slack.fail("chat.postMessage", accept=True, delay=LATE_ANSWER)
    assert tick(client, week, MONDAY_0900, jobs=DIGEST_ONLY)["digest"] == 1
    for minute in ("08:01", "08:02"):
        tick(client, week, utc(f"2026-11-23 {minute}"), jobs=DIGEST_ONLY)
    [digest] = top_level(slack, CHANNEL)
    assert [m.thread_ts for m in replies(slack, CHANNEL)] == [digest.ts]
    assert slack.calls_to("conversations.replies")[0].params["ts"] == digest.ts
    assert claims.state("digest-thread", WEEK).done  # type: ignore[union-attr]


def test_a_thread_reply_that_never_went_out_is_posted_at_a_later_tick_under_the_digest(
    week: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage")  # the digest itself goes through
    slack.fail("chat.postMessage", error="fatal_error", times=2)  # both tries of the reply in that tick
    assert tick(client, week, MONDAY_0900, jobs=DIGEST_ONLY)["digest"] == 1
    assert replies(slack, CHANNEL) == []
    assert not claims.state("digest-thread", WEEK).done  # type: ignore[union-attr]

    # The second failure backs off a minute; the tick after that finds the digest and replies under it.
    for minute in ("08:01", "08:02", "08:03"):
        assert tick(client, week, utc(f"2026-11-23 {minute}"), jobs=DIGEST_ONLY)["digest"] == 0
    [digest] = top_level(slack, CHANNEL)
    assert [m.thread_ts for m in replies(slack, CHANNEL)] == [digest.ts]
    assert claims.state("digest-thread", WEEK).done  # type: ignore[union-attr]


def test_a_chart_slack_accepted_but_answered_late_is_shared_once(
    week: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("files.completeUploadExternal", accept=True, delay=LATE_ANSWER)
    assert tick(client, week, MONDAY_0900, jobs=DIGEST_ONLY)["digest"] == 1
    for minute in ("08:01", "08:02", "08:05"):
        tick(client, week, utc(f"2026-11-23 {minute}"), jobs=DIGEST_ONLY)
    [digest] = top_level(slack, CHANNEL)
    [chart] = charts(slack, CHANNEL)
    assert chart.thread_ts == digest.ts and chart.params["files"][0]["name"] == f"epos-digest-{WEEK}.png"
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    assert claims.state("digest-chart", WEEK).done  # type: ignore[union-attr]


def test_a_chart_that_never_reached_slack_is_shared_at_the_next_attempt(
    week: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("files.completeUploadExternal", drop=True, times=NEVER_REACHED)
    tick(client, week, MONDAY_0900, jobs=DIGEST_ONLY)
    tick(client, week, utc("2026-11-23 08:01"), jobs=DIGEST_ONLY)
    [digest] = top_level(slack, CHANNEL)
    assert [m.thread_ts for m in charts(slack, CHANNEL)] == [digest.ts]
    assert claims.state("digest-chart", WEEK).done  # type: ignore[union-attr]


# ----- nudges -------------------------------------------------------------------------------------------
@pytest.fixture
def stale(settings: Settings, slack: MockSlack) -> Settings:
    slack.add_user(SE, name="Dana Reyes", tz="Europe/Berlin")
    add_engagement("Granite", SE, [("poc", "2026-10-20 10:00")])
    return settings


def test_a_nudge_slack_accepted_but_answered_late_is_never_sent_again(
    stale: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage", accept=True, delay=LATE_ANSWER)
    assert tick(client, stale, MONDAY_0900, jobs=NUDGES_ONLY)["nudges"] == 0
    for minute in ("08:01", "08:02", "09:00", "12:00"):
        assert tick(client, stale, utc(f"2026-11-23 {minute}"), jobs=NUDGES_ONLY)["nudges"] == 0
    assert len(slack.messages[SE]) == 1
    [history] = slack.calls_to("conversations.history")
    assert history.params["channel"].startswith("D")  # the bot's DM with the SE, not the user id
    assert claims.state("nudge", f"{SE}:2026-11-23").done  # type: ignore[union-attr]


def test_a_nudge_that_never_reached_slack_is_sent_at_a_later_tick(
    stale: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage", drop=True, times=NEVER_REACHED)
    assert tick(client, stale, MONDAY_0900, jobs=NUDGES_ONLY)["nudges"] == 0
    assert SE not in slack.messages
    assert tick(client, stale, utc("2026-11-23 08:01"), jobs=NUDGES_ONLY)["nudges"] == 1
    assert tick(client, stale, utc("2026-11-23 08:02"), jobs=NUDGES_ONLY)["nudges"] == 0
    assert len(slack.messages[SE]) == 1


def test_an_unsure_nudge_waits_while_its_dm_cannot_be_read(
    stale: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage", accept=True, delay=LATE_ANSWER)
    tick(client, stale, MONDAY_0900, jobs=NUDGES_ONLY)
    slack.fail("conversations.history", error="missing_scope")
    tick(client, stale, utc("2026-11-23 08:01"), jobs=NUDGES_ONLY)
    state = claims.state("nudge", f"{SE}:2026-11-23")
    assert state is not None and state.unsure and "missing_scope" in state.last_error
    assert len(slack.messages[SE]) == 1
    tick(client, stale, utc("2026-11-23 08:05"), jobs=NUDGES_ONLY)
    assert len(slack.messages[SE]) == 1 and claims.state("nudge", f"{SE}:2026-11-23").done  # type: ignore[union-attr]


# ----- ESAT reminders -----------------------------------------------------------------------------------
@pytest.fixture
def survey(settings: Settings) -> int:
    # Closed two days ago, so the reminder is due now.
    closed = clock.now() - timedelta(days=2, minutes=5)
    engagement_id = open_engagement("Northbeam Logistics", (closed - timedelta(days=3)).strftime("%Y-%m-%d %H:%M"))
    engagements.close(SE_ACTOR, engagement_id, Outcome.won, now=closed)
    return engagement_id


def esat_dms(slack: MockSlack) -> list:
    return [m for m in slack.messages.get(SE, []) if (m.params.get("metadata") or {}).get("event_payload", {}).get("job")
            == REMINDER_JOB]


def test_an_esat_reminder_slack_accepted_but_answered_late_is_never_sent_again(
    survey: int, settings: Settings, client: WebClient, slack: MockSlack
) -> None:
    due = clock.now()
    slack.fail("chat.postMessage", accept=True, delay=LATE_ANSWER)
    assert send_due_esat_reminders(client, settings, due) == 0
    assert send_due_esat_reminders(client, settings, due + timedelta(minutes=1)) == 0
    assert send_due_esat_reminders(client, settings, due + timedelta(days=1)) == 0
    assert len(esat_dms(slack)) == 1


def test_an_esat_reminder_that_never_reached_slack_is_sent_at_a_later_tick(
    survey: int, settings: Settings, client: WebClient, slack: MockSlack
) -> None:
    due = clock.now()
    slack.fail("chat.postMessage", drop=True, times=NEVER_REACHED)
    assert send_due_esat_reminders(client, settings, due) == 0
    assert esat_dms(slack) == []
    assert send_due_esat_reminders(client, settings, due + timedelta(minutes=1)) == 1
    assert send_due_esat_reminders(client, settings, due + timedelta(minutes=2)) == 0
    assert len(esat_dms(slack)) == 1


def test_a_digest_deleted_before_its_thread_went_out_is_not_searched_for_again(
    week: Settings, client: WebClient, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage")  # the digest itself goes through
    slack.fail("chat.postMessage", error="fatal_error", times=2)  # both tries of the reply in that tick
    tick(client, week, MONDAY_0900, jobs=DIGEST_ONLY)
    slack.messages[CHANNEL].clear()  # someone deleted the digest
    for minute in ("08:02", "08:03", "08:04"):
        tick(client, week, utc(f"2026-11-23 {minute}"), jobs=DIGEST_ONLY)
    assert len(slack.calls_to("conversations.history")) == 1
    assert replies(slack, CHANNEL) == [] and charts(slack, CHANNEL) == []
