"""The card's stage checklist over signed HTTP: a tick is one click, a deliverable asks for its link, a
stranger's forged tick is refused, and a stage change says what was left open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import clock, db
from models import AuditEntry, ChecklistTick
from tests.conftest import SE, STRANGER
from tests.engagements_helpers import open_engagement
from tests.integration.test_engagements_commands import opened_view, reply, valid_blocks
from tests.support.slack import MockSlack
from tests.support.text import all_text
from tests.support.wire import SlackWire


@pytest.fixture
def northbeam(database_url: str) -> int:
    return open_engagement("Northbeam Logistics", (clock.now() - timedelta(days=3)).strftime("%Y-%m-%d %H:%M"))


def deliverables_element(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    found = [b for b in blocks if (b.get("accessory") or {}).get("type") == "checkboxes"]
    return next(b for b in found if '"g":"deliverables"' in b["block_id"])


def ticks(engagement_id: int) -> list[tuple[str, str | None]]:
    with db.reading() as session:
        return [(row.ticked_by, row.link) for row in session.scalars(
            select(ChecklistTick).where(ChecklistTick.engagement_id == engagement_id))]


def test_a_tick_from_the_card_asks_for_the_link_and_a_strangers_forged_tick_is_refused(
        northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.command("/engagement", "Northbeam Logistics", user_id=SE, response_name="card")
    block = deliverables_element(valid_blocks(reply(slack, "card").params["blocks"]))
    first = block["accessory"]["options"][0]

    forged = wire.block_action(block["accessory"]["action_id"], user_id=STRANGER, block_id=block["block_id"],
                               selected_options=[first], response_name="forged")
    assert forged.status == 200
    refusal = reply(slack, "forged")
    assert "may tick the checklist" in refusal.params["text"] and ticks(northbeam) == []

    wire.block_action(block["accessory"]["action_id"], user_id=SE, block_id=block["block_id"],
                      selected_options=[first], response_name="tick")
    redrawn = reply(slack, "tick")
    assert redrawn.params.get("replace_original") is True
    assert "1 of" in all_text(valid_blocks(redrawn.params["blocks"]))
    assert ticks(northbeam) == [(SE, None)]

    form = opened_view(slack, "engagement_deliverable_link")
    bad = wire.view_submission(form, {"engagement_deliverable_link_url": {"engagement_field": {
        "type": "plain_text_input", "value": "summary.docx"}}}, user_id=SE)
    assert bad.status == 200 and b"https://" in bad.body
    good = wire.view_submission(form, {"engagement_deliverable_link_url": {"engagement_field": {
        "type": "plain_text_input", "value": "https://docs.example.com/briefing"}}}, user_id=SE)
    assert good.status == 200 and not good.body
    assert ticks(northbeam) == [(SE, "https://docs.example.com/briefing")]
    assert "https://docs.example.com/briefing" in all_text(reply(slack, "tick", count=2).params["blocks"])

    wire.command("/engagement", "northbeam discovery", user_id=SE, response_name="move")
    moved = all_text(reply(slack, "move").params["blocks"])
    assert "*Preparation* was left with 2 deliverables not ticked" in moved
    with db.reading() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(northbeam))
                                       .order_by(AuditEntry.id)))
    assert actions == ["open", "tick", "tick_link", "stage"]
