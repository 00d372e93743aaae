"""The weekly digest as Slack receives it: on time, exactly once, caught up after downtime, retried
after a failure, and with its thread reply and chart."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from slack_sdk.models.blocks import Block

from bot import outbox
from bot.app import make_client
from bot.config import Settings
from bot.jobs import MINUTE_JOBS
from bot.jobs import digest as digest_job
from bot.scheduler import Scheduler, tick
from bot.services import claims
from tests.scheduler_helpers import DIGEST_CHANNEL, digest_posts, hand_computed_team, utc
from tests.support.slack import MockSlack
from tests.support.text import all_text

CHANNEL = DIGEST_CHANNEL
# Europe/Berlin is UTC+1 in November.
MONDAY_0859 = utc("2026-11-23 07:59")
MONDAY_0900 = utc("2026-11-23 08:00")
TUESDAY_1400 = utc("2026-11-24 13:00")
THURSDAY_0900 = utc("2026-11-26 08:00")
# Where a test makes Slack fail the next post, only the digest ticks, so the fault is not spent on a nudge.
DIGEST_ONLY = tuple(job for job in MINUTE_JOBS if job.name == "digest")


@pytest.fixture(autouse=True)
def _unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pacing is tested on its own (tests/unit/test_scheduler.py); here it would only slow the suite.
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))


@pytest.fixture
def deals(settings: Settings, slack: MockSlack) -> Iterator[None]:
    hand_computed_team(slack)
    yield



def test_the_monday_post_shows_the_figures_then_the_breakdown_and_chart_in_its_thread(
    deals: None, settings: Settings, slack: MockSlack
) -> None:
    client = make_client(settings)
    assert tick(client, settings, MONDAY_0859)["digest"] == 0
    assert digest_posts(slack) == []

    assert tick(client, settings, MONDAY_0900)["digest"] == 1

    [post] = digest_posts(slack)
    for block in Block.parse_all(post.params["blocks"]):
        block.validate_json()
    text = all_text(post.params["blocks"])
    assert "Weekly presales digest · 2026-W47" in text
    assert "mean 33.3 days · median 32.0 days, from 3 closes" in text
    assert "mean 41.2 days · median 40.0 days, from 4 closes" in text  # trailing 4 weeks
    assert "mean 42.0 days · median 45.0 days, from 5 closes" in text  # trailing 12 weeks
    assert "This week: not compared: 3 closes this week, 5 needed" in text  # too few to headline a change
    assert "*Win rate*\n33%" in text
    assert "Slowest stage: *POC* (median 29.0 days in stage)" in text
    assert "*Granite* (Granite opportunity) · POC · 33 days idle (limit 21) · Dana Reyes" in text
    assert "3 requests · 2 accepted (67%) · median time to accept 40 min · 1 unanswered" in text
    assert "4.0 / 5 from 2 ratings" in text
    assert "Kubernetes demo" in text and "3 shares" in text
    assert "“Kafka sizing” · 2×" in text
    assert "<@" not in text  # SEs are named, not pinged, in the managers' channel
    assert "3 closed (1 won)" in post.params["text"]

    ts = slack.messages[CHANNEL][0].ts
    [reply] = [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    reply_text = all_text(reply.params["blocks"])
    assert "*Dana Reyes* · 1 open · 2 closed (1 won, 0 lost, 1 no decision) · MTTC 34.0 days · 1 stale" in reply_text
    assert "*Sam Okafor* · 2 open" in reply_text

    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL and complete.params["thread_ts"] == ts
    [upload] = slack.calls_to("file.upload")
    assert slack.uploads[upload.params["file_id"]].startswith(b"\x89PNG")

    state = claims.state("digest", "2026-W47")
    assert state is not None and state.done


def test_later_ticks_and_restarts_never_post_the_week_again(deals: None, settings: Settings, slack: MockSlack) -> None:
    first = make_client(settings)
    tick(first, settings, MONDAY_0900)
    restarted = make_client(settings)
    for later in ("2026-11-23 08:01", "2026-11-23 08:02", "2026-11-23 15:00", "2026-11-24 13:00", "2026-11-25 22:59"):
        tick(restarted, settings, utc(later))
    assert len(digest_posts(slack)) == 1


def test_a_bot_down_across_monday_9_posts_once_when_it_is_back_on_tuesday(
    deals: None, settings: Settings, slack: MockSlack
) -> None:
    client = make_client(settings)
    tick(client, settings, TUESDAY_1400)
    tick(client, settings, TUESDAY_1400.replace(minute=1))
    [post] = digest_posts(slack)
    assert "2026-W47" in post.params["text"]


def test_a_bot_back_only_on_thursday_skips_that_week(deals: None, settings: Settings, slack: MockSlack) -> None:
    tick(make_client(settings), settings, THURSDAY_0900)
    assert digest_posts(slack) == []
    assert claims.state("digest", "2026-W47") is None
    # The next Monday posts the next week, as usual.
    tick(make_client(settings), settings, utc("2026-11-30 08:00"))
    [post] = digest_posts(slack)
    assert "2026-W48" in post.params["text"]


def test_two_schedulers_on_one_database_post_one_digest(deals: None, settings: Settings, slack: MockSlack) -> None:
    replicas = [Scheduler(settings, make_client(settings), owner=f"replica-{i}") for i in range(2)]
    barrier = threading.Barrier(len(replicas))
    results: list[dict[str, int]] = []

    def run(replica: Scheduler) -> None:
        barrier.wait()
        results.append(replica.run_tick(MONDAY_0900))

    threads = [threading.Thread(target=run, args=(replica,)) for replica in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["digest"] for r in results) == [0, 1]
    assert len(digest_posts(slack)) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1


def test_a_failed_post_is_retried_at_the_next_tick_and_posted_once(
    deals: None, settings: Settings, slack: MockSlack
) -> None:
    client = make_client(settings)
    slack.fail("chat.postMessage", error="not_in_channel")
    assert tick(client, settings, MONDAY_0900, jobs=DIGEST_ONLY)["digest"] == 0
    assert digest_posts(slack) == []
    state = claims.state("digest", "2026-W47")
    assert state is not None and not state.done and state.last_error == "not_in_channel"

    assert tick(client, settings, utc("2026-11-23 08:01"))["digest"] == 1
    assert tick(client, settings, utc("2026-11-23 08:02"))["digest"] == 0
    assert len(digest_posts(slack)) == 1
    state = claims.state("digest", "2026-W47")
    assert state is not None and state.done and state.attempts == 2


def test_a_server_error_that_outlasts_the_client_retries_is_retried_by_the_next_tick(
    deals: None, settings: Settings, slack: MockSlack
) -> None:
    client = make_client(settings)
    slack.fail("chat.postMessage", status=500, times=3)  # the first try and both of the client's retries
    tick(client, settings, MONDAY_0900, jobs=DIGEST_ONLY)
    assert digest_posts(slack) == []
    tick(client, settings, utc("2026-11-23 08:01"))
    assert len(digest_posts(slack)) == 1


def test_a_rate_limit_is_waited_out_through_retry_after(deals: None, settings: Settings, slack: MockSlack) -> None:
    slack.fail("chat.postMessage", retry_after=1)
    assert tick(make_client(settings), settings, MONDAY_0900, jobs=DIGEST_ONLY)["digest"] == 1
    main_posts = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == CHANNEL
                  and not c.params.get("thread_ts")]
    assert [c.params.get("_fault") for c in main_posts] == ["ratelimited", None]
    assert len(digest_posts(slack)) == 1


def test_a_failing_chart_upload_is_tried_again_once_and_never_reposts_the_digest(
    deals: None, settings: Settings, slack: MockSlack
) -> None:
    slack.fail("files.getUploadURLExternal", error="internal_error")
    client = make_client(settings)
    tick(client, settings, MONDAY_0900)
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    tick(client, settings, utc("2026-11-23 08:01"))
    assert len(digest_posts(slack)) == 1


def test_a_chart_that_keeps_failing_leaves_the_digest_posted(deals: None, settings: Settings, slack: MockSlack) -> None:
    slack.fail("files.getUploadURLExternal", error="internal_error", times=2)
    tick(make_client(settings), settings, MONDAY_0900)
    assert len(digest_posts(slack)) == 1
    assert slack.calls_to("files.completeUploadExternal") == []
    state = claims.state("digest", "2026-W47")
    assert state is not None and state.done


def test_without_a_digest_channel_it_warns_once_and_posts_nothing(
    deals: None, settings: Settings, slack: MockSlack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_job, "_warned", threading.Event())
    unset = settings.model_copy(update={"digest_channel": None})
    client = make_client(unset)
    tick(client, unset, MONDAY_0900)
    tick(client, unset, utc("2026-11-23 08:01"))
    assert digest_posts(slack) == []
    assert caplog.text.count("DIGEST_CHANNEL is not set") == 1
    assert claims.state("digest", "2026-W47") is None


def test_the_digest_its_reply_and_its_chart_are_paced_a_second_apart(
    deals: None, settings: Settings, slack: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[tuple[str, float]] = []
    clock_now = [0.0]

    class RecordingPacer(outbox.Pacer):
        def wait_turn(self, channel: str) -> float:
            waited = super().wait_turn(channel)
            waits.append((channel, waited))
            return waited

    def fake_sleep(seconds: float) -> None:
        clock_now[0] += seconds

    monkeypatch.setattr(outbox, "PACER", RecordingPacer(1.0, monotonic=lambda: clock_now[0], sleep=fake_sleep))
    tick(make_client(settings), settings, MONDAY_0900, jobs=DIGEST_ONLY)
    assert [(channel, round(waited, 3)) for channel, waited in waits] == [(CHANNEL, 0.0), (CHANNEL, 1.0), (CHANNEL, 1.0)]
