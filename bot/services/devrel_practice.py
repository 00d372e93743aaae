"""A DevRel request on a practice engagement: answered by a practice DevRel colleague, never a real person.

The request goes through the same checks as a real one (the form's problems), then a made-up colleague
accepts it at once. No request row is written, so nobody on the roster is asked, booked or reminded, and
no DevRel figure, digest or adoption count ever sees it; the practice engagement's audit lines say it
happened (bot/services/engagements/practice.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot import clock, db
from bot.services import audit, challenges
from bot.services.actors import Actor
from bot.services.devrel_drafts import open_engagements_query, raise_first, request_problems
from bot.services.engagements import PRACTICE_ENTITY
from models import Engagement
from models.schemas.devrel import PracticeAnswer, RequestDraft


def is_practice(engagement_id: int | None) -> bool:
    if engagement_id is None:
        return False
    with db.reading() as session:
        return bool(session.scalar(select(Engagement.practice).where(Engagement.id == engagement_id)))


def answer(actor: Actor, draft: RequestDraft, *, now: datetime | None = None) -> PracticeAnswer | None:
    """The practice colleague's acceptance when the draft is for a practice engagement; None for a real one,
    which goes to `devrel.create_request`."""
    now = now or clock.now()
    if not is_practice(draft.engagement_id):
        return None
    raise_first(request_problems(actor, draft, now=now))
    assert draft.meeting_start is not None
    with db.transaction() as session:
        engagement = session.scalar(open_engagements_query(actor.user_id).where(Engagement.id == draft.engagement_id))
        assert engagement is not None  # request_problems found it open and the actor's
        topics = challenges.with_devrel_topics(draft.topics or [t for t in [engagement.focus.strip()] if t],
                                               engagement.need_ids)
        audit.record(session, actor_id=actor.user_id, entity=PRACTICE_ENTITY, entity_id=engagement.id,
                     action="devrel_request", at=now, meeting_start=draft.meeting_start.isoformat(), topics=topics)
        return PracticeAnswer(engagement_id=engagement.id, account=engagement.account,
                              opportunity=engagement.opportunity, requester_id=actor.user_id,
                              meeting_start=draft.meeting_start, duration_minutes=draft.duration_minutes, topics=topics)
