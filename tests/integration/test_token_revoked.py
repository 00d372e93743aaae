"""A token Slack no longer takes: epos stops calling Slack, pauses scheduled posts, and loses none of them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot import outbox, revocation
from bot.app import make_client
from bot.blocks import access
from bot.config import Settings
from bot.jobs import MINUTE_JOBS
from bot.scheduler import tick
from tests.conftest import SE, answer_to
from tests.scheduler_helpers import digest_posts, hand_computed_team, utc
from tests.support.slack import MockSlack
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

MONDAY_0900 = utc("2026-11-23 08:00")
DIGEST_ONLY = tuple(job for job in MINUTE_JOBS if job.name == "digest")


@pytest.fixture
def deals(settings: Settings, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))
    hand_computed_team(slack)
    yield


@pytest.mark.parametrize("event", [{"type": "tokens_revoked", "tokens": {"bot": ["U0EPOSBOT"]}},
                                   {"type": "app_uninstalled"}])
def test_after_the_event_no_call_reaches_slack(event: dict, wire: SlackWire, slack: MockSlack) -> None:
    assert wire.event(event).status == 200
    assert eventually(lambda: revocation.revoked() is not None)
    slack.clear()
    assert wire.event({"type": "app_home_opened", "user": SE, "tab": "home", "channel": "D0HOME01"}).status == 200
    # The person is told why in the command's answer, which needs no token; the Web API is never called.
    told = answer_to(wire.command("/engagement", "list", user_id=SE), slack)
    assert told.params["text"] == access.TOKEN_GONE
    assert slack.calls == []


def test_healthz_says_the_token_is_gone(server, wire: SlackWire) -> None:  # type: ignore[no-untyped-def]
    import json
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as healthy:
        assert json.loads(healthy.read())["slack"] == "token accepted"
    assert wire.event({"type": "app_uninstalled"}).status == 200
    assert eventually(lambda: revocation.revoked() is not None)
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(server.url + "/healthz", timeout=5)
    assert answer.value.code == 503
    assert json.loads(answer.value.read()) == {"ok": False, "database": "up",
                                               "slack": "token gone: Slack sent app_uninstalled"}


def test_a_revoked_token_of_a_user_only_changes_nothing(wire: SlackWire) -> None:
    assert wire.event({"type": "tokens_revoked", "tokens": {"oauth": ["U0A1B2C3D"]}}).status == 200
    assert not eventually(lambda: revocation.revoked() is not None, timeout=0.5)


def test_the_first_answer_that_the_token_is_gone_stops_all_calls(
    deals: None, settings: Settings, slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(settings)
    slack.fail("chat.postMessage", error="token_revoked")
    with caplog.at_level(logging.INFO):
        tick(client, settings, MONDAY_0900, jobs=DIGEST_ONLY)
    assert revocation.revoked() == "chat.postMessage was answered token_revoked"
    slack.clear()
    for minute in range(5):
        tick(client, settings, MONDAY_0900.replace(minute=minute + 1))
    assert slack.calls == [], "no users.info, no post: nothing is called while the token is gone"
    said = [r.getMessage() for r in caplog.records if r.name == "bot.revocation"]
    assert said == ["Slack no longer accepts the bot token (chat.postMessage was answered token_revoked): epos "
                    "stops calling Slack and pauses scheduled posts until it is restarted with a valid SLACK_BOT_TOKEN"]


def test_posts_that_fell_due_meanwhile_go_out_after_a_restart(deals: None, settings: Settings, slack: MockSlack) -> None:
    revocation.mark("Slack sent tokens_revoked")
    client = make_client(settings)
    tick(client, settings, MONDAY_0900, jobs=DIGEST_ONLY)
    assert digest_posts(slack) == []
    revocation.reset()  # a restart with a new token
    tick(make_client(settings), settings, MONDAY_0900.replace(minute=5), jobs=DIGEST_ONLY)
    assert len(digest_posts(slack)) == 1
