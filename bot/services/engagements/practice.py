"""Practice engagements: one a person opens from the App Home to learn the EPOS process on.

It behaves like a real one (stages, playbooks by DM, notes, undo, close), is marked as practice wherever it
shows, and counts nowhere: every figure, the digest, the nudges and the exports leave it out through
`models.engagements.counted`, it has no stage stints, its audit lines are not an engagement's (so no
adoption figure reads them), its close asks no rating, it never has a deal channel, and a DevRel request
on it reaches nobody (bot/services/devrel_practice.py). Its owner, or an admin, deletes it in one click.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from bot import clock, db
from bot.blocks.text import escape
from bot.errors import Conflict, Forbidden
from bot.services import audit
from bot.services.actors import Actor
from bot.services.engagements.changes import create
from bot.services.engagements.common import PRACTICE_ENTITY, _label, _load, summary
from models import Engagement
from models.enums import Stage
from models.schemas.engagements import EngagementSummary, NewEngagementIn, StageChangeResult

ACCOUNT = "Practice: Acme Robotics"
OPPORTUNITY = "Fleet telemetry platform"
FOCUS = "kubernetes monitoring"
CHALLENGE = ("Acme Robotics runs 4,000 warehouse robots on Kubernetes and learns of outages from its customers. "
             "Its VP of Operations wants incidents found before a shift is lost.")
NEEDS = "Metrics and logs from 60 clusters in one place, alerts routed to the on-call team, EU data residency."

ALREADY = ("You already have a practice engagement open: {label}. Open it with `/engagement {account}`, or "
           "delete it from its card to start afresh.")
NOT_PRACTICE = ("{label} is a real engagement: it stays in the figures and can't be deleted. To end it, close it "
                "from its card.")
NOT_YOURS = "Only <@{owner}>, who practises on {label}, or an epos admin can delete it."


def open_practice(actor_id: str) -> EngagementSummary | None:
    """The actor's open practice engagement, if they have one."""
    with db.reading() as session:
        row = session.scalar(select(Engagement).where(
            Engagement.owner_id == actor_id, Engagement.practice.is_(True), Engagement.stage != Stage.closed.value,
        ).order_by(Engagement.id).limit(1))
        return summary(row, clock.now()) if row is not None else None


def start(actor: Actor, *, tz: ZoneInfo = ZoneInfo("UTC"), now: datetime | None = None) -> StageChangeResult:
    """Open a practice engagement owned (and sold) by the actor, in preparation, with a made-up customer."""
    existing = open_practice(actor.user_id)
    if existing is not None:
        raise Conflict(ALREADY.format(label=_label(existing), account=escape(existing.account)))
    data = NewEngagementIn(account=ACCOUNT, opportunity=OPPORTUNITY, seller_id=actor.user_id, focus=FOCUS,
                           business_challenge=CHALLENGE, technical_needs=NEEDS)
    return create(actor, data, tz=tz, now=now, practice=True)


def delete_practice(actor: Actor, engagement_id: int, *, now: datetime | None = None) -> EngagementSummary:
    """Delete a practice engagement with everything on it (stage log, notes, DevRel requests): its owner or
    an admin may. The audit log keeps a line saying who deleted which."""
    now = now or clock.now()
    with db.transaction() as session:
        engagement = _load(session, engagement_id, lock=True)
        if not engagement.practice:
            raise Conflict(NOT_PRACTICE.format(label=_label(engagement)))
        if not (actor.admin or actor.user_id == engagement.owner_id):
            raise Forbidden(NOT_YOURS.format(owner=engagement.owner_id, label=_label(engagement)))
        gone = summary(engagement, now)
        session.execute(delete(Engagement).where(Engagement.id == engagement.id)
                        .execution_options(synchronize_session=False))
        audit.record(session, actor_id=actor.user_id, entity=PRACTICE_ENTITY, entity_id=gone.id, action="delete",
                     at=now, account=gone.account, owner=gone.owner_id)
        return gone
