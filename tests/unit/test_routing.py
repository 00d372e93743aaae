"""Routing: who is asked first for a DevRel request, and who is never asked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.services.routing import match_band, rank, topic_match, week_bounds, within_working_hours
from models.schemas.devrel import Booking, RosterMember

# Wednesday 14 Oct 2026, 13:00 UTC = 15:00 in Berlin, 09:00 in New York, 21:00 in Singapore.
MEETING = datetime(2026, 10, 14, 13, 0, tzinfo=UTC)


def member(slack_id: str, name: str, topics: list[str], *, tz: str = "Europe/Berlin", start: str = "09:00",
           end: str = "17:30", capacity: int = 4, active: bool = True, ooo: date | None = None,
           last: datetime | None = None) -> RosterMember:
    return RosterMember(id=hash(slack_id) % 1000, slack_id=slack_id, name=name, topics=topics, timezone=tz,
                        work_start=start, work_end=end, weekly_capacity=capacity, active=active,
                        out_of_office_until=ooo, last_assigned_at=last)


LENA = member("U0LENA001", "Lena Hoffmann", ["observability", "apm", "opentelemetry"])
MARCUS = member("U0MARCUS1", "Marcus Reed", ["security", "siem"], tz="America/New_York")
WEI = member("U0WEIJIE1", "Wei Jie Tan", ["kubernetes", "observability"], tz="Asia/Singapore", end="22:00")


def booked(slack_id: str, start: datetime, minutes: int = 60) -> Booking:
    return Booking(slack_id=slack_id, start=start, end=start + timedelta(minutes=minutes))


def ids(candidates: list) -> list[str]:  # type: ignore[type-arg]
    return [c.slack_id for c in candidates]


def ranked(members: list[RosterMember], bookings: list[Booking] = (), topics: list[str] = ("observability",),
           start: datetime = MEETING, minutes: int = 60, exclude: tuple[str, ...] = ()) -> list[str]:  # type: ignore[assignment]
    return ids(rank(members, list(bookings), meeting_start=start, duration_minutes=minutes, topics=list(topics),
                    exclude=exclude))


def test_topic_match_ranks_the_expert_first() -> None:
    assert ranked([MARCUS, LENA], topics=["observability"]) == ["U0LENA001", "U0MARCUS1"]
    assert ranked([LENA, MARCUS], topics=["security"]) == ["U0MARCUS1", "U0LENA001"]


def test_fuzzy_topic_match_forgives_spelling_and_wording() -> None:
    score, topic = topic_match(["Observabilty"], ["observability", "apm"])
    assert topic == "observability" and score > 85
    score, topic = topic_match(["open telemetry tracing"], ["opentelemetry", "apm"])
    # Other wording for the same expertise still finds it, as a partial match.
    assert topic == "opentelemetry" and match_band(score) == 1
    assert topic_match(["security"], ["observability"])[1] is None


def test_the_reason_names_the_matching_expertise_and_load() -> None:
    bookings = [booked("U0LENA001", MEETING - timedelta(days=1))]
    (first, *_) = rank([LENA], bookings, meeting_start=MEETING, duration_minutes=60, topics=["apm"])
    assert first.reason == "apm, 1/4 meetings this week"
    (only,) = rank([MARCUS], [], meeting_start=MEETING, duration_minutes=60, topics=["apm"])
    assert only.reason == "no topic match, 0/4 meetings this week"


def test_lighter_load_wins_among_equal_experts() -> None:
    both = [LENA, member("U0HANNAH1", "Hannah Okafor", ["observability"], tz="Europe/London")]
    busy_lena = [booked("U0LENA001", MEETING - timedelta(days=2)), booked("U0LENA001", MEETING - timedelta(days=1))]
    assert ranked(both, busy_lena) == ["U0HANNAH1", "U0LENA001"]


def test_load_is_measured_against_capacity() -> None:
    big = member("U0BIGCAP1", "Big Capacity", ["observability"], capacity=10)
    bookings = [booked("U0BIGCAP1", MEETING - timedelta(days=1, hours=h)) for h in range(2)]
    bookings.append(booked("U0LENA001", MEETING - timedelta(days=1)))
    # 2/10 is lighter than 1/4, though 2 meetings are more than 1.
    assert ranked([LENA, big], bookings) == ["U0BIGCAP1", "U0LENA001"]


def test_people_at_capacity_are_not_eligible() -> None:
    full = [booked("U0LENA001", MEETING - timedelta(days=1, hours=h)) for h in range(4)]
    assert ranked([LENA], full) == []
    zero = member("U0ZEROCAP", "Zero", ["observability"], capacity=0)
    assert ranked([zero]) == []


def test_load_counts_only_the_meetings_week_in_the_persons_timezone() -> None:
    # Last week's and next week's meetings do not count.
    other_weeks = [booked("U0LENA001", MEETING - timedelta(days=7, hours=h)) for h in range(4)]
    other_weeks += [booked("U0LENA001", MEETING + timedelta(days=7, hours=h)) for h in range(4)]
    assert ranked([LENA], other_weeks) == ["U0LENA001"]
    # Sunday 23:30 in Berlin is still last week there, though it is Sunday 21:30 UTC.
    start, end = week_bounds(MEETING, ZoneInfo("Europe/Berlin"))
    assert start == datetime(2026, 10, 11, 22, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)


def test_fairness_breaks_ties_least_recently_assigned_first_and_never_assigned_before_all() -> None:
    recent = member("U0RECENT1", "Recent", ["observability"], last=MEETING - timedelta(days=1))
    long_ago = member("U0LONGAGO", "Long Ago", ["observability"], last=MEETING - timedelta(days=30))
    never = member("U0NEVER01", "Never", ["observability"])
    assert ranked([recent, long_ago, never]) == ["U0NEVER01", "U0LONGAGO", "U0RECENT1"]


def test_fairness_does_not_override_topic_or_load() -> None:
    expert_recent = member("U0EXPERT1", "Expert", ["observability"], last=MEETING - timedelta(hours=1))
    generalist_never = member("U0GENERAL", "Generalist", ["cloud"])
    assert ranked([generalist_never, expert_recent]) == ["U0EXPERT1", "U0GENERAL"]


def test_working_hours_are_judged_in_each_persons_own_timezone() -> None:
    # 13:00 UTC: 15:00 Berlin (in), 09:00 New York (in at start), 21:00 Singapore (in: works till 22:00).
    assert set(ranked([LENA, MARCUS, WEI])) == {"U0LENA001", "U0MARCUS1", "U0WEIJIE1"}
    # 08:00 UTC: 10:00 Berlin (in), 04:00 New York (out), 16:00 Singapore (in).
    early = MEETING.replace(hour=8)
    assert set(ranked([LENA, MARCUS, WEI], start=early)) == {"U0LENA001", "U0WEIJIE1"}
    # 16:00 UTC for an hour: 18:00-19:00 Berlin (out), 12:00 New York (in), 00:00 Singapore (out).
    late = MEETING.replace(hour=16)
    assert ranked([LENA, MARCUS, WEI], start=late) == ["U0MARCUS1"]


def test_the_whole_meeting_must_fit_before_the_end_of_work() -> None:
    # 15:00 UTC = 17:00 Berlin; an hour ends 18:00, after 17:30.
    assert ranked([LENA], start=MEETING.replace(hour=15)) == []
    assert ranked([LENA], start=MEETING.replace(hour=15), minutes=30) == ["U0LENA001"]


def test_weekends_are_out_in_the_persons_timezone() -> None:
    saturday = datetime(2026, 10, 17, 10, 0, tzinfo=UTC)
    assert ranked([LENA, MARCUS], start=saturday) == []
    # Monday 01:00 UTC is Monday 09:00 in Singapore but Sunday evening in New York.
    monday_early = datetime(2026, 10, 19, 1, 0, tzinfo=UTC)
    assert ranked([WEI, MARCUS], start=monday_early) == ["U0WEIJIE1"]


def test_out_of_office_through_the_date_excludes_and_the_day_after_includes() -> None:
    away = member("U0AWAY001", "Away", ["observability"], ooo=date(2026, 10, 14))
    assert ranked([away]) == []
    assert ranked([away], start=MEETING + timedelta(days=1)) == ["U0AWAY001"]


def test_inactive_members_are_never_asked() -> None:
    retired = member("U0RETIRED", "Retired", ["observability"], active=False)
    assert ranked([retired, MARCUS]) == ["U0MARCUS1"]


def test_an_overlapping_accepted_meeting_excludes() -> None:
    assert ranked([LENA], [booked("U0LENA001", MEETING + timedelta(minutes=30))]) == []
    assert ranked([LENA], [booked("U0LENA001", MEETING - timedelta(minutes=30), 30)]) == ["U0LENA001"]
    assert ranked([LENA], [booked("U0LENA001", MEETING + timedelta(minutes=60))]) == ["U0LENA001"]


def test_the_requester_and_people_already_asked_are_excluded() -> None:
    assert ranked([LENA, MARCUS, WEI], exclude=("U0LENA001",)) == ["U0WEIJIE1", "U0MARCUS1"]
    assert ranked([LENA], exclude=("U0LENA001",)) == []


def test_working_hours_boundary_is_inclusive() -> None:
    exact = member("U0EXACT01", "Exact", ["observability"], start="15:00", end="16:00")
    assert within_working_hours(exact, MEETING, MEETING + timedelta(hours=1))
    assert not within_working_hours(exact, MEETING - timedelta(minutes=1), MEETING + timedelta(minutes=59))


@given(
    capacities=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=6),
    loads=st.lists(st.integers(min_value=0, max_value=6), min_size=6, max_size=6),
    excluded=st.sets(st.integers(min_value=0, max_value=5)),
)
def test_nobody_at_capacity_or_excluded_is_ever_ranked(capacities: list[int], loads: list[int], excluded: set[int]) -> None:
    members = [member(f"U0PERSON{i}", f"Person {i}", ["observability"], capacity=c) for i, c in enumerate(capacities)]
    bookings = [
        booked(f"U0PERSON{i}", datetime(2026, 10, 12, 6, 0, tzinfo=UTC) + timedelta(hours=3 * n))
        for i in range(len(capacities)) for n in range(loads[i])
    ]
    result = rank(members, bookings, meeting_start=MEETING, duration_minutes=60, topics=["observability"],
                  exclude={f"U0PERSON{i}" for i in excluded})
    for candidate in result:
        index = int(candidate.slack_id.removeprefix("U0PERSON"))
        assert index not in excluded
        assert loads[index] < capacities[index]
        assert candidate.load == loads[index]
    loads_seen = [c.load / c.capacity for c in result]
    assert loads_seen == sorted(loads_seen)


def test_meeting_time_is_any_instant_not_only_utc() -> None:
    berlin_three_pm = datetime.combine(date(2026, 10, 14), time(15, 0), tzinfo=ZoneInfo("Europe/Berlin"))
    assert ranked([LENA], start=berlin_three_pm) == ["U0LENA001"]
