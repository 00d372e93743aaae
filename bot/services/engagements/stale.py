"""Stale engagements: open ones idle (no stage change, no note) for longer than their stage's playbook
allows. The nudges and the digest read them; cards and the App Home mark and order by them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from bot import db
from bot.services import playbooks
from bot.services.bulk import building_in_bulk
from bot.services.metrics import at, epoch_days
from models import Engagement
from models.engagements import counted
from models.enums import OPEN_STAGES, Stage
from models.schemas.engagements import StaleEngagement


def stale_after(stage: Stage) -> timedelta:
    """How long an engagement may sit in `stage` without a change or note before it is stale."""
    return playbooks.playbook(Stage(stage)).stale_after


def stale_cutoff(now: datetime) -> ColumnElement[datetime]:
    """Per stage, the last-activity time before which an open engagement is stale (a CASE over stages)."""
    return case({stage.value: at(now - stale_after(stage)) for stage in OPEN_STAGES}, value=Engagement.stage)


def _days(delta: timedelta) -> int:
    return max(0, delta.days)


def _stale(now: datetime) -> ColumnElement[bool]:
    """Stale and counted: a practice engagement reaches no nudge and no digest."""
    return (Engagement.stage != Stage.closed.value) & (Engagement.last_activity_at < stale_cutoff(now)) & counted()


def stale_engagements(
    now: datetime, *, owner_id: str | None = None, limit: int | None = None
) -> list[StaleEngagement]:
    """Open engagements idle (no stage change, no note) for longer than their stage's playbook allows,
    most overdue first. Snoozed ones are included with `snoozed_until`; the caller decides."""
    # Just the columns the lines need, as Core rows turned into tuples one at a time: ORM rows, validated
    # models, and a list of every row on top of the result each cost a large share of the scan at 100k
    # open engagements, the last two mostly in garbage collection (docs/performance.md).
    query = (
        select(Engagement.id, Engagement.account, Engagement.opportunity, Engagement.owner_id, Engagement.seller_id,
               Engagement.stage, Engagement.last_activity_at, Engagement.snoozed_until, Engagement.last_nudged_at)
        .where(_stale(now))
        .order_by(_overdue_order(now), Engagement.id)
    )
    if owner_id:
        query = query.where(Engagement.owner_id == owner_id)
    if limit is not None:
        query = query.limit(limit)
    stages = {stage.value: stage for stage in OPEN_STAGES}
    thresholds = {stage.value: playbooks.playbook(stage).stale_after_days for stage in OPEN_STAGES}
    with db.reading() as session, building_in_bulk():
        return [
            StaleEngagement(engagement_id, account, opportunity, owner, seller_id, stages[stage],
                            _days(now - last_activity_at), thresholds[stage], last_activity_at, snoozed_until,
                            last_nudged_at)
            for (engagement_id, account, opportunity, owner, seller_id, stage, last_activity_at, snoozed_until,
                 last_nudged_at) in session.connection().execute(query)
        ]


def stale_counts(now: datetime) -> dict[str, int]:
    """How many stale open engagements (snoozed or not) each SE has, by owner id: what the digest counts."""
    query = select(Engagement.owner_id, func.count()).where(_stale(now)).group_by(Engagement.owner_id)
    with db.reading() as session:
        return {owner: int(count) for owner, count in session.execute(query).all()}


def stale_owners(now: datetime) -> list[str]:
    """The SEs with at least one stale open engagement (snoozed or not), by id: the nudge tick's first,
    cheap question, before it reads anyone's lines."""
    query = (
        select(Engagement.owner_id)
        .where(_stale(now))
        .distinct()
        .order_by(Engagement.owner_id)
    )
    with db.reading() as session:
        return list(session.scalars(query).all())


def _overdue_order(now: datetime) -> ColumnElement[Any]:
    """The moment each engagement became stale (last activity + its stage's threshold): earliest first."""
    threshold_days = case(
        {stage.value: stale_after(stage).total_seconds() / 86400 for stage in OPEN_STAGES}, value=Engagement.stage
    )
    return (epoch_days(Engagement.last_activity_at) + threshold_days).asc()
