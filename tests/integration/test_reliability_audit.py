"""Every state change records who made it and when: asset curation, stage changes, DevRel request
transitions, roster edits, snoozes and ESAT answers. Each action below runs at its own minute by its own
person, and the audit log (and the domain's own history: stage changes, request events) must say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot import db
from bot.services import assets, devrel, engagements, esat, nudges, roster
from bot.services.actors import Actor
from models import AuditEntry, DevRelRequestEvent, StageChange
from models.enums import Outcome, Stage
from models.schemas.assets import AssetFields
from models.schemas.devrel import SYSTEM_ACTOR as SYSTEM, DevRelPolicy, RequestDraft, RosterEntry
from models.schemas.engagements import NewEngagementIn
from tests.conftest import ADMIN, MANAGER, SE, SELLER
from tests.devrel_helpers import ASKING_ORDER, HANNAH, LENA, MARCUS, MEETING, WEI, add_engagement, load_roster

START = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
POLICY = DevRelPolicy(lead_channel="C0DEVREL1", escalate_after=timedelta(hours=2))
ADMIN_ACTOR = Actor(user_id=ADMIN, admin=True)


class Clock:
    """A distinct minute for every action, so each audit row can be told apart by its time."""

    def __init__(self) -> None:
        self.minutes = 0

    def next(self) -> datetime:
        self.minutes += 1
        return START + timedelta(minutes=self.minutes)


def audit_rows(entity: str, entity_id: object) -> list[tuple[str, str, datetime]]:
    with db.reading() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
                               .order_by(AuditEntry.id))
        return [(row.action, row.actor_id, row.at) for row in rows]


def fields(**changes: Any) -> AssetFields:
    values: dict[str, Any] = {"title": "Tracing a slow checkout", "type": "demo", "summary": "One slow request",
                              "url": "https://assets.example.com/demos/slow-checkout", "topics": "tracing",
                              "products": "APM", "owner_id": SE}
    values.update(changes)
    return AssetFields.model_validate(values)


def test_asset_curation_records_who_and_when(database_url: str) -> None:
    clock = Clock()
    expected = []
    at = clock.next()
    saved = assets.create(fields(), Actor(user_id=SE), admins_configured=True, now=at)
    expected.append(("created", SE, at))
    asset_id = saved.card.id
    for action, actor, run in (
        ("updated", SE, lambda now: assets.update(asset_id, fields(summary="Two slow requests"), Actor(user_id=SE), admins_configured=True, now=now)),
        ("published", ADMIN, lambda now: assets.publish(asset_id, ADMIN_ACTOR, now=now)),
        ("archived", SE, lambda now: assets.archive(asset_id, Actor(user_id=SE), now=now)),
        ("restored", ADMIN, lambda now: assets.restore(asset_id, ADMIN_ACTOR, admins_configured=True, now=now)),
        ("updated", ADMIN, lambda now: assets.update(asset_id, fields(title="Tracing one slow checkout"), ADMIN_ACTOR, admins_configured=True, now=now)),
    ):
        at = clock.next()
        run(at)
        expected.append((action, actor, at))
    assert audit_rows("asset", asset_id) == expected


def test_engagement_changes_record_who_and_when(database_url: str) -> None:
    clock = Clock()
    at = clock.next()
    created = engagements.create(Actor(user_id=SE), NewEngagementIn(
        account="Northbeam Logistics", opportunity="Fleet observability", seller_id=SELLER, focus="observability",
        stage=Stage.preparation), now=at)
    engagement_id = created.engagement.id
    expected = [("open", SE, at)]
    manager = Actor(user_id=MANAGER, manager=True)
    steps = [
        ("stage", SE, lambda now: engagements.change_stage(Actor(user_id=SE), engagement_id, Stage.discovery, now=now)),
        ("stage", SELLER, lambda now: engagements.change_stage(Actor(user_id=SELLER), engagement_id, Stage.demo, now=now)),
        ("note", SE, lambda now: engagements.add_note(Actor(user_id=SE), engagement_id, "Demo went well", now=now)),
        ("close", MANAGER, lambda now: engagements.close(manager, engagement_id, Outcome.won, now=now)),
    ]
    results = []
    for action, actor, run in steps:
        at = clock.next()
        results.append(run(at))
        expected.append((action, actor, at))
    at = clock.next()
    engagements.undo(Actor(user_id=SE), results[-1].change_id, now=at)
    expected.append(("undo", SE, at))
    at = clock.next()
    engagements.close(Actor(user_id=SE), engagement_id, Outcome.lost, now=at)
    expected.append(("close", SE, at))
    at = clock.next()
    engagements.reopen(Actor(user_id=SE), engagement_id, now=at)
    expected.append(("undo", SE, at))  # a reopen takes the close back
    at = clock.next()
    nudges.snooze(Actor(user_id=SE), engagement_id, now=at)
    expected.append(("snoozed", SE, at))
    at = clock.next()
    nudges.undo_snooze(Actor(user_id=SELLER), engagement_id, now=at)
    expected.append(("unsnoozed", SELLER, at))
    assert audit_rows("engagement", engagement_id) == expected

    # The stage history itself names who and when for every change too.
    with db.reading() as session:
        changes = session.execute(select(StageChange.to_stage, StageChange.actor_id, StageChange.logged_at)
                                  .where(StageChange.engagement_id == engagement_id).order_by(StageChange.id)).all()
    stage_steps = [(a, who, when) for a, who, when in expected if a in ("open", "stage", "close", "undo")]
    assert [(who, when) for _, who, when in changes] == [(who, when) for _, who, when in stage_steps]


def test_an_esat_answer_records_who_and_when(database_url: str) -> None:
    clock = Clock()
    created = engagements.create(Actor(user_id=SE), NewEngagementIn(
        account="Bluefin Bank", opportunity="SOC", seller_id=SELLER, focus="security", stage=Stage.poc), now=clock.next())
    result = engagements.close(Actor(user_id=SE), created.engagement.id, Outcome.won, now=clock.next())
    assert result.esat_survey_id is not None
    at = clock.next()
    esat.answer(SE, result.esat_survey_id, 4, now=at)
    assert audit_rows("esat", result.esat_survey_id) == [("answer", SE, at)]


def request_events(request_id: int) -> list[tuple[str, str, str | None, datetime]]:
    with db.reading() as session:
        rows = session.scalars(select(DevRelRequestEvent).where(DevRelRequestEvent.request_id == request_id)
                               .order_by(DevRelRequestEvent.id))
        return [(row.kind, row.actor_id, row.subject_id, row.at) for row in rows]


def new_request(clock: Clock) -> tuple[int, datetime]:
    engagement_id = add_engagement(at=START - timedelta(days=5))
    at = clock.next()
    update = devrel.create_request(Actor(user_id=SE), RequestDraft(
        engagement_id=engagement_id, meeting_start=MEETING, duration_minutes=60, topics=["observability"],
        meeting_link="https://meet.example.com/abc", customer_asked="?", promised="", held_in_reserve=""),
        policy=POLICY, now=at)
    return update.request.id, at


def test_devrel_request_transitions_record_who_and_when(database_url: str) -> None:
    load_roster()
    clock = Clock()
    # Requested and asked; declined (the next person is asked); nobody else answers, so it escalates
    # to the lead channel, where Wei Jie takes it (assigned).
    first, at = new_request(clock)
    # epos itself asks, and escalates when no one answers; a person's own action names that person.
    assert request_events(first) == [("requested", SE, None, at), ("asked", SYSTEM, LENA, at)]
    at = clock.next()
    update = devrel.decline(Actor(user_id=LENA), first, 1, "On leave", policy=POLICY, now=at)
    assert request_events(first)[2:] == [("declined", LENA, LENA, at), ("asked", SYSTEM, ASKING_ORDER[1], at)]
    while update.request.state.value == "asking":
        at = clock.next()
        asked = update.request.candidate_id
        escalated = devrel.escalate(first, update.request.version, policy=POLICY, now=at, due_only=False)
        assert escalated is not None
        update = escalated
        assert ("escalated", SYSTEM, asked, at) in [(k, w, s, t) for k, w, s, t in request_events(first)]
    assert update.request.state.value == "in_channel"
    at = clock.next()
    devrel.take(Actor(user_id=WEI), first, update.request.version, now=at)
    assert request_events(first)[-1] == ("assigned", WEI, WEI, at)

    # Accepted, then cancelled by the requester.
    second, _ = new_request(clock)
    at = clock.next()
    devrel.accept(Actor(user_id=LENA), second, 1, now=at)
    assert request_events(second)[-1] == ("accepted", LENA, LENA, at)
    at = clock.next()
    devrel.cancel(Actor(user_id=SE), second, now=at)
    assert request_events(second)[-1][:2] == ("cancelled", SE) and request_events(second)[-1][3] == at

    # Expired: the meeting began with nobody assigned.
    third, _ = new_request(clock)
    at = MEETING + timedelta(minutes=1)
    assert devrel.expire(third, 1, now=at) is not None
    assert request_events(third)[-1][0] == "expired" and request_events(third)[-1][3] == at

    kinds = {kind for request_id in (first, second, third) for kind, *_ in request_events(request_id)}
    assert kinds >= {"requested", "asked", "accepted", "declined", "escalated", "assigned", "cancelled", "expired"}
    # Every event is in the audit log too, with the same person and time, and always names someone.
    for request_id in (first, second, third):
        events = request_events(request_id)
        assert all(who for _, who, _, _ in events)
        assert [(kind, who, when) for kind, who, _, when in events] == audit_rows("devrel_request", request_id)


def test_roster_edits_record_who_and_when(database_url: str) -> None:
    clock = Clock()
    admin = Actor(user_id=ADMIN, admin=True)
    entry = RosterEntry(slack_id=MARCUS, name="Marcus Reed", topics=["security"], timezone="America/New_York",
                        work_start="09:00", work_end="17:30", weekly_capacity=5)
    expected = []
    at = clock.next()
    roster.save_member(admin, entry, adding=True, now=at)
    expected.append(("added", ADMIN, at))
    at = clock.next()
    roster.save_member(admin, entry.model_copy(update={"weekly_capacity": 3}), adding=False, now=at)
    expected.append(("updated", ADMIN, at))
    at = clock.next()
    roster.set_active(admin, MARCUS, False, now=at)
    expected.append(("deactivated", ADMIN, at))
    at = clock.next()
    roster.set_active(admin, MARCUS, True, now=at)
    expected.append(("reactivated", ADMIN, at))
    at = clock.next()
    roster.import_roster([entry.model_copy(update={"name": "Marcus J. Reed"}),
                          RosterEntry(slack_id=HANNAH, name="Hannah Okafor", topics=["logging"], timezone="Europe/London",
                                      work_start="09:00", work_end="17:30", weekly_capacity=4)],
                         actor_id="cli", now=at)
    expected.append(("updated", "cli", at))
    assert audit_rows("devrel_person", MARCUS) == expected
    assert audit_rows("devrel_person", HANNAH) == [("added", "cli", at)]
