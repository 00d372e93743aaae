"""A DevRel request as people see it, and the Slack messages posted about it.

`bot.notify.devrel` keeps its bookkeeping here: it remembers every message it posts, and reads the
request and its messages afresh before a redraw.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import db
from bot.errors import NotFound
from bot.services.devrel_drafts import engagement_choice
from models import DevRelPerson, DevRelRequest, DevRelRequestEvent, DevRelRequestMessage, Engagement
from models.enums import RequestEventKind, RequestState
from models.schemas.devrel import (
    DevRelRequestView,
    HistoryItem,
    MessageRef,
)


def stored_messages(session: Session, request_id: int) -> list[MessageRef]:
    rows = session.scalars(
        select(DevRelRequestMessage).where(DevRelRequestMessage.request_id == request_id).order_by(DevRelRequestMessage.id)
    ).all()
    return [MessageRef(channel_id=r.channel_id, ts=r.ts, audience=r.audience, recipient_id=r.recipient_id)  # type: ignore[arg-type]
            for r in rows]


def request_view(session: Session, request_id: int) -> DevRelRequestView:
    row = session.get(DevRelRequest, request_id, populate_existing=True)
    if row is None:
        raise NotFound("That DevRel request no longer exists.")
    engagement = session.get(Engagement, row.engagement_id)
    assert engagement is not None
    events = session.scalars(
        select(DevRelRequestEvent).where(DevRelRequestEvent.request_id == request_id).order_by(DevRelRequestEvent.id)
    ).all()
    history = [HistoryItem(kind=RequestEventKind(e.kind), actor_id=e.actor_id, subject_id=e.subject_id, at=e.at,
                           detail=e.detail) for e in events]
    involved = {*(row.asked_ids or []), *(x for x in (row.assignee_id, row.candidate_id) if x)}
    involved |= {h.subject_id for h in history if h.subject_id} | {h.actor_id for h in history}
    people = session.execute(
        select(DevRelPerson.slack_id, DevRelPerson.name, DevRelPerson.timezone).where(DevRelPerson.slack_id.in_(involved))
    ).all() if involved else []
    reason = ""
    if row.candidate_id:
        for item in reversed(history):
            if item.kind is RequestEventKind.asked and item.subject_id == row.candidate_id:
                reason = item.detail
                break
    return DevRelRequestView(
        id=row.id, version=row.version, state=RequestState(row.state), engagement=engagement_choice(engagement),
        requester_id=row.requester_id, meeting_start=row.meeting_start, duration_minutes=row.duration_minutes,
        topics=list(row.topics or []), meeting_link=row.meeting_link, customer_asked=row.customer_asked,
        promised=row.promised, held_in_reserve=row.held_in_reserve, candidate_id=row.candidate_id,
        candidate_reason=reason, asked_ids=list(row.asked_ids or []), assignee_id=row.assignee_id,
        escalate_at=row.escalate_at, remind_at=row.remind_at, reminded_at=row.reminded_at,
        created_at=row.created_at, accepted_at=row.accepted_at, closed_at=row.closed_at, history=history,
        names={p.slack_id: p.name for p in people}, timezones={p.slack_id: p.timezone for p in people},
    )


def get_request(request_id: int) -> DevRelRequestView:
    with db.reading() as session:
        return request_view(session, request_id)


def messages_of(request_id: int) -> list[MessageRef]:
    with db.reading() as session:
        return stored_messages(session, request_id)


def remember_message(request_id: int, message: MessageRef) -> None:
    """Keep a posted message so every later change can redraw it."""
    with db.transaction() as session:
        session.add(DevRelRequestMessage(request_id=request_id, channel_id=message.channel_id, ts=message.ts,
                                         audience=message.audience, recipient_id=message.recipient_id))
