"""`/asset` over signed HTTP: answers, paging, sharing and feedback, as a person in Slack sees them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import db
from bot.services import assets
from handlers import answers
from models.assets import AssetShare, SearchMiss
from tests.assets_helpers import (
    ask,
    asset_by_title,
    blocks_of,
    buttons,
    card_titles,
)
from tests.conftest import ADMIN, SE, SELLER, STRANGER
from tests.support.locks import slow_claims
from tests.support.slack import Call, MockSlack
from tests.support.text import all_text
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

SE_DEMO = "Observability in 15 minutes: from alert to root cause"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"


def reply(slack: MockSlack, name: str = "default", count: int = 1) -> Call:
    return slack.wait_for("response_url", lambda c: c.params.get("_name") == name, count=count)[count - 1]


def button(blocks: list[dict], action_id: str, value: str | None = None) -> dict:
    return next(b for b in buttons(blocks) if b["action_id"] == action_id and (value is None or b["value"] == value))


def test_demo_observability_answers_with_published_observability_demos_best_first(
    catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    answer = ask(wire, "demo observability", user_id=SE)
    assert answer.params["response_type"] == "ephemeral"
    shown = card_titles(blocks_of(answer))
    expected = [item.card.title for item in assets.search("demo observability").items]
    assert shown == expected and len(shown) >= 3
    assert shown[0] == SE_DEMO
    for title in shown:
        row = asset_by_title(title)
        assert row.type == "demo" and row.status == "published" and "observability" in row.topics
    assert "Legacy monitoring dashboard tour (classic UI)" not in shown  # archived
    text = all_text(answer.params["blocks"])
    assert "*Demo* · Low depth · Broad scope · Presentation · Early cycle" in text
    assert "Owner <@U0A1B2C3D>" in text


def test_nothing_matches_says_so_offers_add_and_records_the_gap(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    answer = ask(wire, "quantum blockchain", user_id=SE)
    blocks = blocks_of(answer)
    assert "No assets match *quantum blockchain*." in all_text(blocks)
    assert card_titles(blocks) == []
    assert button(blocks, "asset_add_open")["text"]["text"] == "Add an asset"
    with db.reading() as session:
        assert [(m.query, m.user_id) for m in session.scalars(select(SearchMiss))] == [("quantum blockchain", SE)]


def test_a_typo_is_said_and_a_search_answered_in_part_is_a_partial_gap(
    catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    corrected = all_text(blocks_of(ask(wire, "demo obervability", user_id=SE)))
    assert "Demos for *obervability*" in corrected
    assert "Showing results for *observability* (you typed *obervability*)" in corrected
    half = all_text(blocks_of(ask(wire, "workshop observability quantum", user_id=SE)))
    assert "No asset matches all of *observability quantum*; the best match covers only *observability*." in half
    with db.reading() as session:
        assert [(m.query, m.matched, m.unmatched) for m in session.scalars(select(SearchMiss))] == [
            ("workshop observability quantum", ["observability"], ["quantum"])]


def test_an_echoed_query_never_pings(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    answer = ask(wire, "<!channel> quantum <@U0BOSS01>", user_id=SE)
    text = all_text(blocks_of(answer)) + answer.params["text"]
    assert "&lt;!channel&gt;" in text
    assert "<!channel>" not in text and "<@U0BOSS01>" not in text


def test_did_you_mean_reruns_the_search(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    blocks = blocks_of(ask(wire, "workshop obsrvblty", user_id=SE))  # too far off to match, close enough to suggest
    suggestion = next(b for b in buttons(blocks) if b["action_id"].startswith("asset_rerun"))
    assert suggestion["value"] == "workshop observability"
    wire.block_action(suggestion["action_id"], user_id=SE, value=suggestion["value"], response_name="rerun")
    again = reply(slack, "rerun")
    assert again.params["replace_original"] is True
    assert card_titles(blocks_of(again))
    assert all(asset_by_title(t).type == "workshop" for t in card_titles(again.params["blocks"]))


def test_paging_replaces_the_answer_with_the_next_ten(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    first = blocks_of(ask(wire, "observability", user_id=SE))
    assert len(card_titles(first)) == 10
    next_page = button(first, "asset_next_page")
    wire.block_action("asset_next_page", user_id=SE, value=next_page["value"], response_name="page2")
    second = reply(slack, "page2")
    assert second.params["replace_original"] is True
    expected = [i.card.title for i in assets.search("observability", offset=10).items]
    assert card_titles(blocks_of(second)) == expected and expected
    assert not set(expected) & set(card_titles(first))
    previous = button(second.params["blocks"], "asset_previous_page")
    wire.block_action("asset_previous_page", user_id=SE, value=previous["value"], response_name="page1")
    assert card_titles(blocks_of(reply(slack, "page1"))) == card_titles(first)


def test_share_posts_the_card_in_the_channel_and_counts_it(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    answer = ask(wire, "demo observability", user_id=SELLER, channel_id="C0ACME001")
    share = button(blocks_of(answer), "asset_share", str(row.id))
    response = wire.block_action("asset_share", user_id=SELLER, value=share["value"], channel_id="C0ACME001")
    assert response.status == 200
    post = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "C0ACME001")[0]
    blocks = blocks_of(post)
    assert card_titles(blocks) == [SE_DEMO]
    assert f"<@{SELLER}> shared an asset" in all_text(blocks)
    # Anyone in the channel may rate it; nobody gets curation buttons there.
    assert [b["action_id"] for b in buttons(blocks)] == ["asset_useful", "asset_not_useful"]
    assert eventually(lambda: asset_by_title(SE_DEMO).share_count == 1)
    with db.reading() as session:
        assert [(s.user_id, s.channel_id) for s in session.scalars(select(AssetShare))] == [(SELLER, "C0ACME001")]


def test_a_copy_of_a_share_on_a_replica_whose_database_is_slow_posts_nothing(
        catalogue: None, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    row = asset_by_title(SE_DEMO)

    def share() -> int:
        return wire.block_action("asset_share", user_id=SELLER, value=str(row.id), channel_id="C0ACME001",
                                 action_ts="1700000600.000001").status

    assert share() == 200
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "C0ACME001")
    assert eventually(lambda: asset_by_title(SE_DEMO).share_count == 1)
    # The post goes before the share is written: it too waits until the claim says this is a copy.
    slow_claims(monkeypatch, 1.0, landing=True)
    assert share() == 200
    time.sleep(2)  # a second post, had there been one, would have reached Slack by now
    assert len([c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0ACME001"]) == 1
    assert asset_by_title(SE_DEMO).share_count == 1


def test_a_share_whose_claim_the_database_cannot_answer_posts_nothing_and_says_so(
        catalogue: None, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    row = asset_by_title(SE_DEMO)
    slow_claims(monkeypatch, 2.5)
    assert wire.block_action("asset_share", user_id=SELLER, value=str(row.id), channel_id="C0ACME001").status == 200
    told = reply(slack, "action").params["text"]
    assert "nothing was changed" in told  # and true: nothing was posted either
    assert [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0ACME001"] == []
    assert asset_by_title(SE_DEMO).share_count == 0


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_share_where_the_bot_is_not_a_member_explains_how_to_fix_it(
    error: str, catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    row = asset_by_title(SE_DEMO)
    slack.fail("chat.postMessage", error=error)
    wire.block_action("asset_share", user_id=SE, value=str(row.id), channel_id="C0PRIVATE")
    answer = reply(slack, "action")
    assert answer.params["response_type"] == "ephemeral"
    assert "`/invite @epos`" in answer.params["text"]
    assert asset_by_title(SE_DEMO).share_count == 0


def test_useful_and_not_useful_count_once_per_person(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    wire.block_action("asset_useful", user_id=SE, value=str(row.id), response_name="v1")
    assert "Thanks, you marked" in reply(slack, "v1").params["text"]
    wire.block_action("asset_useful", user_id=SE, value=str(row.id), response_name="v2")
    assert "already marked" in reply(slack, "v2").params["text"]
    assert (asset_by_title(SE_DEMO).useful_count, asset_by_title(SE_DEMO).not_useful_count) == (1, 0)
    wire.block_action("asset_not_useful", user_id=SE, value=str(row.id), response_name="v3")
    assert reply(slack, "v3").params["text"].startswith(f"You changed your vote on “{SE_DEMO}” to not useful.")
    wire.block_action("asset_useful", user_id=SELLER, value=str(row.id), response_name="v4")
    reply(slack, "v4")
    after = asset_by_title(SE_DEMO)
    assert (after.useful_count, after.not_useful_count) == (1, 1)


def test_owners_and_admins_get_edit_and_archive_on_their_results(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    for user, expected in ((SE, True), (ADMIN, True), (STRANGER, False)):
        answer = ask(wire, "observability in 15 minutes", user_id=user)
        ids = {b["action_id"] for b in buttons(blocks_of(answer)) if b["value"] == str(row.id)}
        assert ({"asset_edit_open", "asset_archive"} <= ids) == expected
        assert "asset_share" in ids


def test_help_and_an_empty_command_explain_the_grammar(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    for command_text in ("", "help"):
        text = all_text(blocks_of(ask(wire, command_text, user_id=SE)))
        assert "`/asset demo observability`" in text and "*Marketing Workshop*:" in text


def test_a_stale_button_value_gets_a_clear_reply(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    wire.block_action("asset_useful", user_id=SE, value="not-a-number")
    assert "out of date" in reply(slack, "action").params["text"]


def test_share_from_the_ephemeral_answer_as_slack_sends_it(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    """Buttons on an ephemeral message come without a `message`; the channel is in `channel`/`container`."""
    row = asset_by_title(SE_DEMO)
    raw = (FIXTURES / "asset_share_from_ephemeral.json").read_text(encoding="utf-8")
    payload = json.loads(raw.replace("{response_url}", slack.response_url("ephemeral")).replace("{asset_id}", str(row.id)))
    assert wire.post_payload(payload).status == 200
    post = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "C0ACME001")[0]
    assert card_titles(blocks_of(post)) == [SE_DEMO]
    assert eventually(lambda: asset_by_title(SE_DEMO).share_count == 1)


def test_an_answer_slower_than_the_ack_budget_follows_at_the_response_url(
    catalogue: None, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first search after a start, say, waits for the index to be built.
    search = assets.search

    def slow_search(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return search(*args, **kwargs)

    monkeypatch.setattr(answers, "ACK_BUDGET_SECONDS", 0.1)
    monkeypatch.setattr(assets, "search", slow_search)
    response = wire.command("/asset", "demo observability", user_id=SE)
    assert (response.status, response.body) == (200, b"")  # Slack heard back in time, with nothing to show yet
    answer = reply(slack)
    assert answer.params["response_type"] == "ephemeral"
    assert card_titles(blocks_of(answer))[0] == SE_DEMO


def test_a_refusal_is_the_answer_in_the_ack(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    answer = ask(wire, "drafts", user_id=SE)  # drafts are for admins
    assert answer.params["response_type"] == "ephemeral"
    assert "/asset mine" in answer.params["text"]
    assert slack.responses == []


def test_a_search_that_fails_acks_in_time_and_apologises(
    catalogue: None, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_search(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(assets, "search", broken_search)
    response = wire.command("/asset", "demo observability", user_id=SE)
    assert (response.status, response.body) == (200, b"")
    told = reply(slack)
    assert told.params["response_type"] == "ephemeral"
    assert told.params["text"].startswith("Sorry, something went wrong on our side")
