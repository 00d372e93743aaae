"""Figures of the stage checklists: does ticking the deliverables go with faster, more often won deals?

Definitions (README › Engagements › Stage checklists):
- A stage was left with all deliverables done when every deliverable its playbook has now is ticked on the
  engagement for that stage. An item can be ticked only while the engagement is in its stage, so the ticks
  standing now are the ones made there; an item removed from the playbook no longer counts.
- Per stage: of the stints (bot/services/stints.py) that left the stage in [since, until), the share left
  with all deliverables done. A stage whose playbook has no deliverables has no figure.
- Completed: an engagement closed in [since, until) that left every stage it went through with all
  deliverables done. Win rate (won of closed) and median MTTC days, for completed against not.
Practice engagements count in none of them (`counted()`), and below MIN_COUNT engagements a figure shows
its counts only: a share of three deals says nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot import db
from bot.services import playbooks
from bot.services.sql import at, epoch_days
from models import ChecklistTick, Engagement, StageStint
from models.engagements import counted
from models.enums import OPEN_STAGES, Outcome
from models.schemas.stage_checklists import CompletionGroup, DeliverableFigures, DeliverableShare

MIN_COUNT = 5


def _deliverables() -> dict[str, dict[str, str]]:
    """Per stage, its deliverables' ids and texts."""
    return {stage.value: {item.id: item.text for item in playbooks.playbook(stage).checklist()
                          if item.group == "deliverables"}
            for stage in OPEN_STAGES}


def _ticked(session: Session, engagement_ids: Select[Any]) -> dict[tuple[int, str], set[str]]:
    found: dict[tuple[int, str], set[str]] = defaultdict(set)
    for engagement_id, stage, item_id in session.execute(
            select(ChecklistTick.engagement_id, ChecklistTick.stage, ChecklistTick.item_id)
            .where(ChecklistTick.item_group == "deliverables", ChecklistTick.engagement_id.in_(engagement_ids))):
        found[(engagement_id, str(stage))].add(item_id)
    return found


def _group(rows: list[tuple[str | None, float]]) -> CompletionGroup:
    closed, won = len(rows), sum(outcome == Outcome.won.value for outcome, _ in rows)
    enough = closed >= MIN_COUNT
    return CompletionGroup(closed=closed, won=won, win_rate=won / closed if enough else None,
                           mttc_days_median=float(median(days for _, days in rows)) if enough else None)


def deliverable_figures(since: datetime, until: datetime, *, owner_id: str | None = None) -> DeliverableFigures:
    """The figures of [since, until), the team's or one owner SE's."""
    wanted = _deliverables()
    owned = [Engagement.owner_id == owner_id] if owner_id else []
    with db.reading() as session:
        left = select(StageStint.engagement_id, StageStint.stage).join(
            Engagement, Engagement.id == StageStint.engagement_id).where(
            StageStint.left_at >= at(since), StageStint.left_at < at(until), counted(), *owned,
            StageStint.stage.in_([stage.value for stage in OPEN_STAGES]))
        stints = session.execute(left).all()
        closed_window = [Engagement.closed_at.is_not(None), Engagement.closed_at >= at(since),
                         Engagement.closed_at < at(until), counted(), *owned]
        closed = session.execute(select(
            Engagement.id, Engagement.outcome,
            epoch_days(Engagement.closed_at) - epoch_days(Engagement.opened_at)).where(*closed_window)).all()
        closed_ids = select(Engagement.id).where(*closed_window)
        their_stints = session.execute(select(StageStint.engagement_id, StageStint.stage).where(
            StageStint.engagement_id.in_(closed_ids), StageStint.left_at.is_not(None))).all()
        ticked = _ticked(session, select(StageStint.engagement_id).where(
            StageStint.left_at >= at(since), StageStint.left_at < at(until)))
        ticked.update(_ticked(session, closed_ids))

    def done(engagement_id: int, stage: str) -> bool:
        return set(wanted.get(stage, {})) <= ticked.get((engagement_id, stage), set())

    by_stage: dict[str, DeliverableShare] = {}
    for stage in OPEN_STAGES:
        if not wanted[stage.value]:
            continue
        here = [engagement_id for engagement_id, s in stints if str(s) == stage.value]
        all_done = sum(done(engagement_id, stage.value) for engagement_id in here)
        skipped = {text: sum(item_id not in ticked.get((engagement_id, stage.value), set()) for engagement_id in here)
                   for item_id, text in wanted[stage.value].items()}
        by_stage[stage.value] = DeliverableShare(
            left=len(here), all_done=all_done, share=all_done / len(here) if len(here) >= MIN_COUNT else None,
            skipped=dict(sorted(((text, n) for text, n in skipped.items() if n), key=lambda item: (-item[1], item[0]))))
    incomplete = {engagement_id for engagement_id, stage in their_stints if not done(engagement_id, str(stage))}
    completed = [(outcome, float(days)) for engagement_id, outcome, days in closed if engagement_id not in incomplete]
    not_completed = [(outcome, float(days)) for engagement_id, outcome, days in closed if engagement_id in incomplete]
    return DeliverableFigures(since=since, until=until, by_stage=by_stage, completed=_group(completed),
                              not_completed=_group(not_completed), min_count=MIN_COUNT)

