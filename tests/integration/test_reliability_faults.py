"""Slack misbehaving: rate limits, server errors, dropped connections and `ok:false` answers.

For each fault: the client's retries are bounded, the person waiting is told what happened in an
ephemeral reply with a reference that is also in the log, the next request works, and scheduled
posts are not lost but posted at a later tick.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import outbox, revocation, scheduler
from bot.app import MAX_RETRIES, make_client
from bot.config import Settings
from bot.jobs import MINUTE_JOBS
from bot.services import claims, digest
from tests.conftest import BOT_TOKEN, SE, SIGNING_SECRET
from tests.scheduler_helpers import SE2, add_engagement
from tests.support.slack import Call, MockSlack
from tests.support.wire import SlackWire

# Faults the client retries (up to MAX_RETRIES more times) and faults it must not retry.
# Retry-After 0: a 429 is still retried the same number of times and told the same way; a longer wait
# would only add seconds to each of these tests.
RETRIED: dict[str, dict[str, Any]] = {
    "429 Retry-After": {"retry_after": 0},
    "500": {"status": 500},
    "503": {"status": 503},
    "dropped connection": {"drop": True},
}
REFUSED: dict[str, dict[str, Any]] = {code: {"error": code} for code in
                                      ("channel_not_found", "not_in_channel", "user_not_found", "invalid_auth")}
FAULTS = {**RETRIED, **REFUSED}
# A token Slack says is gone pauses scheduled posts until a restart (tests/integration/test_token_revoked.py),
# so it is not among the faults a later tick gets past.
PASSING_FAULTS = {name: fault for name, fault in FAULTS.items() if name not in revocation.TOKEN_GONE}
# What the person reads, by fault: what happened and what to do next.
ADVICE = {
    "429 Retry-After": "slow down",
    "500": "try again in a minute",
    "503": "try again in a minute",
    "dropped connection": "could not reach Slack",
    "channel_not_found": "/invite @epos",
    "not_in_channel": "/invite @epos",
    "user_not_found": "still in the workspace",
    "invalid_auth": "check its bot token",
}
REF = re.compile(r"reference `([0-9a-f]{10})`")


def attempts_for(name: str) -> int:
    return 1 + MAX_RETRIES if name in RETRIED else 1


def post_attempts_for(name: str) -> int:
    """A scheduled post is sent again by the client only after a 429, which Slack answers unseen; after a
    5xx or a dropped connection it may have landed, and the next tick looks before it posts again."""
    return 1 + MAX_RETRIES if name == "429 Retry-After" else 1


def answered(slack: MockSlack, method: str) -> list[Call]:
    return [c for c in slack.calls_to(method) if "_fault" not in c.params]


# ----- a listener that raises right after ack() ----------------------------------------------------
def test_an_error_right_after_the_ack_still_answers_slack_200(wire: SlackWire, slack: MockSlack) -> None:
    """Bolt resets a sent ack when the listener then raises; Slack must still get its 200, every time."""
    for attempt in range(8):
        response = wire.command("/engagement", "list everything", user_id=SE, response_name=f"r{attempt}")
        assert response.status == 200
        told = slack.wait_for("response_url", lambda c, n=f"r{attempt}": c.params["_name"] == n)
        assert "/engagement list" in told[0].params["text"]


# ----- a person waiting on a Slack call ------------------------------------------------------------
@pytest.mark.parametrize("name", list(FAULTS))
def test_a_failed_views_open_is_retried_a_bounded_number_of_times_and_explained(
    name: str, wire: SlackWire, slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    slack.fail("views.open", times=10, **FAULTS[name])
    assert wire.command("/asset", "add", user_id=SE).status == 200

    told = slack.wait_for("response_url", timeout=15)[0].params
    assert told["response_type"] == "ephemeral"
    assert ADVICE[name] in told["text"]
    match = REF.search(told["text"])
    assert match, told["text"]
    assert f"ref={match.group(1)}" in caplog.text
    assert "Traceback" not in told["text"]
    # Nor does the log of a failure carry the token, the signing secret or the payload.
    for secret in (BOT_TOKEN, SIGNING_SECRET, "trigger_id", "response_url"):
        assert secret not in caplog.text
    # Every attempt happened before the person was told, so the count is final here.
    assert len(slack.calls_to("views.open")) == attempts_for(name)
    assert answered(slack, "views.open") == []

    slack.clear_faults()
    again = wire.command("/asset", "add", user_id=SE)
    assert again.status == 200
    if name in revocation.TOKEN_GONE:
        # Slack said the token is gone: epos calls Slack no more until a restart, and says so at once.
        assert again.message is not None and ADVICE[name] in again.message["text"]
        assert len(slack.calls_to("views.open")) == attempts_for(name)
        return
    opened = slack.wait_for("views.open", lambda c: "_fault" not in c.params)
    assert opened[0].params["view"]["callback_id"]


@pytest.mark.parametrize("name", list(RETRIED))
def test_a_fault_that_clears_within_the_retries_goes_unnoticed(name: str, wire: SlackWire, slack: MockSlack) -> None:
    slack.fail("views.open", times=MAX_RETRIES, **RETRIED[name])
    assert wire.command("/asset", "add", user_id=SE).status == 200
    slack.wait_for("views.open", lambda c: "_fault" not in c.params, timeout=15)
    assert len(slack.calls_to("views.open")) == MAX_RETRIES + 1
    assert slack.responses == []


# ----- scheduled posts -----------------------------------------------------------------------------
DIGEST_DUE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)   # Monday 09:00 in Berlin
NUDGE_DUE = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)    # after 09:00 in Berlin, both SEs' zone


@pytest.fixture
def stale_deals(database_url: str, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pacing is tested on its own; here it would only add a second per post to the same channel.
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))
    slack.add_user(SE2, name="Sam Okafor", tz="Europe/Berlin")
    add_engagement("Acme Corp", SE, [("tech_qa", "2026-10-01 10:00")])
    add_engagement("Globex", SE2, [("poc", "2026-10-02 10:00")])


DIGEST_JOB = tuple(job for job in MINUTE_JOBS if job.name == "digest")
NUDGE_JOB = tuple(job for job in MINUTE_JOBS if job.name == "nudges")


def digest_posts(slack: MockSlack, settings: Settings) -> list[Call]:
    return [c for c in answered(slack, "chat.postMessage")
            if c.params["channel"] == settings.digest_channel and not c.params.get("thread_ts")]


@pytest.mark.parametrize("name", list(PASSING_FAULTS))
def test_a_digest_slack_refused_is_posted_once_at_the_next_tick(
    name: str, stale_deals: None, settings: Settings, slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(settings)
    week = digest.due_week(DIGEST_DUE, settings.timezone, settings.digest_slot)
    assert week is not None
    slack.fail("chat.postMessage", times=post_attempts_for(name), **FAULTS[name])

    scheduler.tick(client, settings, DIGEST_DUE, owner="replica-a", jobs=DIGEST_JOB)
    assert digest_posts(slack, settings) == []
    assert len([c for c in slack.calls_to("chat.postMessage") if "_fault" in c.params]) == post_attempts_for(name)
    state = claims.state(digest.JOB, week)
    assert state is not None and not state.done and state.last_error
    assert week in caplog.text  # the log says which post failed

    scheduler.tick(client, settings, DIGEST_DUE + timedelta(minutes=1), owner="replica-b", jobs=DIGEST_JOB)
    scheduler.tick(client, settings, DIGEST_DUE + timedelta(minutes=2), owner="replica-a", jobs=DIGEST_JOB)
    assert len(digest_posts(slack, settings)) == 1
    state = claims.state(digest.JOB, week)
    assert state is not None and state.done and state.attempts == 2


@pytest.mark.parametrize("name", list(PASSING_FAULTS))
def test_a_nudge_slack_refused_is_sent_once_at_the_next_tick_and_the_other_se_is_not_held_up(
    name: str, stale_deals: None, settings: Settings, slack: MockSlack
) -> None:
    quiet = settings.model_copy(update={"digest_channel": None})
    client = make_client(quiet)
    # The first DM of the tick fails every attempt; whichever SE that is, the other still gets theirs.
    slack.fail("chat.postMessage", times=post_attempts_for(name), **FAULTS[name])

    scheduler.tick(client, quiet, NUDGE_DUE, owner="replica-a", jobs=NUDGE_JOB)
    first = {c.params["channel"] for c in answered(slack, "chat.postMessage")}
    assert len(first) == 1 and first <= {SE, SE2}

    scheduler.tick(client, quiet, NUDGE_DUE + timedelta(minutes=1), owner="replica-b", jobs=NUDGE_JOB)
    scheduler.tick(client, quiet, NUDGE_DUE + timedelta(minutes=2), owner="replica-a", jobs=NUDGE_JOB)
    dms = sorted(c.params["channel"] for c in answered(slack, "chat.postMessage"))
    assert dms == sorted([SE, SE2])
