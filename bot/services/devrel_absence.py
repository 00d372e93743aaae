"""When a DevRel person can no longer come: taken off the roster, or out of office on a meeting's day.

Their pending asks and accepted meetings go on to someone else, as a hand-back would, whichever way the
roster changed (a button, the roster form, an import): the scheduler tick finds them all, and a change
made in Slack releases that person's at once so the admin hears the outcome. Each release is the same
guarded UPDATE as a click, so a tick and a button racing each other release a request once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from bot import clock, db, dates
from bot.services.devrel_routing import advance, passed_on, route_next
from bot.services.roster import member_of
from bot.services.routing import out_of_office
from bot.services.sql import epoch_days
from models import DevRelPerson, DevRelRequest
from models.enums import RequestEventKind, RequestState
from models.schemas.devrel import SYSTEM_ACTOR, DevRelPolicy, RequestUpdate

RELEASES_PER_TICK = 200
LEFT_THE_ROSTER = "no longer on the DevRel roster"
AWAY = "out of office until {day}"


def _held_by(person: type[DevRelPerson]) -> object:
    """The request's ask or accepted meeting belongs to `person`."""
    return or_(
        and_(DevRelRequest.state == RequestState.asking.value, DevRelRequest.candidate_id == person.slack_id),
        and_(DevRelRequest.state == RequestState.accepted.value, DevRelRequest.assignee_id == person.slack_id),
    )


def _why(person: DevRelPerson, meeting_start: datetime) -> str | None:
    if not person.active:
        return LEFT_THE_ROSTER
    if out_of_office(member_of(person), meeting_start):
        assert person.out_of_office_until is not None
        return AWAY.format(day=dates.day(person.out_of_office_until))
    return None


def release_absent(*, policy: DevRelPolicy, now: datetime | None = None, slack_id: str | None = None,
                   actor_id: str = SYSTEM_ACTOR) -> list[RequestUpdate]:
    """Send on every upcoming ask and meeting whose person cannot come (only `slack_id`'s, when given)."""
    now = now or clock.now()
    # Out of office is judged on the meeting's date where the person lives (exactly, in `_why`): here only
    # meetings up to two days past the last day away, so those after it are not read at every tick.
    away = and_(DevRelPerson.out_of_office_until >= (now - timedelta(days=1)).date(),
                epoch_days(DevRelRequest.meeting_start) < epoch_days(DevRelPerson.out_of_office_until) + 2)
    query = (
        select(DevRelRequest.id, DevRelRequest.version, DevRelPerson.slack_id)
        .join(DevRelPerson, _held_by(DevRelPerson))
        .where(DevRelRequest.meeting_start > now, or_(DevRelPerson.active.is_(False), away))
        .order_by(DevRelRequest.meeting_start, DevRelRequest.id).limit(RELEASES_PER_TICK)
    )
    if slack_id is not None:
        query = query.where(DevRelPerson.slack_id == slack_id)
    with db.reading() as session:
        held = session.execute(query).all()
    updates = []
    for request_id, version, person_id in held:
        update = _release(request_id, version, person_id, policy=policy, now=now, actor_id=actor_id)
        if update is not None:
            updates.append(update)
    return updates


def _release(request_id: int, seen_version: int, person_id: str, *, policy: DevRelPolicy, now: datetime,
             actor_id: str) -> RequestUpdate | None:
    with db.transaction() as session:
        row = session.get(DevRelRequest, request_id, populate_existing=True)
        person = session.scalar(select(DevRelPerson).where(DevRelPerson.slack_id == person_id))
        if row is None or person is None or row.version != seen_version or row.meeting_start <= now:
            return None
        why = _why(person, row.meeting_start)
        if why is None:
            return None
        accepted = row.state == RequestState.accepted
        holder = DevRelRequest.assignee_id if accepted else DevRelRequest.candidate_id
        # An accepted meeting is routed afresh, as a hand-back is; an ask goes on down the list, as a decline.
        route = route_next(session, row, policy=policy, now=now, also_exclude=[person_id], afresh=accepted)
        cleared = {"assignee_id": None, "accepted_at": None, "remind_at": None, "reminded_at": None} if accepted else {}
        if not advance(session, request_id, seen_version, [RequestState(row.state)], holder == person_id,
                       **route.values, **cleared):
            return None
        return passed_on(session, request_id, RequestEventKind.released, "released", route, actor_id=actor_id,
                         previous_id=person_id, reason=why, now=now)
