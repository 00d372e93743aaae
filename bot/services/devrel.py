"""DevRel requests: bringing a DevRel person "into the room" for a customer meeting.

A request asks one roster member at a time. This module holds what people do to a request (ask for
one, accept, take from the lead channel, decline, cancel, hand back), what an engagement's close does to
its requests (and Keep the meeting, which undoes that for an accepted meeting), and gathers the public names of the others,
so callers know the service by one name:

- `bot.services.devrel_drafts`: the requester's open engagements, and the checks on a draft;
- `bot.services.devrel_routing`: the guarded UPDATE every transition goes through, its events, and
  whom a request asks next;
- `bot.services.devrel_messages`: the request as people see it, and the Slack messages about it;
- `bot.services.devrel_timers`: escalations, expiries and reminders, driven by the scheduler tick;
- `bot.services.devrel_coverage`: the digest's coverage figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import clock, db
from bot.errors import Forbidden, InvalidInput
from bot.services import challenges
from bot.services.actors import Actor
from bot.services.devrel_coverage import coverage
from bot.services.devrel_drafts import (
    ENGAGEMENT_MATCH_CUTOFF,
    MAX_AHEAD,
    MAX_BRIEF,
    MAX_ENGAGEMENT_CHOICES,
    MAX_LINK,
    best_engagement,
    open_engagements,
    open_engagements_query,
    raise_first,
    request_problems,
)
from bot.services.devrel_messages import get_request, messages_of, remember_message, request_view
from bot.services.devrel_routing import (
    ENTITY,
    ESCALATION_FLOOR,
    advance,
    escalation_delay,
    passed_on,
    policy_for,
    record_event,
    record_route,
    request_row,
    route_next,
    unchanged,
    update_of,
)
from bot.services.devrel_timers import TIMERS_PER_TICK, claim_reminder, due_timers, escalate, expire, unannounced_asks
from bot.services.roster import bookings_between
from bot.services.routing import first_overlap, load_in_week, week_bounds
from models import DevRelPerson, DevRelRequest, DevRelRequestEvent, Engagement
from models.enums import RequestEventKind, RequestState
from models.schemas.devrel import (
    CANCELLABLE_STATES,
    CLOSED_WITH_ENGAGEMENT,
    Change,
    DevRelPolicy,
    OverlappingMeeting,
    RequestDraft,
    RequestUpdate,
    WeekLoad,
)

__all__ = [
    "ENGAGEMENT_MATCH_CUTOFF", "ENTITY", "ESCALATION_FLOOR", "MAX_AHEAD", "MAX_BRIEF", "MAX_ENGAGEMENT_CHOICES",
    "MAX_LINK", "REMIND_BEFORE", "TIMERS_PER_TICK", "accept", "best_engagement", "cancel", "cancel_with_engagement",
    "check_decline", "check_hand_back", "claim_reminder", "coverage", "create_request", "decline", "due_timers", "escalate", "escalation_delay",
    "expire", "get_request", "hand_back", "keep", "messages_of", "open_engagements", "policy_for", "remember_message",
    "request_problems", "take", "unannounced_asks",
]

REMIND_BEFORE = timedelta(hours=1)
PRACTICE_REQUEST = ("That is a practice engagement: its DevRel requests go to a practice colleague, never to a "
                    "real person. For a real meeting, pick one of your real engagements.")


def _require_asked(row: DevRelRequest, actor: Actor, verb: str) -> None:
    """Checked before whether the button is out of date, so that the note saying who took the request
    goes only to someone it was sent to."""
    if actor.user_id not in {*(row.asked_ids or []), row.candidate_id}:
        raise Forbidden(f"Only the DevRel person this request was sent to can {verb} it.")


def _moved_on_note(session: Session, row: DevRelRequest, clicker: str, lead_channel: str | None = None) -> str:
    """Why a click on an older message about this request does nothing now."""
    state = RequestState(row.state)
    if state is RequestState.accepted:
        if row.assignee_id == clicker:
            return "You already have this request; nothing changed."
        name = session.scalar(select(DevRelPerson.name).where(DevRelPerson.slack_id == row.assignee_id)) or row.assignee_id
        return f"{name} has already taken this request; nothing changed."
    if state is RequestState.cancelled:
        closer = request_view(session, row.id).cancelled_by_close()
        if closer is not None:
            return f"<@{closer}> closed the engagement, which cancelled this request; nothing changed."
        return f"<@{row.requester_id}> cancelled this request; nothing changed."
    if state is RequestState.expired:
        return "This request has expired (its meeting started, or nobody was available); nothing changed."
    if state is RequestState.in_channel:
        where = f" in <#{lead_channel}>" if lead_channel else " in the DevRel channel"
        return f"Nobody answered in time, so the request moved{where}; anyone on the roster can take it there."
    return "This request has moved on to someone else; nothing changed."


def create_request(actor: Actor, draft: RequestDraft, *, policy: DevRelPolicy,
                   now: datetime | None = None) -> RequestUpdate:
    """Record the request and ask the best-placed person (or the lead channel, or report nobody)."""
    now = now or clock.now()
    raise_first(request_problems(actor, draft, now=now))
    assert draft.engagement_id is not None and draft.meeting_start is not None
    with db.transaction() as session:
        engagement = session.scalar(open_engagements_query(actor.user_id).where(Engagement.id == draft.engagement_id))
        if engagement is None:
            raise InvalidInput("That engagement was closed meanwhile. Pick another open engagement.", field="engagement_id")
        if engagement.practice:
            # Never a real person: a practice colleague answers it (bot/services/devrel_practice.py).
            raise InvalidInput(PRACTICE_REQUEST, field="engagement_id")
        topics = challenges.with_devrel_topics(draft.topics or [t for t in [engagement.focus.strip()] if t],
                                               engagement.need_ids)
        row = DevRelRequest(
            engagement_id=engagement.id, requester_id=actor.user_id, meeting_start=draft.meeting_start,
            duration_minutes=draft.duration_minutes, topics=topics, meeting_link=draft.meeting_link.strip(),
            customer_asked=draft.customer_asked.strip(), promised=draft.promised.strip(),
            held_in_reserve=draft.held_in_reserve.strip(), state=RequestState.asking, version=0, asked_ids=[],
            created_at=now,
        )
        session.add(row)
        session.flush()
        record_event(session, row.id, RequestEventKind.requested, actor_id=actor.user_id, at=now,
                     detail=f"{engagement.account}; meeting {draft.meeting_start.isoformat()}")
        route = route_next(session, row, policy=policy, now=now)
        for key, value in route.values.items():
            setattr(row, key, value)
        row.version = 1
        record_route(session, row.id, route, now)
        session.flush()
        return update_of(session, row.id, change="requested", actor_id=actor.user_id, route=route)


def accept(actor: Actor, request_id: int, seen_version: int, *, policy: DevRelPolicy | None = None,
           now: datetime | None = None) -> RequestUpdate:
    """The asked person says yes. Exactly one accept wins, however many clicks arrive at once."""
    now = now or clock.now()
    lead_channel = policy.lead_channel if policy else None
    with db.transaction() as session:
        row = request_row(session, request_id)
        _require_asked(row, actor, "accept")
        if row.version != seen_version or row.state != RequestState.asking:
            return unchanged(session, request_id, _moved_on_note(session, row, actor.user_id, lead_channel))
        if row.candidate_id != actor.user_id:
            raise Forbidden("Only the DevRel person this request was sent to can accept it.")
        if row.meeting_start <= now:
            return unchanged(session, request_id, "The meeting has already started, so it can no longer be accepted.")
        return _assign(session, actor, row, seen_version, RequestState.asking, RequestEventKind.accepted, "accepted",
                       DevRelRequest.candidate_id == actor.user_id, lead_channel=lead_channel, now=now)


def take(actor: Actor, request_id: int, seen_version: int, *, policy: DevRelPolicy | None = None,
         now: datetime | None = None) -> RequestUpdate:
    """Anyone active on the roster takes a request from the lead channel; the first one wins."""
    now = now or clock.now()
    lead_channel = policy.lead_channel if policy else None
    with db.transaction() as session:
        row = request_row(session, request_id)
        # Before anything about the request: who took it is no business of someone who may not take it.
        member_active = session.scalar(select(DevRelPerson.active).where(DevRelPerson.slack_id == actor.user_id))
        if not member_active:
            raise Forbidden(
                "Only active members of the DevRel roster can take requests. "
                "If you should be on it, ask an epos admin to add you (`/devrel roster`)."
            )
        if row.version != seen_version or row.state != RequestState.in_channel:
            return unchanged(session, request_id, _moved_on_note(session, row, actor.user_id, lead_channel))
        if row.meeting_start <= now:
            return unchanged(session, request_id, "The meeting has already started, so it can no longer be taken.")
        return _assign(session, actor, row, seen_version, RequestState.in_channel, RequestEventKind.assigned, "assigned",
                       lead_channel=lead_channel, now=now, detail="taken from the DevRel channel")


def _assign(session: Session, actor: Actor, row: DevRelRequest, seen_version: int, state: RequestState,
            kind: RequestEventKind, change: Change, *conditions: Any, lead_channel: str | None, now: datetime,
            detail: str = "") -> RequestUpdate:
    """The meeting given to `actor` (who accepted or took it), unless it overlaps one they have, or someone
    moved the request on first."""
    commitments = _commitments(session, actor.user_id, row)
    if commitments.overlapping is not None:
        return commitments.refusal(session, row.id)
    if not advance(session, row.id, seen_version, [state], *conditions,
                   **_accepted_values(actor.user_id, row.meeting_start, now)):
        moved_on = request_row(session, row.id)
        return unchanged(session, row.id, _moved_on_note(session, moved_on, actor.user_id, lead_channel))
    _mark_assigned(session, actor.user_id, now)
    record_event(session, row.id, kind, actor_id=actor.user_id, at=now, subject_id=actor.user_id, detail=detail)
    return commitments.told(update_of(session, row.id, change=change, actor_id=actor.user_id))


@dataclass
class _Commitments:
    """What a person already has on around a meeting they are about to take on."""

    timezone: str | None
    overlapping: OverlappingMeeting | None = None
    over_capacity: WeekLoad | None = None

    def refusal(self, session: Session, request_id: int) -> RequestUpdate:
        # No note: the reply names the other meeting, written in the clicker's timezone by the blocks.
        return unchanged(session, request_id, "", overlapping=self.overlapping, actor_timezone=self.timezone)

    def told(self, update: RequestUpdate) -> RequestUpdate:
        return update.model_copy(update={"over_capacity": self.over_capacity, "actor_timezone": self.timezone})


def _commitments(session: Session, slack_id: str, row: DevRelRequest) -> _Commitments:
    """The person's accepted meeting overlapping `row`, if any, and their week's load should they take it.

    Routing checked this when it chose whom to ask, but the same person may since have accepted another
    meeting asked of them meanwhile. Their roster row is locked first, so two of their accepts running at
    once are decided one after the other and the second sees the first."""
    person = session.scalar(select(DevRelPerson).where(DevRelPerson.slack_id == slack_id).with_for_update())
    end = row.meeting_start + timedelta(minutes=row.duration_minutes)
    bookings = bookings_between(session, row.meeting_start - timedelta(days=8), row.meeting_start + timedelta(days=8),
                                exclude_request=row.id)
    found = _Commitments(timezone=person.timezone if person else None)
    clash = first_overlap(bookings, slack_id, row.meeting_start, end)
    if clash is not None and clash.request_id is not None:
        other, account = session.execute(
            select(DevRelRequest, Engagement.account).join(Engagement, Engagement.id == DevRelRequest.engagement_id)
            .where(DevRelRequest.id == clash.request_id)
        ).one()
        found.overlapping = OverlappingMeeting(request_id=other.id, account=account, requester_id=other.requester_id,
                                               meeting_start=other.meeting_start, duration_minutes=other.duration_minutes)
    if person is not None:
        zone = ZoneInfo(person.timezone)
        meetings = load_in_week(bookings, slack_id, row.meeting_start, zone) + 1
        if meetings > person.weekly_capacity:
            week_start = week_bounds(row.meeting_start, zone)[0].astimezone(zone).date()
            found.over_capacity = WeekLoad(meetings=meetings, capacity=person.weekly_capacity, week_start=week_start)
    return found


def _accepted_values(assignee: str, meeting_start: datetime, now: datetime) -> dict[str, Any]:
    remind_at = meeting_start - REMIND_BEFORE
    return {
        "state": RequestState.accepted, "assignee_id": assignee, "candidate_id": None, "accepted_at": now,
        "escalate_at": None,
        # Accepted within the last hour: the accept message itself carries the brief, so no reminder.
        "remind_at": remind_at if remind_at > now else None,
    }


def _mark_assigned(session: Session, slack_id: str, now: datetime) -> None:
    session.execute(update(DevRelPerson.__table__).where(DevRelPerson.slack_id == slack_id).values(last_assigned_at=now))


def check_decline(actor: Actor, request_id: int, seen_version: int, *, policy: DevRelPolicy | None = None) -> RequestUpdate:
    """Before the decline form opens: unchanged with a note when the request moved on; Forbidden for others."""
    with db.reading() as session:
        row = request_row(session, request_id)
        _require_asked(row, actor, "decline")
        if row.version != seen_version or row.state != RequestState.asking:
            return unchanged(session, request_id, _moved_on_note(session, row, actor.user_id,
                                                                  policy.lead_channel if policy else None))
        if row.candidate_id != actor.user_id:
            raise Forbidden("Only the DevRel person this request was sent to can decline it.")
        return unchanged(session, request_id, "")


def decline(actor: Actor, request_id: int, seen_version: int, reason: str, *, policy: DevRelPolicy,
            now: datetime | None = None) -> RequestUpdate:
    """The asked person says no (with an optional reason); the next candidate is asked."""
    now = now or clock.now()
    reason = " ".join(reason.split())[:MAX_BRIEF]
    with db.transaction() as session:
        row = request_row(session, request_id)
        _require_asked(row, actor, "decline")
        if row.version != seen_version or row.state != RequestState.asking:
            return unchanged(session, request_id, _moved_on_note(session, row, actor.user_id, policy.lead_channel))
        if row.candidate_id != actor.user_id:
            raise Forbidden("Only the DevRel person this request was sent to can decline it.")
        route = route_next(session, row, policy=policy, now=now)
        if not advance(session, request_id, seen_version, [RequestState.asking],
                       DevRelRequest.candidate_id == actor.user_id, **route.values):
            moved_on = request_row(session, request_id)
            return unchanged(session, request_id, _moved_on_note(session, moved_on, actor.user_id, policy.lead_channel))
        return passed_on(session, request_id, RequestEventKind.declined, "declined", route, actor_id=actor.user_id,
                         previous_id=actor.user_id, reason=reason, now=now)


def cancel(actor: Actor, request_id: int, *, now: datetime | None = None) -> RequestUpdate:
    """The requester calls it off; whoever was asked or assigned is then told."""
    now = now or clock.now()
    with db.transaction() as session:
        row = request_row(session, request_id)
        if row.requester_id != actor.user_id:
            raise Forbidden(f"Only <@{row.requester_id}>, who asked for DevRel, can cancel this request.")
        state = RequestState(row.state)
        if state is RequestState.cancelled:
            return unchanged(session, request_id, "This request is already cancelled.")
        if state is RequestState.expired:
            return unchanged(session, request_id, "This request has already expired; there is nothing to cancel.")
        if row.meeting_start <= now:
            return unchanged(session, request_id, "The meeting has already started; there is nothing left to cancel.")
        previous = row.assignee_id or row.candidate_id
        if not advance(session, request_id, row.version, CANCELLABLE_STATES,
                       state=RequestState.cancelled, candidate_id=None, escalate_at=None, remind_at=None, closed_at=now):
            return unchanged(session, request_id, "This request changed just now; look at it again and retry.")
        record_event(session, request_id, RequestEventKind.cancelled, actor_id=actor.user_id, at=now, subject_id=previous)
        return update_of(session, request_id, change="cancelled", actor_id=actor.user_id, previous_id=previous)


def cancel_with_engagement(session: Session, engagement_id: int, *, actor_id: str, now: datetime) -> list[RequestUpdate]:
    """Closing an engagement calls off its pending asks and upcoming meetings, in the close's own unit of
    work; whoever was asked or joins is told by the caller. A meeting already started is left as it is."""
    rows = session.scalars(
        select(DevRelRequest)
        .where(DevRelRequest.engagement_id == engagement_id,
               DevRelRequest.state.in_([str(s) for s in CANCELLABLE_STATES]), DevRelRequest.meeting_start > now)
        .order_by(DevRelRequest.meeting_start, DevRelRequest.id).with_for_update()
    ).all()
    updates: list[RequestUpdate] = []
    for row in rows:
        previous = row.assignee_id or row.candidate_id
        if not advance(session, row.id, row.version, CANCELLABLE_STATES, state=RequestState.cancelled,
                       candidate_id=None, escalate_at=None, remind_at=None, closed_at=now):
            continue
        record_event(session, row.id, RequestEventKind.cancelled, actor_id=actor_id, at=now, subject_id=previous,
                     detail=CLOSED_WITH_ENGAGEMENT)
        updates.append(update_of(session, row.id, change="closed", actor_id=actor_id, previous_id=previous))
    return updates


def upcoming_cancelled_by_close(session: Session, engagement_id: int, *, now: datetime) -> int:
    """How many of the engagement's requests for meetings still ahead its close cancelled."""
    closed_them = (select(DevRelRequestEvent.id)
                   .where(DevRelRequestEvent.request_id == DevRelRequest.id,
                          DevRelRequestEvent.kind == RequestEventKind.cancelled,
                          DevRelRequestEvent.detail == CLOSED_WITH_ENGAGEMENT).exists())
    return session.scalar(select(func.count()).select_from(DevRelRequest).where(
        DevRelRequest.engagement_id == engagement_id, DevRelRequest.state == RequestState.cancelled.value,
        DevRelRequest.meeting_start > now, closed_them)) or 0


def keep(actor: Actor, request_id: int, seen_version: int, *, now: datetime | None = None) -> RequestUpdate:
    """"Keep the meeting": an accepted meeting its engagement's close cancelled is on again, as it was."""
    now = now or clock.now()
    with db.transaction() as session:
        row = request_row(session, request_id)
        engagement = session.get(Engagement, row.engagement_id)
        assert engagement is not None
        if not (actor.admin or actor.manager
                or actor.user_id in (row.requester_id, engagement.owner_id, engagement.seller_id)):
            raise Forbidden(f"Only <@{engagement.owner_id}>, the seller <@{engagement.seller_id}> or a presales "
                            "manager can keep this meeting.")
        state = RequestState(row.state)
        if state is RequestState.accepted:
            return unchanged(session, request_id, "This meeting is already on; nothing changed.")
        closed_it = request_view(session, request_id).cancelled_by_close()
        if row.version != seen_version or closed_it is None or row.assignee_id is None:
            return unchanged(session, request_id,
                             "This request has changed since the engagement was closed, so it can't be kept; "
                             "nothing changed.")
        if row.meeting_start <= now:
            return unchanged(session, request_id, "The meeting has already started; there is nothing left to keep.")
        commitments = _commitments(session, row.assignee_id, row)
        if commitments.overlapping is not None:
            name = session.scalar(select(DevRelPerson.name).where(DevRelPerson.slack_id == row.assignee_id))
            return unchanged(session, request_id,
                             f"{name or row.assignee_id} has since accepted the *{commitments.overlapping.account}* "
                             "meeting at that time, so this one stays cancelled; nothing changed.")
        remind_at = row.meeting_start - REMIND_BEFORE
        if not advance(session, request_id, seen_version, [RequestState.cancelled], state=RequestState.accepted,
                       closed_at=None, remind_at=remind_at if remind_at > now else None):
            return unchanged(session, request_id, "This request changed just now; look at it again and retry.")
        record_event(session, request_id, RequestEventKind.restored, actor_id=actor.user_id, at=now,
                     subject_id=row.assignee_id, detail="kept after the engagement was closed")
        return update_of(session, request_id, change="kept", actor_id=actor.user_id)


def _require_assignee(row: DevRelRequest, actor: Actor) -> None:
    if row.assignee_id != actor.user_id:
        raise Forbidden("Only the DevRel person who took this request can hand it back.")


def check_hand_back(actor: Actor, request_id: int, seen_version: int, *,
                    policy: DevRelPolicy | None = None) -> RequestUpdate:
    """Before the hand-back form opens: unchanged with a note when the request moved on; Forbidden for others."""
    with db.reading() as session:
        row = request_row(session, request_id)
        _require_assignee(row, actor)
        if row.version != seen_version or row.state != RequestState.accepted:
            return unchanged(session, request_id, _moved_on_note(session, row, actor.user_id,
                                                                  policy.lead_channel if policy else None))
        return unchanged(session, request_id, "")


def hand_back(actor: Actor, request_id: int, seen_version: int, reason: str, *, policy: DevRelPolicy,
              now: datetime | None = None) -> RequestUpdate:
    """The assignee gives an accepted meeting back: it is routed again as a new request would be (without
    them), and the requester is told why."""
    now = now or clock.now()
    reason = " ".join(reason.split())[:MAX_BRIEF]
    if not reason:
        raise InvalidInput("Say why you hand it back; the requester reads it.", field="reason")
    with db.transaction() as session:
        row = request_row(session, request_id)
        _require_assignee(row, actor)
        if row.version != seen_version or row.state != RequestState.accepted:
            return unchanged(session, request_id, _moved_on_note(session, row, actor.user_id, policy.lead_channel))
        if row.meeting_start <= now:
            return unchanged(session, request_id, "The meeting has already started, so it can no longer be handed back.")
        route = route_next(session, row, policy=policy, now=now, also_exclude=[actor.user_id], afresh=True)
        if not advance(session, request_id, seen_version, [RequestState.accepted],
                       DevRelRequest.assignee_id == actor.user_id, **route.values, assignee_id=None,
                       accepted_at=None, remind_at=None, reminded_at=None):
            moved_on = request_row(session, request_id)
            return unchanged(session, request_id, _moved_on_note(session, moved_on, actor.user_id, policy.lead_channel))
        return passed_on(session, request_id, RequestEventKind.handed_back, "handed_back", route,
                         actor_id=actor.user_id, previous_id=actor.user_id, reason=reason, now=now)


