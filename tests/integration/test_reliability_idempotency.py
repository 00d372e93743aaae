"""Retries and double clicks on the real listeners change nothing the second time; requests for another
installation are refused and logged."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bot import db
from bot.slackmock import MockSlack
from bot.wire import SlackWire
from models import AssetFeedback, AuditEntry, Engagement, SearchMiss, StageChange
from tests.assets_helpers import asset_by_title, import_sample
from tests.conftest import SE, SELLER, STRANGER
from tests.engagements_helpers import button, open_engagement

HOME_EVENT = {"type": "app_home_opened", "user": SE, "channel": "D0HOME01", "tab": "home", "event_ts": "1700000000.1"}
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def count(model: type, *where: object) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def together(clicks: list[Callable[[], int]]) -> list[int]:
    """Send the clicks at the same moment, as a double click does, and return their HTTP statuses."""
    barrier = threading.Barrier(len(clicks))
    statuses: list[int] = []

    def run(click: Callable[[], int]) -> None:
        barrier.wait()
        statuses.append(click())

    threads = [threading.Thread(target=run, args=(click,)) for click in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_retried_app_home_opened_publishes_the_home_once(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    first = wire.event(HOME_EVENT, event_id="Ev0HOME001")
    retry = wire.event(HOME_EVENT, event_id="Ev0HOME001", headers=RETRY)
    second_retry = wire.event(HOME_EVENT, event_id="Ev0HOME001", headers={**RETRY, "X-Slack-Retry-Num": "2"})
    assert (first.status, retry.status, second_retry.status) == (200, 200, 200)
    slack.wait_for("views.publish", lambda c: c.params["user_id"] == SE)
    # Another person's home, opened after the retries, is published; by then a repeat would have been too.
    assert wire.event({**HOME_EVENT, "user": STRANGER}, event_id="Ev0HOME002").status == 200
    slack.wait_for("views.publish", lambda c: c.params["user_id"] == STRANGER)
    assert [c.params["user_id"] for c in slack.calls_to("views.publish")].count(SE) == 1


def test_a_double_clicked_undo_takes_the_change_back_once(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    assert wire.command("/engagement", "northbeam discovery", user_id=SE, response_name="moved").status == 200
    moved = slack.wait_for("response_url", lambda c: c.params["_name"] == "moved")[0].params
    undo = button(moved["blocks"], "engagement_undo")
    changes_before = count(StageChange, StageChange.engagement_id == engagement_id)

    def click(ts: str) -> Callable[[], int]:
        return lambda: wire.block_action(undo["action_id"], user_id=SE, value=undo["value"], action_ts=ts,
                                         response_name=f"undo-{ts}").status

    # Two clicks at once (each its own delivery), then Slack delivering the first one again.
    assert together([click("1700000200.000001"), click("1700000200.000002")]) == [200, 200]
    assert click("1700000200.000001")() == 200
    answers = slack.wait_for("response_url", lambda c: c.params["_name"].startswith("undo-"), count=2)
    texts = sorted(a.params.get("text", "") for a in answers)
    assert any("can't be undone" in t or "already" in t for t in texts), texts
    assert count(StageChange, StageChange.engagement_id == engagement_id) == changes_before + 1
    assert count(AuditEntry, AuditEntry.entity == "engagement", AuditEntry.action == "undo") == 1
    with db.reading() as session:
        assert session.get(Engagement, engagement_id).stage == "preparation"  # type: ignore[union-attr]


def test_a_double_clicked_useful_vote_counts_once(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    from bot.services import assets

    assets.reset_index()
    import_sample()
    asset = asset_by_title("Observability in 15 minutes: from alert to root cause")

    def click(ts: str) -> Callable[[], int]:
        return lambda: wire.block_action("asset_useful", user_id=SELLER, value=str(asset.id), action_ts=ts,
                                         response_name=f"vote-{ts}").status

    assert together([click("1700000300.000001"), click("1700000300.000002")]) == [200, 200]
    assert click("1700000300.000002")() == 200
    slack.wait_for("response_url", lambda c: c.params["_name"].startswith("vote-"), count=2)
    assert asset_by_title(asset.title).useful_count == asset.useful_count + 1
    assert count(AssetFeedback, AssetFeedback.asset_id == asset.id, AssetFeedback.user_id == SELLER) == 1
    assets.reset_index()


def test_a_retried_slash_command_answers_and_records_the_gap_once(database_url: str, wire: SlackWire,
                                                                    slack: MockSlack) -> None:
    from bot.services import assets

    assets.reset_index()
    import_sample()
    fields = wire.command_fields("/asset", "quantum blockchain", user_id=SE, response_name="gap")
    first = wire.post_form(fields)
    retry = wire.post_form(fields, headers=RETRY)
    assert (first.status, retry.status) == (200, 200)
    assert first.message and "No assets match" in first.message["text"]
    assert retry.message is None, "the retry was answered a second time"
    # Another search after the retry is recorded; by then a repeat of the first would have been too.
    assert wire.command("/asset", "quantum entanglement", user_id=SE).status == 200
    assert count(SearchMiss, SearchMiss.query == "quantum entanglement") == 1
    assert count(SearchMiss, SearchMiss.query == "quantum blockchain") == 1
    assert [c for c in slack.responses if c.params["_name"] == "gap"] == []
    assets.reset_index()


@pytest.mark.parametrize("kind", ["command", "event"])
def test_a_request_for_another_installation_is_refused_and_logged(kind: str, database_url: str, wire: SlackWire,
                                                                  slack: MockSlack,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="handlers.middleware")
    foreign = SlackWire(wire.url, wire.signing_secret, response_url_base=wire.response_url_base, team_id="T0OTHER99")
    if kind == "command":
        response = foreign.command("/engagement", "list", user_id=SE)
    else:
        response = foreign.event(HOME_EVENT, event_id="Ev0FOREIGN")
    assert response.status == 403
    refused = [r for r in caplog.records if "another installation" in r.getMessage()]
    assert refused and "team=T0OTHER99" in refused[0].getMessage()
    assert slack.responses == [] and slack.calls_to("views.publish") == []
