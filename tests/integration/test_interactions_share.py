"""Sharing a second Proofshop or Workshop into an engagement's channel: the SE is told, once and kindly,
what the field guide says, with the team's figures. Over signed HTTP against the mock Slack."""

from __future__ import annotations

import time

import pytest

from bot.services import assets
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire
from tests.assets_helpers import asset_by_title, import_sample
from tests.support.waiting import eventually
from tests.conftest import SE
from tests.engagements_helpers import open_engagement

CHANNEL = "C0NBDEAL1"
PROOFSHOP = "Proving 5 TB/day log ingest on a customer-sized deployment"
WORKSHOP = "Observability fundamentals: hands-on lab for SRE teams"
KIND_WORD = "second Proofshop or Workshop for *Northbeam Logistics*"


@pytest.fixture
def northbeam(database_url: str) -> None:
    assets.reset_index()
    import_sample()
    open_engagement("Northbeam Logistics", "2026-01-05 10:00", channel_id=CHANNEL)


def share(wire: SlackWire, slack: MockSlack, title: str, name: str) -> None:
    row = asset_by_title(title)
    before = row.share_count
    assert wire.block_action("asset_share", user_id=SE, value=str(row.id), channel_id=CHANNEL,
                             response_name=name).status == 200
    assert eventually(lambda: asset_by_title(title).share_count == before + 1)


def test_the_second_heavy_share_gets_the_kind_word_once(northbeam: None, wire: SlackWire, slack: MockSlack) -> None:
    share(wire, slack, PROOFSHOP, "first")
    share(wire, slack, WORKSHOP, "second")
    told = slack.wait_for("response_url", lambda c: c.params.get("_name") == "second")[0].params
    assert KIND_WORD in told["text"] and told["response_type"] == "ephemeral"
    assert "most deals need only one interaction" in told["text"]
    assert told["replace_original"] is False  # the search answer stays

    share(wire, slack, WORKSHOP, "again")
    time.sleep(0.5)  # the kind word would follow the share at once; give it the time to show it does not
    assert [c.params.get("_name") for c in slack.responses if KIND_WORD in str(c.params)] == ["second"]


def test_the_card_counts_the_engagements_interactions_by_type(northbeam: None, wire: SlackWire,
                                                              slack: MockSlack) -> None:
    from tests.support.text import all_text

    share(wire, slack, PROOFSHOP, "first")
    share(wire, slack, WORKSHOP, "second")
    share(wire, slack, WORKSHOP, "again")  # the same asset twice is one interaction
    wire.command("/engagement", "northbeam", user_id=SE, response_name="card")
    card = all_text(slack.wait_for("response_url", lambda c: c.params.get("_name") == "card")[0].params["blocks"])
    assert "Field-asset interactions: 1 Proofshop · 1 Marketing Workshop." in card
