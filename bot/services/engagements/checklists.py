"""The stage checklists: each stage's prerequisites, calls to action and deliverables (bot/services/playbooks.py)
as items ticked on the engagement, by the people who may change it (`common.may_change`).

A tick is one row (models/checklists.py); an untick deletes it. Both go to the audit log with who and when,
so a tick taken back, or an item since removed from the playbook, stays on record while the card shows only
the items the playbook has now. Ticks are per stage, so an engagement back in a stage finds its ticks there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import clock, db
from bot.blocks.text import escape
from bot.codecs import CHECKLIST_CHUNK, ChecklistBlock, fingerprint
from bot.errors import Conflict, Forbidden, InvalidInput
from bot.services import audit, playbooks
from bot.services.actors import Actor
from bot.services.engagements.common import _entity, _label, _load, may_change
from models import ChecklistTick, Engagement
from models.enums import Stage
from models.schemas.stage_checklists import StageChecklist, ChecklistLine, TickResult

LINK_LIMIT = 3000
CHANGED = ("The playbook of this stage has changed since this card was drawn, so nothing was ticked. Open the "
           "card again with `/engagement ACCOUNT` and tick it there.")
STRANGER = ("Only the owner <@{owner}>, the seller <@{seller}> or a presales manager may tick the checklist of "
            "{label}. Nothing was ticked. Ask <@{owner}> to tick it.")
MOVED_ON = ("{label} has moved to *{stage}* since this card was drawn, so nothing was ticked. Here is its card "
            "now: `/engagement {account}`.")
CLOSED = "{label} is closed; its checklist can no longer be ticked. Reopen it from its card to tick it."
GONE = ("That item is no longer in the *{stage}* playbook, so nothing was ticked. Open the card again: "
        "`/engagement {account}`.")
NOT_A_DELIVERABLE = "Only a deliverable carries a link; that item is not one of the *{stage}* deliverables."
BAD_LINK = "That is not a web link. Paste the whole address, starting with https://, for example https://docs.example.com/summary."
LONG_LINK = f"That link is longer than {LINK_LIMIT} characters; shorten it or link the folder it is in."


def lines(session: Session, engagement_id: int, stage: Stage) -> list[ChecklistLine]:
    """The stage's items as the playbook has them now, each with its tick; ticks of removed items stay out."""
    ticks = {tick.item_id: tick for tick in session.scalars(
        select(ChecklistTick).where(ChecklistTick.engagement_id == engagement_id, ChecklistTick.stage == stage.value))}
    found = []
    for item in playbooks.playbook(stage).checklist():
        tick = ticks.get(item.id)
        found.append(ChecklistLine(id=item.id, group=item.group, text=item.text, ticked=tick is not None,
                                   link=tick.link if tick else None, ticked_by=tick.ticked_by if tick else None,
                                   ticked_at=tick.ticked_at if tick else None))
    return found


def open_deliverables(session: Session, engagement_id: int, stage: Stage) -> list[str]:
    """The deliverables of the stage nobody has ticked, in the playbook's order."""
    if Stage(stage) is Stage.closed:
        return []
    return [line.text for line in lines(session, engagement_id, Stage(stage))
            if line.group == "deliverables" and not line.ticked]


def open_deliverables_now(engagement_id: int) -> list[str]:
    """The current stage's deliverables nobody has ticked, for the stage form's warning."""
    with db.reading() as session:
        engagement = _load(session, engagement_id)
        return open_deliverables(session, engagement_id, Stage(engagement.stage))


def checklist(engagement_id: int) -> StageChecklist:
    """The current stage's checklist (no items once closed)."""
    with db.reading() as session:
        engagement = _load(session, engagement_id)
        stage = Stage(engagement.stage)
        found = [] if stage is Stage.closed else lines(session, engagement_id, stage)
        return StageChecklist(engagement_id=engagement_id, stage=stage, lines=found)


def _require_tick_right(actor: Actor, engagement: Engagement) -> None:
    if not may_change(actor, engagement):
        raise Forbidden(STRANGER.format(owner=engagement.owner_id, seller=engagement.seller_id,
                                        label=_label(engagement)))


def _ticking(session: Session, actor: Actor, engagement_id: int, stage: Stage) -> Engagement:
    """The engagement, once the actor may tick it and it is still in the stage the card showed."""
    engagement = _load(session, engagement_id, lock=True)
    _require_tick_right(actor, engagement)
    if engagement.stage == Stage.closed:
        raise Conflict(CLOSED.format(label=_label(engagement)))
    if engagement.stage != Stage(stage):
        raise Conflict(MOVED_ON.format(label=_label(engagement), stage=Stage(engagement.stage).label,
                                       account=escape(engagement.account)))
    return engagement


def set_ticks(actor: Actor, engagement_id: int, stage: Stage, wanted: Mapping[str, bool], *,
              now: datetime | None = None) -> TickResult:
    """Tick (True) or untick (False) items of the stage. An item already as wanted is left alone, so a
    repeated click changes nothing; each change is audited."""
    now = now or clock.now()
    stage = Stage(stage)
    with db.transaction() as session:
        engagement = _ticking(session, actor, engagement_id, stage)
        items = {item.id: item for item in playbooks.playbook(stage).checklist()}
        if any(item_id not in items for item_id in wanted):
            raise Conflict(GONE.format(stage=stage.label, account=escape(engagement.account)))
        ticks = {tick.item_id: tick for tick in session.scalars(
            select(ChecklistTick).where(ChecklistTick.engagement_id == engagement_id,
                                        ChecklistTick.stage == stage.value, ChecklistTick.item_id.in_(list(wanted))))}
        ticked: list[str] = []
        unticked: list[str] = []
        for item_id, tick in wanted.items():
            item, existing = items[item_id], ticks.get(item_id)
            if tick and existing is None:
                session.add(ChecklistTick(engagement_id=engagement_id, stage=stage.value, item_id=item_id,
                                          item_group=item.group, text=item.text, link=None,
                                          ticked_by=actor.user_id, ticked_at=now))
                ticked.append(item_id)
            elif not tick and existing is not None:
                session.delete(existing)
                unticked.append(item_id)
            else:
                continue
            audit.record(session, actor_id=actor.user_id, entity=_entity(engagement), entity_id=engagement.id,
                         action="tick" if tick else "untick", at=now, stage=stage.value, item_id=item_id,
                         group=item.group, text=item.text)
        if ticked or unticked:
            engagement.last_activity_at = now
            engagement.updated_at = now
        session.flush()
        return TickResult(
            checklist=StageChecklist(engagement_id=engagement_id, stage=stage, lines=lines(session, engagement_id, stage)),
            ticked=ticked, unticked=unticked,
            deliverables_ticked=[i for i in ticked if items[i].group == "deliverables"])


def click(actor: Actor, block: ChecklistBlock, selected: set[str], *, now: datetime | None = None) -> TickResult:
    """A click on one checkboxes element of the card: Slack sends what is ticked in it now, so the items
    whose state differs from when the card was drawn are the ones clicked. Ticks others made since stay."""
    items = [item for item in playbooks.playbook(block.stage).checklist() if item.group == block.group]
    held = [item.id for item in items[block.chunk * CHECKLIST_CHUNK:(block.chunk + 1) * CHECKLIST_CHUNK]]
    if not held or fingerprint(held) != block.fingerprint:
        raise InvalidInput(CHANGED)
    drawn = {item_id for position, item_id in enumerate(held) if block.ticked >> position & 1}
    wanted = {item_id: item_id in selected for item_id in held if (item_id in selected) != (item_id in drawn)}
    return set_ticks(actor, block.engagement_id, block.stage, wanted, now=now)


def clean_link(url: str) -> str:
    """A web link as typed, checked: http(s), a host, no spaces; InvalidInput (field `link`) otherwise."""
    url = url.strip()
    if len(url) > LINK_LIMIT:
        raise InvalidInput(LONG_LINK, field="link")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidInput(BAD_LINK, field="link") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise InvalidInput(BAD_LINK, field="link")
    return url


def set_link(actor: Actor, engagement_id: int, stage: Stage, item_id: str, url: str, *,
             now: datetime | None = None) -> StageChecklist:
    """Give a deliverable its link (ticking it if it was not), or take the link off with an empty `url`."""
    now = now or clock.now()
    stage = Stage(stage)
    url = url.strip()
    link = clean_link(url) if url else None
    with db.transaction() as session:
        engagement = _ticking(session, actor, engagement_id, stage)
        item = next((i for i in playbooks.playbook(stage).checklist() if i.id == item_id), None)
        if item is None:
            raise Conflict(GONE.format(stage=stage.label, account=escape(engagement.account)))
        if item.group != "deliverables":
            raise InvalidInput(NOT_A_DELIVERABLE.format(stage=stage.label), field="link")
        tick = session.scalar(select(ChecklistTick).where(
            ChecklistTick.engagement_id == engagement_id, ChecklistTick.stage == stage.value,
            ChecklistTick.item_id == item_id))
        if tick is None:
            tick = ChecklistTick(engagement_id=engagement_id, stage=stage.value, item_id=item_id,
                                 item_group=item.group, text=item.text, link=link, ticked_by=actor.user_id,
                                 ticked_at=now)
            session.add(tick)
            audit.record(session, actor_id=actor.user_id, entity=_entity(engagement), entity_id=engagement.id,
                         action="tick", at=now, stage=stage.value, item_id=item_id, group=item.group, text=item.text)
            linked = link is not None
        elif tick.link != link:
            tick.link = link
            linked = True
        else:
            return StageChecklist(engagement_id=engagement_id, stage=stage, lines=lines(session, engagement_id, stage))
        if linked:
            audit.record(session, actor_id=actor.user_id, entity=_entity(engagement), entity_id=engagement.id,
                         action="tick_link", at=now, stage=stage.value, item_id=item_id, link=link)
        engagement.last_activity_at = now
        engagement.updated_at = now
        session.flush()
        return StageChecklist(engagement_id=engagement_id, stage=stage, lines=lines(session, engagement_id, stage))
