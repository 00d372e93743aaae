"""DevRel requests: bringing a DevRel person "into the room" for a customer meeting.

A request asks one roster member at a time. Each transition is a single UPDATE guarded by the row's
`version` (and its state and current candidate), so the first valid click or timer wins and every
later one finds the request already moved on and changes nothing. Each transition is written to
`devrel_request_events` and the audit log in the same unit of work.

Timers live in the row (`escalate_at`, `remind_at`, the meeting start) and are driven by the
scheduler tick through `due_timers`, `escalate`, `expire` and `claim_reminder`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process, utils
from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.orm import Session

from bot import clock, db
from bot.config import Settings
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.services import audit
from bot.services.actors import Actor
from bot.services.roster import bookings_between, member_of
from bot.services.routing import first_overlap, load_in_week, rank, week_bounds
from models import DevRelPerson, DevRelRequest, DevRelRequestEvent, DevRelRequestMessage, Engagement
from models.enums import RequestEventKind, RequestState, Stage
from models.schemas.devrel import (
    MAX_TOPICS,
    CANCELLABLE_STATES,
    MEETING_DURATIONS,
    OPEN_STATES,
    SYSTEM_ACTOR,
    Candidate,
    Change,
    DevRelCoverage,
    DevRelPolicy,
    DevRelRequestView,
    DueTimers,
    EngagementChoice,
    HistoryItem,
    MessageRef,
    OverlappingMeeting,
    RequestDraft,
    RequestUpdate,
    WeekLoad,
)

ENTITY = "devrel_request"
ESCALATION_FLOOR = timedelta(minutes=10)
REMIND_BEFORE = timedelta(hours=1)
MAX_AHEAD = timedelta(days=366)
MAX_BRIEF = 2000
MAX_LINK = 2000
MAX_ENGAGEMENT_CHOICES = 100
ENGAGEMENT_MATCH_CUTOFF = 60
TIMERS_PER_TICK = 200


# ----- engagements -------------------------------------------------------------------------------


def policy_for(settings: Settings) -> DevRelPolicy:
    """The routing rules this deployment configured: where unanswered requests go, and how soon."""
    return DevRelPolicy(lead_channel=settings.devrel_channel, escalate_after=settings.devrel_escalate_after)


def _choice(row: Engagement) -> EngagementChoice:
    return EngagementChoice(
        id=row.id, account=row.account, opportunity=row.opportunity, stage=Stage(row.stage), focus=row.focus,
        owner_id=row.owner_id, seller_id=row.seller_id, channel_id=row.channel_id,
    )


def _open_engagements_query(requester_id: str) -> Any:
    return select(Engagement).where(
        or_(Engagement.owner_id == requester_id, Engagement.seller_id == requester_id),
        Engagement.stage != Stage.closed,
    )


def open_engagements(requester_id: str) -> list[EngagementChoice]:
    """The requester's open engagements (as SE or seller), most recently active first."""
    with db.reading() as session:
        rows = session.scalars(
            _open_engagements_query(requester_id)
            .order_by(Engagement.last_activity_at.desc(), Engagement.id.desc())
            .limit(MAX_ENGAGEMENT_CHOICES)
        ).all()
        return [_choice(row) for row in rows]


def best_engagement(choices: Sequence[EngagementChoice], text: str) -> EngagementChoice | None:
    """The engagement whose account (or opportunity) best matches what was typed, if any matches well."""
    text = text.strip()
    if not text or not choices:
        return None
    labels = {index: f"{c.account} {c.opportunity}" for index, c in enumerate(choices)}
    accounts = {index: c.account for index, c in enumerate(choices)}
    best = process.extractOne(text, accounts, scorer=fuzz.WRatio, processor=utils.default_process,
                              score_cutoff=ENGAGEMENT_MATCH_CUTOFF)
    if best is None:
        best = process.extractOne(text, labels, scorer=fuzz.token_set_ratio, processor=utils.default_process,
                                  score_cutoff=ENGAGEMENT_MATCH_CUTOFF + 15)
    return choices[best[2]] if best is not None else None


# ----- validation --------------------------------------------------------------------------------


def _link_problem(link: str) -> str | None:
    if not link:
        return None
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in link):
        return "Give the meeting link as a full web address starting with https://, like https://meet.example.com/abc-defg."
    if len(link) > MAX_LINK:
        return f"The meeting link is longer than {MAX_LINK} characters; use a shorter link."
    return None


def request_problems(actor: Actor, draft: RequestDraft, *, now: datetime | None = None) -> dict[str, str]:
    """Every problem with a draft, by field (`engagement_id`, `meeting_start`, …); empty when it may be sent."""
    now = now or clock.now()
    problems: dict[str, str] = {}
    if draft.engagement_id is None:
        problems["engagement_id"] = "Pick the engagement this meeting is for."
    else:
        with db.reading() as session:
            found = session.scalar(
                _open_engagements_query(actor.user_id).where(Engagement.id == draft.engagement_id)
            )
        if found is None:
            problems["engagement_id"] = (
                "That engagement is closed or is not one of yours. Pick one of your open engagements."
            )
    if draft.meeting_start is None:
        problems["meeting_start"] = "Pick the date and time the meeting starts."
    elif draft.meeting_start <= now:
        problems["meeting_start"] = "That time has already passed. Pick when the meeting starts, in the future."
    elif draft.meeting_start - now > MAX_AHEAD:
        problems["meeting_start"] = "That is more than a year away. Check the year of the meeting date."
    if draft.duration_minutes not in MEETING_DURATIONS:
        allowed = ", ".join(str(m) for m in MEETING_DURATIONS)
        problems["duration_minutes"] = f"Pick a duration of {allowed} minutes."
    if len(draft.topics) > MAX_TOPICS:
        problems["topics"] = f"List at most {MAX_TOPICS} topics, separated by commas."
    link_problem = _link_problem(draft.meeting_link)
    if link_problem:
        problems["meeting_link"] = link_problem
    for name in ("customer_asked", "promised", "held_in_reserve"):
        if len(getattr(draft, name)) > MAX_BRIEF:
            problems[name] = f"Keep this under {MAX_BRIEF} characters; link a document for more."
    return problems


def _raise_first(problems: dict[str, str]) -> None:
    if problems:
        field_name, message = next(iter(problems.items()))
        raise InvalidInput(message, field=field_name)


def escalation_delay(policy: DevRelPolicy, meeting_start: datetime, now: datetime) -> timedelta:
    """How long an asked person has to answer: the setting, or half the time left when the meeting is
    sooner than twice that, but never under ten minutes."""
    half_left = (meeting_start - now) / 2
    return max(ESCALATION_FLOOR, min(policy.escalate_after, half_left))


# ----- reading a request -------------------------------------------------------------------------


def _messages(session: Session, request_id: int) -> list[MessageRef]:
    rows = session.scalars(
        select(DevRelRequestMessage).where(DevRelRequestMessage.request_id == request_id).order_by(DevRelRequestMessage.id)
    ).all()
    return [MessageRef(channel_id=r.channel_id, ts=r.ts, audience=r.audience, recipient_id=r.recipient_id)  # type: ignore[arg-type]
            for r in rows]


def _view(session: Session, request_id: int) -> DevRelRequestView:
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
        id=row.id, version=row.version, state=RequestState(row.state), engagement=_choice(engagement),
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
        return _view(session, request_id)


def messages_of(request_id: int) -> list[MessageRef]:
    with db.reading() as session:
        return _messages(session, request_id)


def remember_message(request_id: int, message: MessageRef) -> None:
    """Keep a posted message so every later change can redraw it."""
    with db.transaction() as session:
        session.add(DevRelRequestMessage(request_id=request_id, channel_id=message.channel_id, ts=message.ts,
                                         audience=message.audience, recipient_id=message.recipient_id))


# ----- writing -----------------------------------------------------------------------------------


def _event(session: Session, request_id: int, kind: RequestEventKind, *, actor_id: str, at: datetime,
           subject_id: str | None = None, detail: str = "") -> None:
    session.add(DevRelRequestEvent(request_id=request_id, kind=kind, actor_id=actor_id, subject_id=subject_id,
                                   at=at, detail=detail))
    audit.record(session, actor_id=actor_id, entity=ENTITY, entity_id=request_id, action=str(kind), at=at,
                 subject=subject_id, detail=detail)


def _advance(session: Session, request_id: int, seen_version: int, states: Iterable[RequestState],
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
class _Route:
    """Where a request goes next: the values to write, the events to record, and what to tell people."""

    values: dict[str, Any]
    events: list[tuple[RequestEventKind, str | None, str]] = field(default_factory=list)
    asked: Candidate | None = None
    to_channel: bool = False
    nobody: bool = False


def _route_next(session: Session, row: DevRelRequest, *, policy: DevRelPolicy, now: datetime,
                also_exclude: Iterable[str] = ()) -> _Route:
    asked = [*(row.asked_ids or []), *also_exclude]
    people = session.scalars(select(DevRelPerson)).all()
    bookings = bookings_between(session, row.meeting_start - timedelta(days=8), row.meeting_start + timedelta(days=8),
                                exclude_request=row.id)
    candidates = rank([member_of(p) for p in people], bookings, meeting_start=row.meeting_start,
                      duration_minutes=row.duration_minutes, topics=list(row.topics or []),
                      exclude={*asked, row.requester_id})
    if candidates:
        chosen = candidates[0]
        return _Route(
            values={"state": RequestState.asking, "candidate_id": chosen.slack_id, "asked_ids": [*asked, chosen.slack_id],
                    "escalate_at": now + escalation_delay(policy, row.meeting_start, now)},
            events=[(RequestEventKind.asked, chosen.slack_id, chosen.reason)],
            asked=chosen,
        )
    if policy.lead_channel:
        return _Route(
            values={"state": RequestState.in_channel, "candidate_id": None, "asked_ids": asked, "escalate_at": None},
            events=[(RequestEventKind.escalated, None, "nobody left to ask; posted to the DevRel channel")],
            to_channel=True,
        )
    return _Route(
        values={"state": RequestState.expired, "candidate_id": None, "asked_ids": asked, "escalate_at": None,
                "closed_at": now},
        events=[(RequestEventKind.expired, None, "nobody on the roster is available and no DevRel channel is set")],
        nobody=True,
    )


def _update(session: Session, request_id: int, *, change: Change, actor_id: str, route: _Route | None = None,
            previous_id: str | None = None, reason: str = "") -> RequestUpdate:
    return RequestUpdate(
        request=_view(session, request_id), changed=True, change=change, actor_id=actor_id, previous_id=previous_id,
        reason=reason, asked=route.asked if route else None, to_channel=bool(route and route.to_channel),
        nobody_available=bool(route and route.nobody), messages=_messages(session, request_id),
    )


def _unchanged(session: Session, request_id: int, note: str, **extra: Any) -> RequestUpdate:
    return RequestUpdate(request=_view(session, request_id), changed=False, change="unchanged", note=note,
                         messages=_messages(session, request_id), **extra)


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
    _raise_first(request_problems(actor, draft, now=now))
    assert draft.engagement_id is not None and draft.meeting_start is not None
    with db.transaction() as session:
        engagement = session.scalar(_open_engagements_query(actor.user_id).where(Engagement.id == draft.engagement_id))
        if engagement is None:
            raise InvalidInput("That engagement was closed meanwhile. Pick another open engagement.", field="engagement_id")
        topics = draft.topics or [t for t in [engagement.focus.strip()] if t]
        row = DevRelRequest(
            engagement_id=engagement.id, requester_id=actor.user_id, meeting_start=draft.meeting_start,
            duration_minutes=draft.duration_minutes, topics=topics, meeting_link=draft.meeting_link.strip(),
            customer_asked=draft.customer_asked.strip(), promised=draft.promised.strip(),
            held_in_reserve=draft.held_in_reserve.strip(), state=RequestState.asking, version=0, asked_ids=[],
            created_at=now,
        )
        session.add(row)
        session.flush()
        _event(session, row.id, RequestEventKind.requested, actor_id=actor.user_id, at=now,
               detail=f"{engagement.account}; meeting {draft.meeting_start.isoformat()}")
        route = _route_next(session, row, policy=policy, now=now)
        for key, value in route.values.items():
            setattr(row, key, value)
        row.version = 1
        for kind, subject, detail in route.events:
            _event(session, row.id, kind, actor_id=SYSTEM_ACTOR, at=now, subject_id=subject, detail=detail)
        session.flush()
        return _update(session, row.id, change="requested", actor_id=actor.user_id, route=route)


def accept(actor: Actor, request_id: int, seen_version: int, *, policy: DevRelPolicy | None = None,
           now: datetime | None = None) -> RequestUpdate:
    """The asked person says yes. Exactly one accept wins, however many clicks arrive at once."""
    now = now or clock.now()
    lead_channel = policy.lead_channel if policy else None
    with db.transaction() as session:
        row = _get(session, request_id)
        _require_asked(row, actor, "accept")
        if row.version != seen_version or row.state != RequestState.asking:
            return _unchanged(session, request_id, _moved_on_note(session, row, actor.user_id, lead_channel))
        if row.candidate_id != actor.user_id:
            raise Forbidden("Only the DevRel person this request was sent to can accept it.")
        if row.meeting_start <= now:
            return _unchanged(session, request_id, "The meeting has already started, so it can no longer be accepted.")
        commitments = _commitments(session, actor.user_id, row)
        if commitments.overlapping is not None:
            return commitments.refusal(session, request_id)
        won = _advance(session, request_id, seen_version, [RequestState.asking], DevRelRequest.candidate_id == actor.user_id,
                       **_accepted_values(actor.user_id, row.meeting_start, now))
        if not won:
            return _unchanged(session, request_id, _moved_on_note(session, _get(session, request_id), actor.user_id, lead_channel))
        _mark_assigned(session, actor.user_id, now)
        _event(session, request_id, RequestEventKind.accepted, actor_id=actor.user_id, at=now, subject_id=actor.user_id)
        return commitments.told(_update(session, request_id, change="accepted", actor_id=actor.user_id))


def take(actor: Actor, request_id: int, seen_version: int, *, policy: DevRelPolicy | None = None,
         now: datetime | None = None) -> RequestUpdate:
    """Anyone active on the roster takes a request from the lead channel; the first one wins."""
    now = now or clock.now()
    lead_channel = policy.lead_channel if policy else None
    with db.transaction() as session:
        row = _get(session, request_id)
        # Before anything about the request: who took it is no business of someone who may not take it.
        member_active = session.scalar(select(DevRelPerson.active).where(DevRelPerson.slack_id == actor.user_id))
        if not member_active:
            raise Forbidden(
                "Only active members of the DevRel roster can take requests. "
                "If you should be on it, ask an epos admin to add you (`/devrel roster`)."
            )
        if row.version != seen_version or row.state != RequestState.in_channel:
            return _unchanged(session, request_id, _moved_on_note(session, row, actor.user_id, lead_channel))
        if row.meeting_start <= now:
            return _unchanged(session, request_id, "The meeting has already started, so it can no longer be taken.")
        commitments = _commitments(session, actor.user_id, row)
        if commitments.overlapping is not None:
            return commitments.refusal(session, request_id)
        won = _advance(session, request_id, seen_version, [RequestState.in_channel],
                       **_accepted_values(actor.user_id, row.meeting_start, now))
        if not won:
            return _unchanged(session, request_id, _moved_on_note(session, _get(session, request_id), actor.user_id, lead_channel))
        _mark_assigned(session, actor.user_id, now)
        _event(session, request_id, RequestEventKind.assigned, actor_id=actor.user_id, at=now, subject_id=actor.user_id,
               detail="taken from the DevRel channel")
        return commitments.told(_update(session, request_id, change="assigned", actor_id=actor.user_id))


@dataclass
class _Commitments:
    """What a person already has on around a meeting they are about to take on."""

    timezone: str | None
    overlapping: OverlappingMeeting | None = None
    over_capacity: WeekLoad | None = None

    def refusal(self, session: Session, request_id: int) -> RequestUpdate:
        # No note: the reply names the other meeting, written in the clicker's timezone by the blocks.
        return _unchanged(session, request_id, "", overlapping=self.overlapping, actor_timezone=self.timezone)

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


def _get(session: Session, request_id: int) -> DevRelRequest:
    row = session.get(DevRelRequest, request_id, populate_existing=True)
    if row is None:
        raise NotFound("That DevRel request no longer exists.")
    return row


def check_decline(actor: Actor, request_id: int, seen_version: int, *, policy: DevRelPolicy | None = None) -> RequestUpdate:
    """Before the decline form opens: unchanged with a note when the request moved on; Forbidden for others."""
    with db.reading() as session:
        row = _get(session, request_id)
        _require_asked(row, actor, "decline")
        if row.version != seen_version or row.state != RequestState.asking:
            return _unchanged(session, request_id, _moved_on_note(session, row, actor.user_id,
                                                                  policy.lead_channel if policy else None))
        if row.candidate_id != actor.user_id:
            raise Forbidden("Only the DevRel person this request was sent to can decline it.")
        return _unchanged(session, request_id, "")


def decline(actor: Actor, request_id: int, seen_version: int, reason: str, *, policy: DevRelPolicy,
            now: datetime | None = None) -> RequestUpdate:
    """The asked person says no (with an optional reason); the next candidate is asked."""
    now = now or clock.now()
    reason = " ".join(reason.split())[:MAX_BRIEF]
    with db.transaction() as session:
        row = _get(session, request_id)
        _require_asked(row, actor, "decline")
        if row.version != seen_version or row.state != RequestState.asking:
            return _unchanged(session, request_id, _moved_on_note(session, row, actor.user_id, policy.lead_channel))
        if row.candidate_id != actor.user_id:
            raise Forbidden("Only the DevRel person this request was sent to can decline it.")
        route = _route_next(session, row, policy=policy, now=now)
        if not _advance(session, request_id, seen_version, [RequestState.asking],
                        DevRelRequest.candidate_id == actor.user_id, **route.values):
            return _unchanged(session, request_id, _moved_on_note(session, _get(session, request_id), actor.user_id,
                                                                  policy.lead_channel))
        _event(session, request_id, RequestEventKind.declined, actor_id=actor.user_id, at=now, subject_id=actor.user_id,
               detail=reason)
        for kind, subject, detail in route.events:
            _event(session, request_id, kind, actor_id=SYSTEM_ACTOR, at=now, subject_id=subject, detail=detail)
        return _update(session, request_id, change="declined", actor_id=actor.user_id, route=route,
                       previous_id=actor.user_id, reason=reason)


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
        route = _route_next(session, row, policy=policy, now=now)
        if not _advance(session, request_id, seen_version, [RequestState.asking], **route.values):
            return None
        _event(session, request_id, RequestEventKind.escalated, actor_id=SYSTEM_ACTOR, at=now, subject_id=previous,
               detail=why)
        for kind, subject, detail in route.events:
            _event(session, request_id, kind, actor_id=SYSTEM_ACTOR, at=now, subject_id=subject, detail=detail)
        return _update(session, request_id, change="escalated", actor_id=SYSTEM_ACTOR, route=route,
                       previous_id=previous, reason=why)


def expire(request_id: int, seen_version: int, *, now: datetime | None = None) -> RequestUpdate | None:
    """The meeting started with nobody assigned. None if the request already moved on."""
    now = now or clock.now()
    with db.transaction() as session:
        row = session.get(DevRelRequest, request_id, populate_existing=True)
        if row is None or row.version != seen_version or row.state not in OPEN_STATES or row.meeting_start > now:
            return None
        previous = row.candidate_id
        if not _advance(session, request_id, seen_version, OPEN_STATES, DevRelRequest.meeting_start <= now,
                        state=RequestState.expired, candidate_id=None, escalate_at=None, closed_at=now):
            return None
        _event(session, request_id, RequestEventKind.expired, actor_id=SYSTEM_ACTOR, at=now, subject_id=previous,
               detail="the meeting started without a DevRel person")
        return _update(session, request_id, change="expired", actor_id=SYSTEM_ACTOR, previous_id=previous)


def cancel(actor: Actor, request_id: int, *, now: datetime | None = None) -> RequestUpdate:
    """The requester calls it off; whoever was asked or assigned is then told."""
    now = now or clock.now()
    with db.transaction() as session:
        row = _get(session, request_id)
        if row.requester_id != actor.user_id:
            raise Forbidden(f"Only <@{row.requester_id}>, who asked for DevRel, can cancel this request.")
        state = RequestState(row.state)
        if state is RequestState.cancelled:
            return _unchanged(session, request_id, "This request is already cancelled.")
        if state is RequestState.expired:
            return _unchanged(session, request_id, "This request has already expired; there is nothing to cancel.")
        if row.meeting_start <= now:
            return _unchanged(session, request_id, "The meeting has already started; there is nothing left to cancel.")
        previous = row.assignee_id or row.candidate_id
        if not _advance(session, request_id, row.version, CANCELLABLE_STATES,
                        state=RequestState.cancelled, candidate_id=None, escalate_at=None, remind_at=None, closed_at=now):
            return _unchanged(session, request_id, "This request changed just now; look at it again and retry.")
        _event(session, request_id, RequestEventKind.cancelled, actor_id=actor.user_id, at=now, subject_id=previous)
        return _update(session, request_id, change="cancelled", actor_id=actor.user_id, previous_id=previous)


# ----- timers ------------------------------------------------------------------------------------


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
        row = _get(session, request_id)
        _event(session, request_id, RequestEventKind.reminded, actor_id=SYSTEM_ACTOR, at=now, subject_id=row.assignee_id)
        return _view(session, request_id)


# ----- coverage ----------------------------------------------------------------------------------


def _minutes_to_accept() -> Any:
    if db.dialect() == "postgresql":
        return func.extract("epoch", DevRelRequest.accepted_at - DevRelRequest.created_at) / 60.0
    return (func.julianday(DevRelRequest.accepted_at) - func.julianday(DevRelRequest.created_at)) * 1440.0


def coverage(since: datetime, until: datetime) -> DevRelCoverage:
    """DevRel coverage of the requests created in [since, until), for the digest."""
    in_window = and_(DevRelRequest.created_at >= since, DevRelRequest.created_at < until)
    one, zero = literal(1), literal(0)
    with db.reading() as session:
        totals = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((DevRelRequest.accepted_at.is_not(None), one), else_=zero)), 0),
                func.coalesce(func.sum(case(
                    (and_(DevRelRequest.state == RequestState.cancelled, DevRelRequest.accepted_at.is_(None)), one),
                    else_=zero)), 0),
                func.coalesce(func.sum(case(
                    (DevRelRequest.state == RequestState.expired, one),
                    (and_(DevRelRequest.state.in_([str(s) for s in OPEN_STATES]), DevRelRequest.meeting_start <= until), one),
                    else_=zero)), 0),
            ).where(in_window)
        ).one()
        requests, accepted, cancelled, unanswered = (int(v or 0) for v in totals)
        median = _median_minutes(session, and_(in_window, DevRelRequest.accepted_at.is_not(None)), accepted)
    rated = requests - cancelled
    return DevRelCoverage(
        since=since, until=until, requests=requests, accepted=accepted, cancelled=cancelled, unanswered=unanswered,
        accept_rate=round(accepted / rated, 4) if rated > 0 else None,
        median_minutes_to_accept=round(median, 1) if median is not None else None,
    )


def _median_minutes(session: Session, condition: Any, count: int) -> float | None:
    if count == 0:
        return None
    minutes = _minutes_to_accept()
    if db.dialect() == "postgresql":
        value = session.scalar(select(func.percentile_cont(0.5).within_group(minutes)).where(condition))
        return float(value) if value is not None else None
    # SQLite has no percentile: read the one or two middle values in order.
    middle = session.scalars(
        select(minutes).where(condition).order_by(minutes).offset((count - 1) // 2).limit(2 - count % 2)
    ).all()
    return sum(float(v) for v in middle) / len(middle) if middle else None
