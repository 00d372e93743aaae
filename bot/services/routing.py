"""Who to ask for a DevRel request: a pure ranking over roster members, their bookings and the meeting.

Order: topic match first (in bands, so a hair's difference in fuzzy score never beats a lighter
load), then load against weekly capacity, then fairness (never assigned, then least recently
assigned), then name so the order is stable. People who cannot take the meeting are left out: inactive,
out of office that day, at capacity that week, outside their working hours or on a weekend in their
own timezone, already in an overlapping meeting, the requester, and anyone already asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, utils

from models.schemas.devrel import Booking, Candidate, RosterMember

STRONG_MATCH = 85.0
PARTIAL_MATCH = 65.0
_NEVER = datetime.min.replace(tzinfo=UTC)


def topic_match(requested: Sequence[str], expertise: Sequence[str]) -> tuple[float, str | None]:
    """Best fuzzy score of any requested topic against any expertise topic, and the expertise it hit."""
    best_score, best_topic = 0.0, None
    for wanted in requested:
        for known in expertise:
            score = fuzz.token_set_ratio(wanted, known, processor=utils.default_process)
            if score > best_score:
                best_score, best_topic = score, known
    return best_score, best_topic if best_score >= PARTIAL_MATCH else None


def match_band(score: float) -> int:
    """2 for a clear match, 1 for a partial one, 0 for none."""
    if score >= STRONG_MATCH:
        return 2
    if score >= PARTIAL_MATCH:
        return 1
    return 0


def week_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 of `moment`'s ISO week, in `zone`, as UTC instants."""
    local_day = moment.astimezone(zone).date()
    monday = local_day - timedelta(days=local_day.weekday())
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def load_in_week(bookings: Iterable[Booking], slack_id: str, moment: datetime, zone: ZoneInfo) -> int:
    start, end = week_bounds(moment, zone)
    return sum(1 for b in bookings if b.slack_id == slack_id and start <= b.start < end)


def within_working_hours(member: RosterMember, start: datetime, end: datetime) -> bool:
    """The whole meeting falls on one weekday, between the person's start and end of work, in their timezone."""
    zone = ZoneInfo(member.timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.weekday() >= 5 or local_start.date() != local_end.date():
        # A meeting running exactly to midnight ends on the next date; working hours end before that anyway.
        return False
    return member.work_start <= local_start.time() and local_end.time() <= member.work_end


def out_of_office(member: RosterMember, start: datetime) -> bool:
    """Out of office through `out_of_office_until` (inclusive), judged on the meeting's date where they live."""
    if member.out_of_office_until is None:
        return False
    local_day: date = start.astimezone(ZoneInfo(member.timezone)).date()
    return local_day <= member.out_of_office_until


def first_overlap(bookings: Iterable[Booking], slack_id: str, start: datetime, end: datetime) -> Booking | None:
    """The earliest of the person's bookings that shares any time with [start, end)."""
    clashing = [b for b in bookings if b.slack_id == slack_id and b.start < end and start < b.end]
    return min(clashing, key=lambda b: (b.start, b.request_id or 0)) if clashing else None


def overlaps(bookings: Iterable[Booking], slack_id: str, start: datetime, end: datetime) -> bool:
    return first_overlap(bookings, slack_id, start, end) is not None


def rank(
    members: Sequence[RosterMember],
    bookings: Sequence[Booking],
    *,
    meeting_start: datetime,
    duration_minutes: int,
    topics: Sequence[str],
    exclude: Iterable[str] = (),
) -> list[Candidate]:
    """Eligible members, best first. An empty list means nobody on the roster can take the meeting."""
    meeting_end = meeting_start + timedelta(minutes=duration_minutes)
    excluded = set(exclude)
    ranked: list[tuple[tuple[object, ...], Candidate]] = []
    for member in members:
        if member.slack_id in excluded or not member.active:
            continue
        if out_of_office(member, meeting_start) or not within_working_hours(member, meeting_start, meeting_end):
            continue
        if overlaps(bookings, member.slack_id, meeting_start, meeting_end):
            continue
        load = load_in_week(bookings, member.slack_id, meeting_start, ZoneInfo(member.timezone))
        if load >= member.weekly_capacity:
            continue
        score, matched = topic_match(topics, member.topics)
        candidate = Candidate(
            slack_id=member.slack_id,
            name=member.name,
            timezone=member.timezone,
            matched_topic=matched,
            topic_score=score,
            load=load,
            capacity=member.weekly_capacity,
            last_assigned_at=member.last_assigned_at,
        )
        key = (
            -match_band(score),
            load / member.weekly_capacity,
            member.last_assigned_at or _NEVER,
            member.name.casefold(),
            member.slack_id,
        )
        ranked.append((key, candidate))
    ranked.sort(key=lambda pair: pair[0])
    return [candidate for _, candidate in ranked]
