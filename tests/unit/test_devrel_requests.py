"""DevRel requests on a real database: asking, declining, escalating, accepting, cancelling, timers."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import db
from bot.errors import Forbidden, InvalidInput
from bot.services import devrel
from bot.services.actors import Actor
from models import AuditEntry, DevRelPerson, DevRelRequest, DevRelRequestEvent
from models.enums import RequestEventKind, RequestState, Stage
from models.schemas.devrel import DevRelPolicy, RequestDraft
from tests.conftest import SE, SELLER, STRANGER
from tests.devrel_helpers import (
    ASKING_ORDER,
    HANNAH,
    LENA,
    MARCUS,
    MEETING,
    NO_CHANNEL,
    NOW,
    POLICY,
    WEI,
    add_engagement,
    load_roster,
)

REQUESTER = Actor(user_id=SE)


def draft(engagement_id: int, **overrides: object) -> RequestDraft:
    values: dict[str, object] = {
        "engagement_id": engagement_id, "meeting_start": MEETING, "duration_minutes": 60, "topics": ["observability"],
        "meeting_link": "https://meet.example.com/abc", "customer_asked": "Can traces cross Kafka?",
        "promised": "A sizing estimate by Friday", "held_in_reserve": "Free PoC extension",
    }
    values.update(overrides)
    return RequestDraft(**values)


def create(policy: DevRelPolicy = POLICY, **overrides: object) -> int:
    engagement_id = add_engagement()
    update = devrel.create_request(REQUESTER, draft(engagement_id, **overrides), policy=policy, now=NOW)
    return update.request.id


def events(request_id: int) -> list[tuple[str, str, str | None]]:
    with db.reading() as session:
        rows = session.scalars(select(DevRelRequestEvent).where(DevRelRequestEvent.request_id == request_id)
                               .order_by(DevRelRequestEvent.id)).all()
        return [(r.kind, r.actor_id, r.subject_id) for r in rows]


def row(request_id: int) -> SimpleNamespace:
    with db.reading() as session:
        found = session.get(DevRelRequest, request_id)
        assert found is not None
        return SimpleNamespace(state=found.state, version=found.version, assignee_id=found.assignee_id,
                               candidate_id=found.candidate_id)


@pytest.fixture(autouse=True)
def roster(database_url: str) -> None:
    load_roster()


def test_a_request_asks_the_best_placed_person_and_says_why() -> None:
    engagement_id = add_engagement()
    update = devrel.create_request(REQUESTER, draft(engagement_id), policy=POLICY, now=NOW)
    assert update.change == "requested"
    assert update.asked is not None and update.asked.slack_id == LENA
    assert f"Asked {update.asked.name} — {update.asked.reason}" == "Asked Lena Hoffmann — observability, 0/4 meetings this week"
    request = update.request
    assert request.state is RequestState.asking and request.candidate_id == LENA and request.asked_ids == [LENA]
    assert request.escalate_at == NOW + timedelta(hours=2)
    assert request.candidate_reason == "observability, 0/4 meetings this week"
    assert events(request.id) == [("requested", SE, None), ("asked", "epos", LENA)]


def test_topics_left_empty_come_from_the_engagement_focus() -> None:
    engagement_id = add_engagement(focus="security")
    update = devrel.create_request(REQUESTER, draft(engagement_id, topics=[]), policy=POLICY, now=NOW)
    assert update.request.topics == ["security"]
    assert update.asked is not None and update.asked.slack_id == MARCUS


def test_the_seller_may_request_for_their_engagement_too() -> None:
    engagement_id = add_engagement()
    update = devrel.create_request(Actor(user_id=SELLER), draft(engagement_id), policy=POLICY, now=NOW)
    assert update.request.requester_id == SELLER


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"engagement_id": None}, "engagement_id", "Pick the engagement"),
        ({"meeting_start": None}, "meeting_start", "Pick the date and time"),
        ({"meeting_start": NOW - timedelta(minutes=1)}, "meeting_start", "already passed"),
        ({"meeting_start": NOW + timedelta(days=400)}, "meeting_start", "more than a year"),
        ({"meeting_link": "meet.example.com/abc"}, "meeting_link", "https://"),
        ({"meeting_link": "javascript:alert(1)"}, "meeting_link", "https://"),
        ({"duration_minutes": 50}, "duration_minutes", "30, 45, 60, 90, 120"),
        ({"customer_asked": "x" * 2001}, "customer_asked", "2000"),
    ],
)
def test_bad_drafts_are_refused_field_by_field_and_nothing_is_written(overrides: dict, field: str, words: str) -> None:
    engagement_id = add_engagement()
    values = {"engagement_id": engagement_id, **overrides}
    problems = devrel.request_problems(REQUESTER, draft(**values), now=NOW)  # type: ignore[arg-type]
    assert field in problems and words in problems[field]
    with pytest.raises(InvalidInput) as raised:
        devrel.create_request(REQUESTER, draft(**values), policy=POLICY, now=NOW)  # type: ignore[arg-type]
    assert raised.value.field in problems
    with db.reading() as session:
        assert session.scalars(select(DevRelRequest)).all() == []


def test_someone_elses_or_a_closed_engagement_is_refused() -> None:
    theirs = add_engagement(owner="U0OTHERSE", seller="U0OTHERSL")
    closed = add_engagement(stage=Stage.closed)
    for engagement_id in (theirs, closed):
        problems = devrel.request_problems(REQUESTER, draft(engagement_id), now=NOW)
        assert "engagement_id" in problems


def test_open_engagements_and_fuzzy_prefill() -> None:
    add_engagement(account="Northbeam Logistics")
    add_engagement(account="Bluefin Bank", focus="security")
    add_engagement(account="Closed Co", stage=Stage.closed)
    add_engagement(account="Not Mine", owner="U0OTHERSE", seller="U0OTHERSL")
    choices = devrel.open_engagements(SE)
    assert sorted(c.account for c in choices) == ["Bluefin Bank", "Northbeam Logistics"]
    assert devrel.best_engagement(choices, "northbeam").account == "Northbeam Logistics"  # type: ignore[union-attr]
    assert devrel.best_engagement(choices, "bluefn").account == "Bluefin Bank"  # type: ignore[union-attr]
    assert devrel.best_engagement(choices, "zzzz qqq") is None
    assert devrel.best_engagement(choices, "") is None


def test_decline_asks_the_next_candidate_and_keeps_the_reason() -> None:
    request_id = create()
    update = devrel.decline(Actor(user_id=LENA), request_id, 1, "On leave that afternoon", policy=POLICY, now=NOW)
    assert update.change == "declined" and update.previous_id == LENA and update.reason == "On leave that afternoon"
    assert update.asked is not None and update.asked.slack_id == HANNAH
    assert update.request.candidate_id == HANNAH and update.request.asked_ids == [LENA, HANNAH]
    assert update.request.decline_reason(LENA) == "On leave that afternoon"
    assert events(request_id)[-2:] == [("declined", LENA, LENA), ("asked", "epos", HANNAH)]


def test_only_the_person_asked_may_accept_or_decline() -> None:
    request_id = create()
    for person in (HANNAH, STRANGER, SE):
        with pytest.raises(Forbidden):
            devrel.accept(Actor(user_id=person), request_id, 1, now=NOW)
        with pytest.raises(Forbidden):
            devrel.decline(Actor(user_id=person), request_id, 1, "", policy=POLICY, now=NOW)
    assert row(request_id).state == RequestState.asking and row(request_id).version == 1


def test_accept_assigns_sets_the_reminder_and_fairness() -> None:
    request_id = create()
    update = devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW + timedelta(minutes=5))
    assert update.changed and update.change == "accepted"
    request = update.request
    assert request.state is RequestState.accepted and request.assignee_id == LENA and request.candidate_id is None
    assert request.remind_at == MEETING - timedelta(hours=1) and request.escalate_at is None
    assert request.accepted_at == NOW + timedelta(minutes=5)
    with db.reading() as session:
        assert session.scalar(select(DevRelPerson.last_assigned_at).where(DevRelPerson.slack_id == LENA)) == NOW + timedelta(minutes=5)
    assert events(request_id)[-1] == ("accepted", LENA, LENA)


def test_a_repeated_accept_changes_nothing_and_says_so() -> None:
    request_id = create()
    devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    again = devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    assert not again.changed and "already have" in again.note
    assert row(request_id).version == 2
    assert [e for e in events(request_id) if e[0] == "accepted"] == [("accepted", LENA, LENA)]


def test_an_old_ask_is_refreshed_not_obeyed_once_the_request_moved_on() -> None:
    request_id = create()
    devrel.decline(Actor(user_id=LENA), request_id, 1, "", policy=POLICY, now=NOW)
    late = devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    assert not late.changed and "moved on" in late.note
    assert row(request_id).candidate_id == HANNAH


def test_an_out_of_date_accept_or_decline_from_a_stranger_is_refused_without_saying_who_took_it() -> None:
    request_id = create()
    devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    for person in (STRANGER, SE, WEI):  # never asked: WEI is on the roster, SE asked for DevRel
        with pytest.raises(Forbidden, match="Only the DevRel person this request was sent to") as refused:
            devrel.accept(Actor(user_id=person), request_id, 1, now=NOW)
        assert "Lena" not in str(refused.value) and "taken" not in str(refused.value)
        with pytest.raises(Forbidden, match="Only the DevRel person this request was sent to"):
            devrel.check_decline(Actor(user_id=person), request_id, 1, policy=POLICY)
        with pytest.raises(Forbidden, match="Only the DevRel person this request was sent to"):
            devrel.decline(Actor(user_id=person), request_id, 1, "", policy=POLICY, now=NOW)
    # Someone it was sent to learns why their button does nothing now.
    late = devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    assert not late.changed and "already have" in late.note


def test_an_out_of_date_take_from_someone_off_the_roster_is_refused_without_saying_who_took_it() -> None:
    request_id = create()
    version = 1
    for person in ASKING_ORDER:
        version = devrel.decline(Actor(user_id=person), request_id, version, "", policy=POLICY, now=NOW).request.version
    devrel.take(Actor(user_id=WEI), request_id, version, now=NOW)
    for person in (STRANGER, "U0DRN5P6Q"):  # not on the roster; on it but inactive
        with pytest.raises(Forbidden, match="Only active members of the DevRel roster") as refused:
            devrel.take(Actor(user_id=person), request_id, version, now=NOW)
        assert "Wei" not in str(refused.value) and "taken" not in str(refused.value)
    late = devrel.take(Actor(user_id=HANNAH), request_id, version, now=NOW)
    assert not late.changed and "has already taken this request" in late.note


@pytest.mark.parametrize("clicks", [2, 20])
def test_concurrent_accepts_give_exactly_one_assignee(clicks: int) -> None:
    request_id = create()
    barrier = threading.Barrier(clicks)
    results: list[object] = []

    def click() -> None:
        barrier.wait()
        try:
            results.append(devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW).changed)
        except Exception as error:  # noqa: BLE001 - the test reports any failure below
            results.append(error)

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1 and results.count(False) == clicks - 1
    assert row(request_id).assignee_id == LENA and row(request_id).version == 2
    assert len([e for e in events(request_id) if e[0] == "accepted"]) == 1


def test_concurrent_takes_from_the_lead_channel_give_exactly_one_assignee() -> None:
    request_id = create()
    version = 1
    for person in ASKING_ORDER:
        update = devrel.decline(Actor(user_id=person), request_id, version, "", policy=POLICY, now=NOW)
        version = update.request.version
    assert update.to_channel and update.request.state is RequestState.in_channel
    takers = [LENA, HANNAH, MARCUS, WEI]
    barrier = threading.Barrier(len(takers))
    won: list[str] = []

    def take(person: str) -> None:
        barrier.wait()
        if devrel.take(Actor(user_id=person), request_id, version, now=NOW).changed:
            won.append(person)

    threads = [threading.Thread(target=take, args=(p,)) for p in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and row(request_id).assignee_id == won[0]
    assert events(request_id)[-1] == ("assigned", won[0], won[0])


def test_escalation_asks_the_next_person_only_when_due_and_only_once() -> None:
    request_id = create()
    assert devrel.escalate(request_id, 1, policy=POLICY, now=NOW + timedelta(minutes=119)) is None
    due = devrel.due_timers(now=NOW + timedelta(hours=2))
    assert due.escalate == [(request_id, 1)]
    first = devrel.escalate(request_id, 1, policy=POLICY, now=NOW + timedelta(hours=2))
    second = devrel.escalate(request_id, 1, policy=POLICY, now=NOW + timedelta(hours=2))
    assert first is not None and first.previous_id == LENA and first.asked is not None and first.asked.slack_id == HANNAH
    assert second is None
    assert events(request_id)[-2:] == [("escalated", "epos", LENA), ("asked", "epos", HANNAH)]


def test_exhaustion_goes_to_the_lead_channel_and_a_roster_member_takes_it() -> None:
    request_id = create()
    at = NOW
    for _ in ASKING_ORDER:
        at += timedelta(hours=2)
        (request_id_due, version), = devrel.due_timers(now=at).escalate
        update = devrel.escalate(request_id_due, version, policy=POLICY, now=at)
        assert update is not None
    assert update.to_channel and update.request.state is RequestState.in_channel
    assert update.request.asked_ids == ASKING_ORDER
    with pytest.raises(Forbidden):
        devrel.take(Actor(user_id=STRANGER), request_id, update.request.version, now=at)
    taken = devrel.take(Actor(user_id=WEI), request_id, update.request.version, now=at)
    assert taken.change == "assigned" and taken.request.assignee_id == WEI


def test_an_inactive_member_may_not_take_from_the_lead_channel() -> None:
    request_id = create()
    version = 1
    for person in ASKING_ORDER:
        version = devrel.decline(Actor(user_id=person), request_id, version, "", policy=POLICY, now=NOW).request.version
    with pytest.raises(Forbidden):
        devrel.take(Actor(user_id="U0DRN5P6Q"), request_id, version, now=NOW)


def test_without_a_lead_channel_nobody_available_closes_the_request() -> None:
    request_id = create(policy=NO_CHANNEL)
    version = 1
    for person in ASKING_ORDER:
        update = devrel.decline(Actor(user_id=person), request_id, version, "", policy=NO_CHANNEL, now=NOW)
        version = update.request.version
    assert update.nobody_available and update.request.state is RequestState.expired
    assert update.request.closed_at == NOW


def test_nobody_on_the_roster_fits_a_saturday_meeting() -> None:
    saturday = MEETING + timedelta(days=3)
    update = devrel.create_request(REQUESTER, draft(add_engagement(), meeting_start=saturday), policy=POLICY, now=NOW)
    assert update.to_channel and update.asked is None


def test_the_requester_is_never_asked_even_when_on_the_roster() -> None:
    engagement_id = add_engagement(owner=LENA)
    update = devrel.create_request(Actor(user_id=LENA), draft(engagement_id), policy=POLICY, now=NOW)
    assert update.asked is not None and update.asked.slack_id == HANNAH


def test_an_accepted_meeting_counts_as_load_and_blocks_overlaps() -> None:
    first = create()
    devrel.accept(Actor(user_id=LENA), first, 1, now=NOW)
    overlapping = devrel.create_request(REQUESTER, draft(add_engagement(account="Other")), policy=POLICY, now=NOW)
    assert overlapping.asked is not None and overlapping.asked.slack_id != LENA
    later = devrel.create_request(REQUESTER, draft(add_engagement(account="Third"), meeting_start=MEETING + timedelta(hours=1)),
                                  policy=POLICY, now=NOW)
    assert later.asked is not None and later.asked.slack_id == LENA
    assert later.asked.reason == "observability, 1/4 meetings this week"


def test_escalation_is_shorter_when_the_meeting_is_soon() -> None:
    soon = NOW + timedelta(hours=1)
    update = devrel.create_request(REQUESTER, draft(add_engagement(), meeting_start=MEETING.replace(day=12, hour=10)),
                                   policy=POLICY, now=NOW)
    assert update.request.escalate_at == NOW + timedelta(minutes=30)
    assert devrel.escalation_delay(POLICY, soon, NOW) == timedelta(minutes=30)
    assert devrel.escalation_delay(POLICY, NOW + timedelta(minutes=8), NOW) == timedelta(minutes=10)
    assert devrel.escalation_delay(POLICY, NOW + timedelta(days=2), NOW) == timedelta(hours=2)


def test_cancel_by_the_requester_tells_who_was_asked() -> None:
    request_id = create()
    with pytest.raises(Forbidden):
        devrel.cancel(Actor(user_id=LENA), request_id, now=NOW)
    update = devrel.cancel(REQUESTER, request_id, now=NOW)
    assert update.change == "cancelled" and update.previous_id == LENA
    assert update.request.state is RequestState.cancelled and update.request.escalate_at is None
    again = devrel.cancel(REQUESTER, request_id, now=NOW)
    assert not again.changed and "already cancelled" in again.note
    late = devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    assert not late.changed and "cancelled" in late.note
    assert devrel.due_timers(now=MEETING).expire == []


def test_cancel_after_accept_tells_the_assignee_and_drops_the_reminder() -> None:
    request_id = create()
    devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    update = devrel.cancel(REQUESTER, request_id, now=NOW)
    assert update.previous_id == LENA and update.request.remind_at is None
    assert devrel.due_timers(now=MEETING - timedelta(minutes=30)).remind == []


def test_a_meeting_that_starts_unassigned_expires_once() -> None:
    request_id = create()
    assert devrel.due_timers(now=MEETING - timedelta(seconds=1)).expire == []
    due = devrel.due_timers(now=MEETING)
    assert due.expire == [(request_id, 1)] and due.escalate == []
    first = devrel.expire(request_id, 1, now=MEETING)
    assert first is not None and first.request.state is RequestState.expired and first.previous_id == LENA
    assert devrel.expire(request_id, 1, now=MEETING) is None
    late = devrel.accept(Actor(user_id=LENA), request_id, 1, now=MEETING)
    assert not late.changed and "expired" in late.note


def test_reminder_is_due_an_hour_before_and_claimed_once() -> None:
    request_id = create()
    devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    assert devrel.due_timers(now=MEETING - timedelta(minutes=61)).remind == []
    at = MEETING - timedelta(minutes=60)
    assert devrel.due_timers(now=at).remind == [request_id]
    claimed = devrel.claim_reminder(request_id, now=at)
    assert claimed is not None and claimed.reminded_at == at
    assert devrel.claim_reminder(request_id, now=at) is None
    assert devrel.due_timers(now=at).remind == []
    assert events(request_id)[-1] == ("reminded", "epos", LENA)


def test_accepting_within_the_last_hour_needs_no_separate_reminder() -> None:
    request_id = create()
    update = devrel.accept(Actor(user_id=LENA), request_id, 1, now=MEETING - timedelta(minutes=30))
    assert update.request.remind_at is None


def test_concurrent_reminder_claims_send_once() -> None:
    request_id = create()
    devrel.accept(Actor(user_id=LENA), request_id, 1, now=NOW)
    at = MEETING - timedelta(minutes=59)
    barrier = threading.Barrier(8)
    claims: list[bool] = []

    def claim() -> None:
        barrier.wait()
        claims.append(devrel.claim_reminder(request_id, now=at) is not None)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert claims.count(True) == 1


def test_every_transition_is_in_the_audit_log_too() -> None:
    request_id = create()
    devrel.decline(Actor(user_id=LENA), request_id, 1, "busy", policy=POLICY, now=NOW)
    devrel.accept(Actor(user_id=HANNAH), request_id, 2, now=NOW)
    with db.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "devrel_request",
                                                                  AuditEntry.entity_id == str(request_id))
                                  .order_by(AuditEntry.id)).all()
    assert actions == ["requested", "asked", "declined", "asked", "accepted"]
    assert [e[0] for e in events(request_id)] == [str(k) for k in (RequestEventKind.requested, RequestEventKind.asked,
                                                                   RequestEventKind.declined, RequestEventKind.asked,
                                                                   RequestEventKind.accepted)]


def test_concurrent_lookups_of_the_requester_timezone_do_not_collide() -> None:
    # The request form caches the requester's timezone while the submit may look it up again.
    from bot.services import people

    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def remember(n: int) -> None:
        barrier.wait()
        try:
            people.remember(SE, name=f"SE {n}", timezone="Europe/Berlin", now=NOW)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=remember, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    cached = people.cached(SE, now=NOW)
    assert cached is not None and cached.timezone == "Europe/Berlin"


def test_closing_an_engagement_leaves_a_meeting_already_started_and_cancels_the_later_one() -> None:
    from bot.services import engagements
    from models.enums import Outcome

    started = create()
    engagement_id = devrel.get_request(started).engagement.id
    later = devrel.create_request(REQUESTER, draft(engagement_id, meeting_start=MEETING + timedelta(days=1)),
                                  policy=POLICY, now=NOW).request.id
    for request_id in (started, later):
        asked = devrel.get_request(request_id)
        devrel.accept(Actor(user_id=asked.candidate_id or ""), request_id, asked.version, now=NOW)
    during = MEETING + timedelta(minutes=10)
    result = engagements.close(Actor(user_id=SELLER), engagement_id, Outcome.won, now=during)

    assert [u.request.id for u in result.devrel_cancelled] == [later]
    assert row(started).state == RequestState.accepted and row(later).state == RequestState.cancelled
    assert events(later)[-1] == (RequestEventKind.cancelled, SELLER, LENA)
