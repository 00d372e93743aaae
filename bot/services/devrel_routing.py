"""How a DevRel request moves: the one guarded UPDATE, the events it records, whom it asks next, and the
`RequestUpdate` every transition returns.

Each transition is a single UPDATE guarded by the row's `version` (and its state and current
candidate), so the first valid click or timer wins and every later one finds the request already
moved on and changes nothing. Each transition is written to `devrel_request_events` and the audit log
in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.errors import NotFound
from bot.services import audit
from bot.services.devrel_messages import request_view, stored_messages
from bot.services.roster import bookings_between, member_of
from bot.services.routing import rank
from models import DevRelPerson, DevRelRequest, DevRelRequestEvent
from models.enums import RequestEventKind, RequestState
from models.schemas.devrel import (
    SYSTEM_ACTOR,
    Candidate,
    Change,
    DevRelPolicy,
    RequestUpdate,
)

ENTITY = "devrel_request"
ESCALATION_FLOOR = timedelta(minutes=10)


def policy_for(settings: Settings) -> DevRelPolicy:
    """The routing rules this deployment configured: where unanswered requests go, and how soon."""
    return DevRelPolicy(lead_channel=settings.devrel_channel, escalate_after=settings.devrel_escalate_after)


def escalation_delay(policy: DevRelPolicy, meeting_start: datetime, now: datetime) -> timedelta:
    """How long an asked person has to answer: the setting, or half the time left when the meeting is
    sooner than twice that, but never under ten minutes."""
    half_left = (meeting_start - now) / 2
    return max(ESCALATION_FLOOR, min(policy.escalate_after, half_left))


def record_event(session: Session, request_id: int, kind: RequestEventKind, *, actor_id: str, at: datetime,
                 subject_id: str | None = None, detail: str = "") -> None:
    session.add(DevRelRequestEvent(request_id=request_id, kind=kind, actor_id=actor_id, subject_id=subject_id,
                                   at=at, detail=detail))
    audit.record(session, actor_id=actor_id, entity=ENTITY, entity_id=request_id, action=str(kind), at=at,
                 subject=subject_id, detail=detail)


def advance(session: Session, request_id: int, seen_version: int, states: Iterable[RequestState],
            *conditions: Any, **values: Any) -> bool:
    """The one way a request changes state: true only if nobody changed it since `seen_version`."""
    statement = (
        update(DevRelRequest.__table__)
        .where(DevRelRequest.id == request_id, DevRelRequest.version == seen_version,
               DevRelRequest.state.in_([str(s) for s in states]), *conditions)
        .values(version=DevRelRequest.version + 1, **values)
    )
    return session.execute(statement).rowcount == 1


@dataclass
class Route:
    """Where a request goes next: the values to write, the events to record, and what to tell people."""

    values: dict[str, Any]
    events: list[tuple[RequestEventKind, str | None, str]] = field(default_factory=list)
    asked: Candidate | None = None
    to_channel: bool = False
    nobody: bool = False


def route_next(session: Session, row: DevRelRequest, *, policy: DevRelPolicy, now: datetime,
               also_exclude: Iterable[str] = (), afresh: bool = False) -> Route:
    """`afresh`: as for a new request, whoever was asked before may be asked again (bar `also_exclude`)."""
    asked = [*([] if afresh else (row.asked_ids or [])), *also_exclude]
    people = session.scalars(select(DevRelPerson)).all()
    bookings = bookings_between(session, row.meeting_start - timedelta(days=8), row.meeting_start + timedelta(days=8),
                                exclude_request=row.id)
    candidates = rank([member_of(p) for p in people], bookings, meeting_start=row.meeting_start,
                      duration_minutes=row.duration_minutes, topics=list(row.topics or []),
                      exclude={*asked, row.requester_id})
    if candidates:
        chosen = candidates[0]
        return Route(
            values={"state": RequestState.asking, "candidate_id": chosen.slack_id, "asked_ids": [*asked, chosen.slack_id],
                    "escalate_at": now + escalation_delay(policy, row.meeting_start, now)},
            events=[(RequestEventKind.asked, chosen.slack_id, chosen.reason)],
            asked=chosen,
        )
    if policy.lead_channel:
        return Route(
            values={"state": RequestState.in_channel, "candidate_id": None, "asked_ids": asked, "escalate_at": None},
            events=[(RequestEventKind.escalated, None, "nobody left to ask; posted to the DevRel channel")],
            to_channel=True,
        )
    return Route(
        values={"state": RequestState.expired, "candidate_id": None, "asked_ids": asked, "escalate_at": None,
                "closed_at": now},
        events=[(RequestEventKind.expired, None, "nobody on the roster is available and no DevRel channel is set")],
        nobody=True,
    )


def update_of(session: Session, request_id: int, *, change: Change, actor_id: str, route: Route | None = None,
              previous_id: str | None = None, reason: str = "") -> RequestUpdate:
    return RequestUpdate(
        request=request_view(session, request_id), changed=True, change=change, actor_id=actor_id, previous_id=previous_id,
        reason=reason, asked=route.asked if route else None, to_channel=bool(route and route.to_channel),
        nobody_available=bool(route and route.nobody), messages=stored_messages(session, request_id),
    )


def record_route(session: Session, request_id: int, route: Route, now: datetime) -> None:
    """The events of where routing sent the request (asked someone, the channel, nobody), epos's doing."""
    for kind, subject, detail in route.events:
        record_event(session, request_id, kind, actor_id=SYSTEM_ACTOR, at=now, subject_id=subject, detail=detail)


def passed_on(session: Session, request_id: int, kind: RequestEventKind, change: Change, route: Route, *,
              actor_id: str, previous_id: str | None, reason: str, now: datetime) -> RequestUpdate:
    """A request its person declined, handed back, did not answer in time or cannot come to: recorded,
    with whom routing asks next."""
    record_event(session, request_id, kind, actor_id=actor_id, at=now, subject_id=previous_id, detail=reason)
    record_route(session, request_id, route, now)
    return update_of(session, request_id, change=change, actor_id=actor_id, route=route, previous_id=previous_id,
                     reason=reason)


def unchanged(session: Session, request_id: int, note: str, **extra: Any) -> RequestUpdate:
    return RequestUpdate(request=request_view(session, request_id), changed=False, change="unchanged", note=note,
                         messages=stored_messages(session, request_id), **extra)


def request_row(session: Session, request_id: int) -> DevRelRequest:
    row = session.get(DevRelRequest, request_id, populate_existing=True)
    if row is None:
        raise NotFound("That DevRel request no longer exists.")
    return row
