"""Pasted asset links previewed (`link_shared` → `chat.unfurl`) and the shortcuts on messages and in the
shortcuts menu, over signed HTTP against the mock Slack."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import db
from bot.services import assets
from bot.services.actors import Actor
from models import AssetShare, EngagementNote, SearchMiss
from tests.assets_helpers import asset_by_title
from tests.conftest import ADMIN, SE, SELLER, STRANGER
from tests.engagements_helpers import open_engagement
from tests.support.locks import slow_claims
from tests.support.slack import MockSlack
from tests.support.text import all_text, message_text
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

DEAL = "C0NBDEAL1"
DEMO = "Observability in 15 minutes: from alert to root cause"
DEMO_URL = "https://assets.example.com/demos/observability-alert-to-root-cause"
INTERNAL_URL = "https://assets.example.com/demos/unified-telemetry-online-store"


def paste(wire: SlackWire, *urls: str, channel: str = DEAL, ts: str = "1700000100.000200",
          source: str = "conversations_history") -> None:
    event = {"type": "link_shared", "channel": channel, "user": SE, "message_ts": ts, "source": source,
             "unfurl_id": f"{channel}.{ts}.abc", "is_bot_user_member": True, "event_ts": ts,
             "links": [{"domain": "assets.example.com", "url": url} for url in urls]}
    assert wire.event(event).status == 200


def shares() -> list[tuple[int, str, str, int | None]]:
    """Each share counted: asset, who, where, and the engagement it is one of."""
    with db.reading() as session:
        return [tuple(row) for row in session.execute(select(
            AssetShare.asset_id, AssetShare.user_id, AssetShare.channel_id, AssetShare.engagement_id)).all()]


@pytest.fixture
def northbeam(catalogue: None) -> int:
    return open_engagement("Northbeam Logistics", "2026-01-05 10:00", channel_id=DEAL)


def test_a_pasted_catalogue_link_gets_its_card_and_counts_as_the_deals_share(
        northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    paste(wire, DEMO_URL + "/", "https://elsewhere.example.org/page")
    call = slack.wait_for("chat.unfurl")[0].params
    assert (call["channel"], call["ts"]) == (DEAL, "1700000100.000200")
    assert list(call["unfurls"]) == [DEMO_URL + "/"]  # the foreign link is left alone
    card = call["unfurls"][DEMO_URL + "/"]["blocks"]
    text = all_text(card)
    assert DEMO in text and "Demo" in text and "Owner <@" in text
    assert [b["text"]["text"] for b in card[-1]["elements"]] == ["👍 Useful", "👎 Not useful"]
    assert eventually(lambda: len(shares()) == 1)
    assert shares()[0] == (asset_by_title(DEMO).id, SE, DEAL, northbeam)
    # The same message again (Slack resends under a new event id): shown again, counted once.
    paste(wire, DEMO_URL + "/")
    slack.wait_for("chat.unfurl", count=2)
    assert len(shares()) == 1 and asset_by_title(DEMO).share_count == 1


def test_a_pasted_link_is_counted_even_when_the_database_cannot_answer_its_claim_in_time(
        northbeam: int, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    # An event is acknowledged before it is handled and has nobody to send it again: not lost.
    slow_claims(monkeypatch, 2.5)
    paste(wire, DEMO_URL)
    slack.wait_for("chat.unfurl")
    assert eventually(lambda: len(shares()) == 1)
    assert [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == SE] == []


def test_a_second_heavy_asset_pasted_into_a_deal_gets_the_kind_word(northbeam: int, wire: SlackWire,
                                                                     slack: MockSlack) -> None:
    paste(wire, "https://assets.example.com/proofshops/log-ingest-5tb-day", ts="1700000100.000400")
    paste(wire, "https://assets.example.com/workshops/observability-fundamentals", ts="1700000100.000500")
    told = slack.wait_for("chat.postEphemeral")[0].params
    assert told["user"] == SE and "second Proofshop or Workshop for *Northbeam Logistics*" in message_text(told)


def test_foreign_links_and_links_still_in_the_composer_get_nothing(catalogue: None, wire: SlackWire,
                                                                        slack: MockSlack) -> None:
    paste(wire, "https://assets.example.com/not/in/the/catalogue", "https://elsewhere.example.org/x")
    paste(wire, DEMO_URL, channel="COMPOSER", source="composer")
    # The catch-all would answer too: a link that is the catalogue's shows the listener ran by then.
    paste(wire, DEMO_URL, ts="1700000100.000300")
    assert len(slack.wait_for("chat.unfurl")) == 1
    assert slack.calls_to("chat.unfurl")[0].params["ts"] == "1700000100.000300"


def test_an_archived_assets_link_says_so_and_offers_the_newest_of_its_kind(catalogue: None, wire: SlackWire,
                                                                             slack: MockSlack) -> None:
    assets.archive(asset_by_title(DEMO).id, Actor(user_id=ADMIN, admin=True))
    paste(wire, DEMO_URL)
    text = all_text(slack.wait_for("chat.unfurl")[0].params["unfurls"][DEMO_URL]["blocks"])
    assert "was archived" in text and DEMO in text
    assert "The newest Demo on" in text and "👍 Useful" in text
    assert shares() == []  # an archived asset was not shared


def test_a_conversation_with_another_organisation_sees_only_customer_facing_cards(catalogue: None, wire: SlackWire,
                                                                                  slack: MockSlack) -> None:
    slack.share_channel("C0EXTERN1", "Acme Robotics")
    paste(wire, DEMO_URL, INTERNAL_URL, channel="C0EXTERN1")
    unfurls = slack.wait_for("chat.unfurl")[0].params["unfurls"]
    assert list(unfurls) == [DEMO_URL]  # made for customers; the internal one is left alone
    assert "Useful" not in all_text(unfurls[DEMO_URL]["blocks"])  # our team's votes stay ours


def test_find_assets_for_a_message_answers_privately_with_share_buttons(catalogue: None, wire: SlackWire,
                                                                         slack: MockSlack) -> None:
    assert wire.message_shortcut("message_find_assets", user_id=SE,
                                 text="Hi team, the customer asked again:\na demo of kubernetes monitoring?").status == 200
    answer = slack.wait_for("response_url", lambda c: c.params.get("_name") == "shortcut")[0].params
    assert answer["response_type"] == "ephemeral"
    assert "Kubernetes cluster health at a glance" in message_text(answer)
    assert "Share in channel" in message_text(answer)
    # A message's chat words ("hi", "team", "asked") are no content gap, nor words it "did not match".
    assert "No asset matches all of" not in message_text(answer)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(SearchMiss)) == 0


def test_add_to_an_engagement_prefills_the_deal_and_adds_the_note(northbeam: int, wire: SlackWire,
                                                                     slack: MockSlack) -> None:
    slack.add_user(SELLER, name="Nora Quint", tz="America/New_York")
    assert wire.message_shortcut("message_add_to_engagement", user_id=SE, channel_id=DEAL,
                                 text=f"<@{SELLER}>: they want SSO before the pilot, see "
                                      "<https://docs.example.com/sso|their notes> &amp; <#C0NBDEAL1|deals>").status == 200
    view = slack.wait_for("views.open")[0].params["view"]
    picked = next(b for b in view["blocks"] if b.get("block_id") == "engagement_pick")
    assert "Northbeam Logistics" in picked["element"]["initial_option"]["text"]["text"]
    note_input = next(b for b in view["blocks"] if b.get("block_id") == "engagement_note_text")
    note = note_input["element"]["initial_value"]
    # As the message reads in Slack: the person by name, the link by its label, no markup.
    assert note.startswith("@Nora Quint: they want SSO before the pilot, see their notes "
                           "(https://docs.example.com/sso) & #deals") and "/archives/C0NBDEAL1/p" in note
    values = {"engagement_pick": {"engagement_field": {"type": "static_select", "selected_option":
                                                       picked["element"]["initial_option"]}},
              "engagement_note_text": {"engagement_field": {"type": "plain_text_input", "value": note}}}
    assert wire.view_submission(view, values, user_id=SE).status == 200
    assert eventually(lambda: notes() == [note])
    told = slack.wait_for("response_url", lambda c: c.params.get("_name") == "shortcut")[0].params
    assert "Northbeam Logistics" in message_text(told)


def test_a_message_too_long_for_a_note_is_clipped_and_says_so(northbeam: int, wire: SlackWire,
                                                               slack: MockSlack) -> None:
    wire.message_shortcut("message_add_to_engagement", user_id=SE, channel_id=DEAL, text="word " * 1000)
    view = slack.wait_for("views.open")[0].params["view"]
    text = all_text(view["blocks"])
    assert "The message is 4,999 characters and a note holds 2,000" in text
    note = next(b for b in view["blocks"] if b.get("block_id") == "engagement_note_text")["element"]["initial_value"]
    assert len(note) <= 2000 and "clipped: the message is 4,999 characters" in note and "/archives/" in note


def test_add_to_an_engagement_without_open_engagements_says_what_to_do(catalogue: None, wire: SlackWire,
                                                                       slack: MockSlack) -> None:
    wire.message_shortcut("message_add_to_engagement", user_id=STRANGER, text="hello")
    answer = slack.wait_for("response_url", lambda c: c.params.get("_name") == "shortcut")[0].params
    assert "no open engagements" in message_text(answer) and "/engagement new" in message_text(answer)
    assert slack.calls_to("views.open") == []


def test_ask_devrel_opens_the_request_form_with_the_brief(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.message_shortcut("message_ask_devrel", user_id=SE, channel_id=DEAL, text="How does tail sampling work?")
    view = slack.wait_for("views.open")[0].params["view"]
    assert view["callback_id"] == "devrel_request"
    asked = next(b for b in view["blocks"] if b.get("block_id") == "devrel_customer_asked")
    assert asked["element"]["initial_value"] == "How does tail sampling work?"
    picked = next(b for b in view["blocks"] if b.get("block_id") == "devrel_engagement")
    assert "Northbeam Logistics" in picked["element"]["initial_option"]["text"]["text"]


def notes() -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(EngagementNote.text)).all())
