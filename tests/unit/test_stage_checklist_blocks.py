"""The stage checklist as Block Kit: checkboxes ten at a time for people on the deal, a plain list for the
rest, links, the link form, and the warnings on leaving a stage with deliverables open."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from slack_sdk.models.blocks import Block

from bot.blocks import engagements as blocks
from bot.blocks import stage_checklist
from bot.codecs import ChecklistBlock, fingerprint
from models.enums import Stage
from models.schemas.stage_checklists import ChecklistLine
from tests.support.text import all_text
from tests.unit.test_engagements_blocks import card, summary

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def lines(deliverables: int = 3, ticked: tuple[int, ...] = ()) -> list[ChecklistLine]:
    found = [ChecklistLine(id="p1", group="prerequisites", text="Success criteria signed off")]
    found += [ChecklistLine(id=f"d{n}", group="deliverables", text=f"Deliverable {n} " + "x" * 90,
                            ticked=n in ticked, link="https://docs.example.com/d1" if n == 1 and n in ticked else None)
              for n in range(deliverables)]
    return found


def checkboxes(message: dict) -> list[dict]:
    for block in Block.parse_all(message["blocks"]):
        block.validate_json()
    return [b for b in message["blocks"] if (b.get("accessory") or {}).get("type") == "checkboxes"]


def test_the_card_has_a_checkbox_per_item_ten_to_an_element_and_remembers_what_was_drawn() -> None:
    message = blocks.card_message(card(checklist=lines(deliverables=12, ticked=(1, 11))))

    found = checkboxes(message)

    assert [len(b["accessory"]["options"]) for b in found] == [1, 10, 2]
    drawn = [ChecklistBlock.decode(b["block_id"]) for b in found]
    assert [(d.group, d.chunk, d.ticked) for d in drawn] == [("prerequisites", 0, 0), ("deliverables", 0, 0b10),
                                                            ("deliverables", 1, 0b10)]
    assert drawn[1].fingerprint == fingerprint([f"d{n}" for n in range(10)])
    assert [o["value"] for o in found[1]["accessory"]["initial_options"]] == ["d1"]
    assert len({b["accessory"]["action_id"] for b in found}) == 3
    text = all_text(message)
    assert "2 of 13 ticked" in text and "https://docs.example.com/d1" in text


def test_someone_not_on_the_deal_sees_the_items_without_checkboxes() -> None:
    message = blocks.card_message(card(checklist=lines(ticked=(0,)), viewer_may_change=False))
    assert checkboxes(message) == []
    assert "☑️ Deliverable 0" in all_text(message) and "⬜ Deliverable 1" in all_text(message)


def test_the_link_form_fits_slack_and_carries_the_item() -> None:
    line = lines(ticked=(1,))[2]
    view = stage_checklist.link_form(line, engagement_id=7, stage=Stage.poc, response_url="https://hooks.slack.com/x")
    for block in Block.parse_all(view["blocks"]):
        block.validate_json()
    meta = json.loads(view["private_metadata"])
    assert meta == {"e": 7, "s": "poc", "i": "d1", "r": "https://hooks.slack.com/x"}
    assert view["blocks"][1]["element"]["initial_value"] == "https://docs.example.com/d1"


def test_leaving_a_stage_with_open_deliverables_is_said_before_and_after_the_move() -> None:
    from models.schemas.engagements import StageChangeResult

    form = blocks.stage_form(summary(), today=date(2026, 11, 20), metadata="{}",
                             open_deliverables=["Sizing sheet"])
    assert "still has 1 deliverable not ticked" in all_text(form) and "Sizing sheet" in all_text(form)
    result = StageChangeResult(engagement=summary(stage=Stage.tech_qa), change_id=9, from_stage=Stage.poc,
                               to_stage=Stage.tech_qa, effective_at=NOW, backdated=False, actor_id="U0A1B2C3D",
                               open_deliverables=["Results report", "Go/no-go <decision>"])
    text = all_text(blocks.change_result_message(result))
    assert "*POC* was left with 2 deliverables not ticked" in text
    assert "Go/no-go &lt;decision&gt;" in text
    quiet = result.model_copy(update={"open_deliverables": []})
    assert "not ticked" not in all_text(blocks.change_result_message(quiet))
    assert "not ticked" not in all_text(blocks.stage_form(summary(), today=date(2026, 11, 20), metadata="{}"))


def test_the_digest_shows_the_checklist_figures_and_counts_only_below_five() -> None:
    from models.schemas.stage_checklists import CompletionGroup, DeliverableFigures, DeliverableShare

    figures = DeliverableFigures(
        since=NOW, until=NOW, min_count=5,
        by_stage={"discovery": DeliverableShare(left=7, all_done=5, share=5 / 7),
                  "demo": DeliverableShare(left=3, all_done=1), "poc": DeliverableShare(left=0, all_done=0)},
        completed=CompletionGroup(closed=5, won=3, win_rate=0.6, mttc_days_median=15.0),
        not_completed=CompletionGroup(closed=2, won=1))

    text = stage_checklist.deliverables_section(figures, weeks=12)

    assert "Discovery 5 of 7 (71%), Demo 1 of 3." in text and "POC" not in text
    assert "every deliverable ticked: 5 engagements, 60% won, a median of 15.0 days to close" in text
    assert "some left open: 2 engagements, too few to say yet" in text
    assert figures.as_json()["not_completed"] == {"closed": 2, "won": 1, "win_rate": None, "mttc_days_median": None}
    assert "left open" not in text.split("some left open")[1]  # nothing skipped, no cost: no such lines

    busy = figures.model_copy(update={
        "by_stage": {"discovery": DeliverableShare(left=7, all_done=5, share=5 / 7,
                                                   skipped={"Agreed next step": 2, "Discovery summary": 1}),
                     "sizing": DeliverableShare(left=5, all_done=2, share=0.4, skipped={"Sizing sheet": 3})},
        "not_completed": CompletionGroup(closed=6, won=2, win_rate=1 / 3, mttc_days_median=22.5)})
    text = stage_checklist.deliverables_section(busy, weeks=12)
    assert "• Leaving deliverables open went with 7.5 days more to close (median)." in text
    assert ("• Most often left open: Sizing sheet in Sizing (3), Agreed next step in Discovery (2), Discovery summary "
            "in Discovery (1).") in text
    assert busy.as_json()["by_stage"]["sizing"]["skipped"] == {"Sizing sheet": 3}


def test_epos_try_sends_what_slack_would_after_a_click_on_a_checkbox() -> None:
    from bot.tryout.actions import clicked

    options = [{"text": {"type": "plain_text", "text": name}, "value": name} for name in ("a", "b", "c")]
    element = {"type": "checkboxes", "options": options, "initial_options": [options[0]]}

    def values(chosen: str) -> list[str]:
        return [o["value"] for o in clicked(element, {"selected_options": [{"value": chosen}]})["selected_options"]]

    assert values("b") == ["a", "b"]  # ticking one more keeps what was ticked
    assert values("a") == []  # clicking a ticked one unticks it
