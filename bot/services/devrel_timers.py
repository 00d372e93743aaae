"""What the scheduler tick does to DevRel requests: escalations, expiries, reminders, and the asks a
stopped process never delivered.

Timers live in the row (`escalate_at`, `remind_at`, the meeting start); `due_timers` finds the due
ones, and each is then claimed through the same guarded UPDATE as a click.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from bot import clock, db
from bot.services.devrel_messages import request_view
from bot.services.devrel_routing import advance, passed_on, record_event, request_row, route_next, update_of
from models import DevRelRequest, DevRelRequestEvent, DevRelRequestMessage
from models.enums import RequestEventKind, RequestState
from models.schemas.devrel import (
    OPEN_STATES,
    SYSTEM_ACTOR,
    DevRelPolicy,
    DevRelRequestView,
    DueTimers,
    RequestUpdate,
)

TIMERS_PER_TICK = 200


def escalate(request_id: int, seen_version: int, *, policy: DevRelPolicy, now: datetime | None = None,
             why: str = "no answer in time", due_only: bool = True) -> RequestUpdate | None:
    """The asked person did not answer (or, with due_only=False, could not be reached): ask the next one.

    None if the request already moved on, or its escalation is not due yet."""
    now = now or clock.now()
    with db.transaction() as session:
        row = session.get(DevRelRequest, request_id, populate_existing=True)
        if row is None or row.version != seen_version or row.state != RequestState.asking or row.meeting_start <= now:
            return None
        if due_only and (row.escalate_at is None or row.escalate_at > now):
            return None
        previous = row.candidate_id
        route = route_next(session, row, policy=policy, now=now)
        if not advance(session, request_id, seen_version, [RequestState.asking], **route.values):
            return None
        return passed_on(session, request_id, RequestEventKind.escalated, "escalated", route, actor_id=SYSTEM_ACTOR,
                         previous_id=previous, reason=why, now=now)


def expire(request_id: int, seen_version: int, *, now: datetime | None = None) -> RequestUpdate | None:
    """The meeting started with nobody assigned. None if the request already moved on."""
    now = now or clock.now()
    with db.transaction() as session:
        row = session.get(DevRelRequest, request_id, populate_existing=True)
        if row is None or row.version != seen_version or row.state not in OPEN_STATES or row.meeting_start > now:
            return None
        previous = row.candidate_id
        if not advance(session, request_id, seen_version, OPEN_STATES, DevRelRequest.meeting_start <= now,
                       state=RequestState.expired, candidate_id=None, escalate_at=None, closed_at=now):
            return None
        record_event(session, request_id, RequestEventKind.expired, actor_id=SYSTEM_ACTOR, at=now, subject_id=previous,
                     detail="the meeting started without a DevRel person")
        return update_of(session, request_id, change="expired", actor_id=SYSTEM_ACTOR, previous_id=previous)


def unannounced_asks(*, now: datetime, grace: timedelta) -> list[tuple[int, int]]:
    """Requests whose current ask was decided more than `grace` ago but never reached its person: no
    message to them was remembered, because the process that decided it stopped (a crash, a kill)
    before Slack had the DM. (request id, version) pairs; `grace` leaves a live, slow post alone."""
    asked_at = (
        select(func.max(DevRelRequestEvent.at))
        .where(DevRelRequestEvent.request_id == DevRelRequest.id, DevRelRequestEvent.kind == RequestEventKind.asked,
               DevRelRequestEvent.subject_id == DevRelRequest.candidate_id)
        .scalar_subquery()
    )
    shown = (
        select(DevRelRequestMessage.id)
        .where(DevRelRequestMessage.request_id == DevRelRequest.id, DevRelRequestMessage.audience == "ask",
               DevRelRequestMessage.recipient_id == DevRelRequest.candidate_id)
        .exists()
    )
    with db.reading() as session:
        rows = session.execute(
            select(DevRelRequest.id, DevRelRequest.version)
            .where(DevRelRequest.state == RequestState.asking, DevRelRequest.candidate_id.is_not(None),
                   DevRelRequest.meeting_start > now, ~shown, asked_at <= now - grace)
            .order_by(DevRelRequest.id).limit(TIMERS_PER_TICK)
        ).all()
    return [(request_id, version) for request_id, version in rows]


def due_timers(*, now: datetime | None = None) -> DueTimers:
    """What the scheduler tick has to do now: expiries, escalations and reminders that are due."""
    now = now or clock.now()
    with db.reading() as session:
        expire_due = session.execute(
            select(DevRelRequest.id, DevRelRequest.version)
            .where(DevRelRequest.state.in_([str(s) for s in OPEN_STATES]), DevRelRequest.meeting_start <= now)
            .order_by(DevRelRequest.meeting_start).limit(TIMERS_PER_TICK)
        ).all()
        escalate_due = session.execute(
            select(DevRelRequest.id, DevRelRequest.version)
            .where(DevRelRequest.state == RequestState.asking, DevRelRequest.escalate_at <= now,
                   DevRelRequest.meeting_start > now)
            .order_by(DevRelRequest.escalate_at).limit(TIMERS_PER_TICK)
        ).all()
        remind_due = session.scalars(
            select(DevRelRequest.id)
            .where(DevRelRequest.state == RequestState.accepted, DevRelRequest.remind_at <= now,
                   DevRelRequest.reminded_at.is_(None), DevRelRequest.meeting_start > now)
            .order_by(DevRelRequest.remind_at).limit(TIMERS_PER_TICK)
        ).all()
    return DueTimers(expire=[(i, v) for i, v in expire_due], escalate=[(i, v) for i, v in escalate_due],
                     remind=list(remind_due))


def claim_reminder(request_id: int, *, now: datetime | None = None) -> DevRelRequestView | None:
    """Take the reminder for sending; None when another replica already did, or it is no longer due."""
    now = now or clock.now()
    with db.transaction() as session:
        claimed = session.execute(
            update(DevRelRequest.__table__)
            .where(DevRelRequest.id == request_id, DevRelRequest.reminded_at.is_(None),
                   DevRelRequest.state == RequestState.accepted, DevRelRequest.remind_at <= now,
                   DevRelRequest.meeting_start > now)
            .values(reminded_at=now)
        ).rowcount == 1
        if not claimed:
            return None
        row = request_row(session, request_id)
        record_event(session, request_id, RequestEventKind.reminded, actor_id=SYSTEM_ACTOR, at=now, subject_id=row.assignee_id)
        return request_view(session, request_id)
