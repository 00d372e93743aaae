"""The stage checklists: ticking and unticking on an engagement, who may, the audit, the warning on leaving a
stage with deliverables open, links, and playbook edits that keep (or drop) items."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot import db
from bot.codecs import ChecklistBlock, fingerprint
from bot.errors import Conflict, Forbidden, InvalidInput
from bot.services import engagements, playbooks
from bot.services.actors import Actor
from bot.services.engagements import checklists
from models import AuditEntry, ChecklistTick
from models.enums import Outcome, Stage
from tests.conftest import STRANGER
from tests.engagements_helpers import MANAGER_ACTOR, SE_ACTOR, SELLER_ACTOR, move, open_engagement, utc

SUMMARY, INVENTORY, NEXT_STEP = "Discovery summary shared with the seller", "Data inventory", "Agreed next step"


@pytest.fixture(autouse=True)
def _team_playbooks(tmp_path: Path) -> Iterator[Path]:
    path = write_playbooks(tmp_path, summary_text=SUMMARY)
    yield path
    playbooks.configure(None)


def write_playbooks(tmp_path: Path, *, summary_text: str, keep_inventory: bool = True) -> Path:
    """The shipped playbooks, with discovery's deliverables replaced: one with an id, two without."""
    data = yaml.safe_load(playbooks.DEFAULT_PLAYBOOKS.read_text())
    deliverables: list[object] = [{"id": "summary", "text": summary_text}, NEXT_STEP]
    if keep_inventory:
        deliverables.insert(1, INVENTORY)
    data["discovery"]["deliverables"] = deliverables
    path = tmp_path / "playbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    playbooks.configure(path)
    return path


def in_discovery() -> int:
    engagement_id = open_engagement("Northbeam", "2026-10-01 09:00", stage=Stage.discovery)
    return engagement_id


def ids_of(engagement_id: int) -> dict[str, str]:
    """Item text → id, for the current stage."""
    return {line.text: line.id for line in checklists.checklist(engagement_id).lines}


def ticked(engagement_id: int) -> list[str]:
    return [line.text for line in checklists.checklist(engagement_id).lines if line.ticked]


def audit_rows(engagement_id: int) -> list[tuple[str, str, str]]:
    with db.reading() as session:
        rows = session.scalars(select(AuditEntry).where(
            AuditEntry.entity_id == str(engagement_id), AuditEntry.action.in_(["tick", "untick", "tick_link"]))
            .order_by(AuditEntry.id)).all()
        return [(row.actor_id, row.action, row.detail["item_id"]) for row in rows]


def test_ticking_and_unticking_is_audited_and_shows_on_the_card(database_url: str) -> None:
    engagement_id = in_discovery()
    ids = ids_of(engagement_id)

    first = checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {ids[SUMMARY]: True},
                                 now=utc("2026-10-02 10:00"))
    checklists.set_ticks(SELLER_ACTOR, engagement_id, Stage.discovery, {ids[NEXT_STEP]: True},
                         now=utc("2026-10-02 11:00"))
    checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {ids[NEXT_STEP]: False},
                         now=utc("2026-10-02 12:00"))

    assert first.deliverables_ticked == ["summary"]
    assert ticked(engagement_id) == [SUMMARY]
    card = engagements.card(engagement_id, viewer=SE_ACTOR, now=utc("2026-10-02 12:00"))
    line = next(line for line in card.checklist if line.text == SUMMARY)
    assert line.ticked and line.ticked_by == SE_ACTOR.user_id and line.ticked_at == utc("2026-10-02 10:00")
    assert audit_rows(engagement_id) == [(SE_ACTOR.user_id, "tick", "summary"),
                                         (SELLER_ACTOR.user_id, "tick", ids[NEXT_STEP]),
                                         (SE_ACTOR.user_id, "untick", ids[NEXT_STEP])]


def test_a_repeated_click_changes_nothing_and_writes_no_audit(database_url: str) -> None:
    engagement_id = in_discovery()
    checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {"summary": True})
    again = checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {"summary": True})
    assert again.ticked == [] and len(audit_rows(engagement_id)) == 1


def test_a_forged_tick_by_a_stranger_is_refused_and_changes_nothing(database_url: str) -> None:
    engagement_id = in_discovery()
    checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {"summary": True})
    stranger = Actor(user_id=STRANGER)

    with pytest.raises(Forbidden) as refused:
        checklists.set_ticks(stranger, engagement_id, Stage.discovery, {"summary": False})
    with pytest.raises(Forbidden):
        checklists.set_link(stranger, engagement_id, Stage.discovery, "summary", "https://evil.example.com")

    assert "may tick the checklist of *Northbeam*" in str(refused.value) and "Nothing was ticked" in str(refused.value)
    assert ticked(engagement_id) == [SUMMARY]
    assert [row[0] for row in audit_rows(engagement_id)] == [SE_ACTOR.user_id]
    # A manager is on every deal.
    checklists.set_ticks(MANAGER_ACTOR, engagement_id, Stage.discovery, {"summary": False})
    assert ticked(engagement_id) == []


def test_a_click_changes_only_the_item_clicked_and_keeps_ticks_made_since(database_url: str) -> None:
    engagement_id = in_discovery()
    ids = list(ids_of(engagement_id).values())
    deliverables = ids[-3:]
    drawn = ChecklistBlock(engagement_id=engagement_id, stage=Stage.discovery, group="deliverables", chunk=0,
                           fingerprint=fingerprint(deliverables), ticked=0)
    # The seller ticks the inventory on their own card after this one was drawn.
    checklists.set_ticks(SELLER_ACTOR, engagement_id, Stage.discovery, {deliverables[1]: True})

    checklists.click(SE_ACTOR, drawn, {deliverables[0]})

    assert ticked(engagement_id) == [SUMMARY, INVENTORY]
    stale = drawn.model_copy(update={"fingerprint": "00000000"})
    with pytest.raises(InvalidInput):
        checklists.click(SE_ACTOR, stale, set())


def test_leaving_a_stage_with_open_deliverables_warns_but_moves(database_url: str) -> None:
    engagement_id = in_discovery()
    checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {"summary": True}, now=utc("2026-10-02 10:00"))
    assert checklists.open_deliverables_now(engagement_id) == [INVENTORY, NEXT_STEP]

    result = move(engagement_id, Stage.demo, "2026-10-03 10:00")

    assert result.engagement.stage is Stage.demo
    assert result.open_deliverables == [INVENTORY, NEXT_STEP]
    # A tick on the card of the stage left is refused: the card is out of date.
    with pytest.raises(Conflict):
        checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {"summary": False})
    # Back in discovery, its ticks are still there; the undo itself warns of nothing.
    back = engagements.undo(SE_ACTOR, result.change_id, now=utc("2026-10-03 11:00"))
    assert back.open_deliverables == [] and ticked(engagement_id) == [SUMMARY]
    # Closing leaves discovery too, and warns alike; a closed card has no checklist to tick.
    closed = engagements.close(SE_ACTOR, engagement_id, Outcome.lost, now=utc("2026-10-04 10:00"))
    assert closed.open_deliverables == [INVENTORY, NEXT_STEP]
    assert engagements.card(engagement_id, viewer=SE_ACTOR).checklist == []


def test_deliverable_links_are_checked_and_kept(database_url: str) -> None:
    engagement_id = in_discovery()
    with pytest.raises(InvalidInput) as bad:
        checklists.set_link(SE_ACTOR, engagement_id, Stage.discovery, "summary", "docs/summary")
    assert bad.value.field == "link" and "https://" in str(bad.value)
    prerequisite = next(line.id for line in checklists.checklist(engagement_id).lines if line.group == "prerequisites")
    with pytest.raises(InvalidInput):
        checklists.set_link(SE_ACTOR, engagement_id, Stage.discovery, prerequisite, "https://docs.example.com/a")

    found = checklists.set_link(SE_ACTOR, engagement_id, Stage.discovery, "summary", " https://docs.example.com/s ")

    line = next(line for line in found.lines if line.id == "summary")
    assert line.ticked and line.link == "https://docs.example.com/s"
    assert [row[1] for row in audit_rows(engagement_id)] == ["tick", "tick_link"]
    # Saving the form again unchanged writes nothing; an empty link takes it off.
    checklists.set_link(SE_ACTOR, engagement_id, Stage.discovery, "summary", "https://docs.example.com/s")
    cleared = checklists.set_link(SELLER_ACTOR, engagement_id, Stage.discovery, "summary", "")
    assert next(line for line in cleared.lines if line.id == "summary").link is None
    assert [row[1] for row in audit_rows(engagement_id)] == ["tick", "tick_link", "tick_link"]


def test_rewording_an_item_with_an_id_keeps_its_tick_and_a_removed_item_leaves_the_card(
        database_url: str, tmp_path: Path) -> None:
    engagement_id = in_discovery()
    ids = ids_of(engagement_id)
    checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {ids[SUMMARY]: True, ids[INVENTORY]: True})

    write_playbooks(tmp_path, summary_text="Discovery summary, agreed with the seller", keep_inventory=False)

    assert ticked(engagement_id) == ["Discovery summary, agreed with the seller"]
    assert INVENTORY not in ids_of(engagement_id)
    with db.reading() as session:
        kept = session.scalars(select(ChecklistTick.item_id).where(ChecklistTick.engagement_id == engagement_id)).all()
    assert ids[INVENTORY] in kept
    assert ("U0A1B2C3D", "tick", ids[INVENTORY]) in audit_rows(engagement_id)
    # Leaving now warns of the deliverables the playbook has, not of the one removed.
    assert move(engagement_id, Stage.demo, "2026-10-03 10:00").open_deliverables == [NEXT_STEP]


def test_item_ids_are_validated_per_stage(tmp_path: Path) -> None:
    from bot.errors import ConfigError

    data = yaml.safe_load(playbooks.DEFAULT_PLAYBOOKS.read_text())
    data["demo"]["deliverables"] = [{"id": "recap", "text": "Recording"}, {"id": "recap", "text": "Questions"}]
    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        playbooks.configure(path)
    assert str(path) in str(caught.value) and "field demo" in str(caught.value)
    assert "deliverables item 2 (“Questions”): id recap" in str(caught.value)
    data["demo"]["deliverables"] = [{"id": "Not An Id", "text": "Recording"}]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="deliverables: item 1: id 'Not An Id' is not an item id"):
        playbooks.configure(path)
