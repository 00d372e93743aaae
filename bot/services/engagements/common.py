"""What every part of the engagements service shares: who may change an engagement, loading one, and the
summary every surface shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bot import dates
from bot.blocks.text import escape
from bot.errors import AlreadyClosed, Forbidden, NotFound
from bot.services.actors import Actor
from bot.services.engagements.stale import _days, stale_after
from models import Engagement
from models.engagements import counted
from models.enums import Outcome, Stage
from models.schemas.engagements import OUTCOME_LABELS, EngagementSummary

ENTITY = "engagement"
# The audit lines of a practice engagement: the adoption figures read `ENTITY`'s, so practice is no use.
PRACTICE_ENTITY = "practice_engagement"
BACKDATED_AFTER = timedelta(hours=1)
IMPORT_ACTOR = "import"


def may_change(actor: Actor, engagement: Engagement | EngagementSummary) -> bool:
    return actor.admin or actor.manager or actor.user_id in (engagement.owner_id, engagement.seller_id)


def _require_change_right(actor: Actor, engagement: Engagement) -> None:
    if not may_change(actor, engagement):
        raise Forbidden(
            f"Only the owner <@{engagement.owner_id}>, the seller <@{engagement.seller_id}> or a presales "
            f"manager may change *{escape(engagement.account)}*. Ask <@{engagement.owner_id}> to log it, "
            "or a manager to add you as the seller."
        )


def _load(session: Session, engagement_id: int, *, lock: bool = False) -> Engagement:
    query = select(Engagement).where(Engagement.id == engagement_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    engagement = session.scalar(query)
    if engagement is None:
        raise NotFound("That engagement no longer exists. Use `/engagement list` to see yours.")
    return engagement


def summary(engagement: Engagement, now: datetime) -> EngagementSummary:
    open_ = engagement.stage != Stage.closed
    stale = open_ and now - engagement.last_activity_at > stale_after(Stage(engagement.stage))
    return EngagementSummary(
        id=engagement.id,
        account=engagement.account,
        opportunity=engagement.opportunity,
        owner_id=engagement.owner_id,
        seller_id=engagement.seller_id,
        focus=engagement.focus,
        channel_id=engagement.channel_id,
        stage=Stage(engagement.stage),
        outcome=Outcome(engagement.outcome) if engagement.outcome else None,
        opened_at=engagement.opened_at,
        stage_entered_at=engagement.stage_entered_at,
        last_activity_at=engagement.last_activity_at,
        closed_at=engagement.closed_at,
        days_in_stage=_days(now - engagement.stage_entered_at),
        stale=stale,
        practice=engagement.practice,
        challenge_id=engagement.challenge_id,
        need_ids=list(engagement.need_ids or []),
    )


def _listed_for(user_id: str) -> ColumnElement[bool]:
    """Engagements a list or a typed account may show this person: the real ones, and their own practice."""
    return or_(counted(), Engagement.owner_id == user_id)


def _entity(engagement: Engagement) -> str:
    return PRACTICE_ENTITY if engagement.practice else ENTITY


def _changeable(session: Session, actor: Actor, engagement_id: int, now: datetime, *, lock: bool = False,
                closed_ok: bool = False) -> Engagement:
    """The engagement `actor` is about to change: it exists, they may change it and, unless `closed_ok`,
    it is still open."""
    engagement = _load(session, engagement_id, lock=lock)
    _require_change_right(actor, engagement)
    if engagement.stage == Stage.closed and not closed_ok:
        raise already_closed(engagement, now)
    return engagement


def _label(engagement: Engagement | EngagementSummary) -> str:
    return f"*{escape(engagement.account)}* ({escape(engagement.opportunity)})"


def already_closed(engagement: Engagement, now: datetime) -> AlreadyClosed:
    """The one refusal of a change to a closed engagement, whichever change it was."""
    outcome = OUTCOME_LABELS[Outcome(engagement.outcome)] if engagement.outcome else "no outcome"
    when = f"{outcome}, {dates.day(engagement.closed_at)}" if engagement.closed_at else outcome
    return AlreadyClosed(
        f"{_label(engagement)} is already closed ({when}). Reopen it from its card "
        f"(`/engagement {escape(engagement.account)}`) to change its stage or outcome.",
        engagement=summary(engagement, now),
    )
