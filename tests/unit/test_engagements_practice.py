"""Practice engagements: opened from the App Home, marked wherever they show, counted in no figure, digest,
nudge or export, and deleted in one click by their owner."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import db
from bot.blocks import engagements as blocks
from bot.blocks import home as home_blocks
from bot.errors import Conflict, Forbidden, InvalidInput
from bot.services import adoption, digest, engagements, metrics, nudges
from bot.services.actors import Actor
from models import AuditEntry, Engagement, StageChange, StageStint
from models.enums import Outcome, Stage
from tests.conftest import SE
from tests.engagements_helpers import ADMIN_ACTOR, MANAGER_ACTOR, SE_ACTOR, close, move, open_engagement, utc
from tests.support.text import all_text

NEW_HIRE = "U0NEWHIRE1"
NEW_HIRE_ACTOR = Actor(user_id=NEW_HIRE)
UTC = ZoneInfo("UTC")


def practice(when: str, who: Actor = NEW_HIRE_ACTOR) -> int:
    return engagements.start_practice(who, now=utc(when)).engagement.id


def walk(engagement_id: int, actor: Actor, *, won: bool = True) -> None:
    """Through discovery and demo to a close in September."""
    move(engagement_id, Stage.discovery, "2026-09-03", actor=actor)
    move(engagement_id, Stage.demo, "2026-09-08", actor=actor)
    close(engagement_id, Outcome.won if won else Outcome.lost, "2026-09-15", actor=actor)


def every_figure() -> tuple:
    since, until = utc("2026-08-01"), utc("2026-10-01")
    cohort = Engagement.opened_at >= utc("2026-08-01")
    return (
        metrics.team_metrics(since, until),
        metrics.team_metrics(since, utc("2026-09-10")),  # open by stage, midway
        metrics.team_metrics(since, until, owner_id=NEW_HIRE),
        metrics.owner_totals(since, until),
        metrics.owner_totals(since, utc("2026-09-10")),
        metrics.mttc(since, until),
        metrics.mttc_trend(8, until=until, tz=UTC),
        metrics.interaction_figures(since, until),
        metrics.cohort_metrics(cohort),
        metrics.cohort_mttc_trend(cohort, [until], timedelta(weeks=8)),
        adoption.report(since, until, managers=[]),
    )


def test_practice_engagements_count_in_no_figure(database_url: str) -> None:
    real = open_engagement("Northbeam Logistics", "2026-09-01")
    walk(real, SE_ACTOR)
    second = open_engagement("Bluefin Bank", "2026-09-02")
    move(second, Stage.discovery, "2026-09-04")
    before = every_figure()

    won = practice("2026-09-01")
    walk(won, NEW_HIRE_ACTOR)
    engagements.delete_practice(NEW_HIRE_ACTOR, won)
    lost = practice("2026-09-01")
    walk(lost, NEW_HIRE_ACTOR, won=False)
    still_open = practice("2026-09-02", who=SE_ACTOR)
    move(still_open, Stage.discovery, "2026-09-04", actor=SE_ACTOR)

    assert every_figure() == before
    assert before[0].closed[Outcome.won.value] == 1 and before[1].open_by_stage[Stage.discovery.value] == 1
    figures, _ = engagements.figures(MANAGER_ACTOR, weeks=12, now=utc("2026-10-01"))
    assert figures.closed == before[0].closed and figures.open_by_stage == before[0].open_by_stage
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(StageStint)
                              .where(StageStint.engagement_id.in_([lost, still_open]))) == 0


def test_practice_engagements_never_reach_the_digest(database_url: str) -> None:
    real = open_engagement("Northbeam Logistics", "2026-09-01")
    close(real, Outcome.won, "2026-09-10")
    open_engagement("Bluefin Bank", "2026-08-01")  # stale by the week's end
    before = digest.compute("2026-W37", tz=UTC, now=utc("2026-09-16"))
    stale = practice("2026-08-01")
    closed = practice("2026-09-01", who=SE_ACTOR)
    close(closed, Outcome.won, "2026-09-10")

    after = digest.compute("2026-W37", tz=UTC, now=utc("2026-09-16"))

    assert after == before
    assert [line.account for line in after.stale] == ["Bluefin Bank"] and after.stale_total == 1
    assert NEW_HIRE not in [owner.owner_id for owner in after.owners]
    assert engagements.stale_counts(utc("2026-09-16")) == {SE: 1}
    assert stale not in [line.id for line in engagements.stale_engagements(utc("2026-09-16"))]


def test_practice_engagements_never_get_a_nudge(database_url: str) -> None:
    open_engagement("Bluefin Bank", "2026-08-01")
    practice("2026-08-01")
    practice("2026-08-01", who=SE_ACTOR)
    now = utc("2026-09-16 10:00")

    found = nudges.stale_by_owner(now, cooldown_days=3, zone_for=lambda _: UTC)

    assert [(nudge.owner_id, [line.account for line in nudge.lines]) for nudge in found] == [(SE, ["Bluefin Bank"])]
    assert engagements.stale_owners(now) == [SE]
    due = {NEW_HIRE: (utc("2026-09-16 09:00"), UTC)}
    assert nudges.sendable(due, now=now, cooldown_days=3) == set()


def test_practice_engagements_are_never_exported(database_url: str) -> None:
    open_engagement("Northbeam Logistics", "2026-09-01")
    practice("2026-09-01")

    assert [record["account"] for record in engagements.export_records()] == ["Northbeam Logistics"]


# ----- starting one, and how it shows -------------------------------------------------------------------
def test_starting_a_practice_engagement_opens_one_owned_and_sold_by_the_person(database_url: str) -> None:
    result = engagements.start_practice(NEW_HIRE_ACTOR, now=utc("2026-09-01"))

    item = result.engagement
    assert (item.account, item.owner_id, item.seller_id, item.channel_id, item.stage, item.practice) == (
        "Practice: Acme Robotics", NEW_HIRE, NEW_HIRE, None, Stage.preparation, True)
    with pytest.raises(Conflict) as refused:
        engagements.start_practice(NEW_HIRE_ACTOR, now=utc("2026-09-02"))
    assert str(refused.value) == (
        "You already have a practice engagement open: *Practice: Acme Robotics* (Fleet telemetry platform). Open it "
        "with `/engagement Practice: Acme Robotics`, or delete it from its card to start afresh.")
    # Another person practises on the same made-up customer at the same time.
    assert engagements.start_practice(SE_ACTOR, now=utc("2026-09-02")).engagement.practice


def test_a_practice_engagement_is_marked_on_its_card_the_lists_and_the_home(database_url: str) -> None:
    engagement_id = practice("2026-09-01")
    engagements.start_practice(SE_ACTOR, now=utc("2026-09-01"))
    open_engagement("Northbeam Logistics", "2026-09-01")

    card = engagements.card(engagement_id, viewer=NEW_HIRE_ACTOR, now=utc("2026-09-02"))
    text = all_text(blocks.card_message(card)["blocks"])
    assert "🎓 *A practice engagement.* Try every step on it: it counts in no figure, digest or nudge" in text
    labels = [b["text"]["text"] for b in _buttons(blocks.card_message(card)["blocks"])]
    assert labels == ["Change stage", "Add note", "Close", "Delete"]
    mine = all_text(blocks.list_message(engagements.list_engagements(NEW_HIRE_ACTOR, now=utc("2026-09-02")))["blocks"])
    assert "*Practice: Acme Robotics* (Fleet telemetry platform) · 🎓 practice" in mine
    home = engagements.home(NEW_HIRE_ACTOR, now=utc("2026-09-02"))
    assert "*Practice: Acme Robotics* (Fleet telemetry platform) · 🎓 practice" in all_text(
        home_blocks.home_view(home)["blocks"])
    # A manager's list of everyone's, and a typed account, show nobody else's practice.
    everyone = engagements.list_engagements(MANAGER_ACTOR, scope="all", now=utc("2026-09-02"))
    assert [item.account for item in everyone.items] == ["Northbeam Logistics"]
    match = engagements.match_account(NEW_HIRE_ACTOR, "Practice: Acme Robotics", now=utc("2026-09-02"))
    assert match.kind == "exact" and match.candidates[0].id == engagement_id
    picker = blocks.pick_for_card(match.model_copy(update={"kind": "ambiguous"}))
    assert "Practice: Acme Robotics · Fleet telemetry platform (Preparation) · practice" in all_text(picker["blocks"])


def test_a_practice_engagement_has_no_deal_channel_and_asks_no_rating(database_url: str) -> None:
    engagement_id = practice("2026-09-01")

    with pytest.raises(InvalidInput) as refused:
        engagements.set_channel(NEW_HIRE_ACTOR, engagement_id, "C0DEAL001")
    assert str(refused.value).startswith("A practice engagement has no deal channel")
    assert close(engagement_id, Outcome.won, "2026-09-05", actor=NEW_HIRE_ACTOR).esat_survey_id is None


# ----- deleting it ----------------------------------------------------------------------------------------
def test_the_owner_deletes_a_practice_engagement_with_its_rows_and_the_audit_log_says_so(database_url: str) -> None:
    engagement_id = practice("2026-09-01")
    move(engagement_id, Stage.discovery, "2026-09-02", actor=NEW_HIRE_ACTOR)

    gone = engagements.delete_practice(NEW_HIRE_ACTOR, engagement_id)

    assert gone.account == "Practice: Acme Robotics"
    assert blocks.practice_deleted_message(gone)["text"] == (
        "Deleted your practice engagement Practice: Acme Robotics (Fleet telemetry platform) · 🎓 practice: its "
        "stages, notes and DevRel requests are gone. Press Start a practice engagement on the epos Home to begin "
        "another.")
    with db.reading() as session:
        assert session.get(Engagement, engagement_id) is None
        assert session.scalar(select(func.count()).select_from(StageChange)
                              .where(StageChange.engagement_id == engagement_id)) == 0
        audited = session.execute(select(AuditEntry.actor_id, AuditEntry.entity, AuditEntry.action)
                                  .order_by(AuditEntry.id)).all()
    assert [tuple(row) for row in audited] == [(NEW_HIRE, "practice_engagement", "open"),
                                                (NEW_HIRE, "practice_engagement", "stage"),
                                                (NEW_HIRE, "practice_engagement", "delete")]


def test_only_the_owner_or_an_admin_deletes_and_never_a_real_engagement(database_url: str) -> None:
    engagement_id = practice("2026-09-01")
    real = open_engagement("Northbeam Logistics", "2026-09-01")

    with pytest.raises(Forbidden) as refused:
        engagements.delete_practice(MANAGER_ACTOR, engagement_id)
    assert str(refused.value) == ("Only <@U0NEWHIRE1>, who practises on *Practice: Acme Robotics* (Fleet telemetry "
                                  "platform), or an epos admin can delete it.")
    with pytest.raises(Conflict) as real_refused:
        engagements.delete_practice(ADMIN_ACTOR, real)
    assert str(real_refused.value) == ("*Northbeam Logistics* (Northbeam Logistics platform) is a real engagement: "
                                       "it stays in the figures and can't be deleted. To end it, close it from its card.")
    card = engagements.card(real, viewer=SE_ACTOR)
    assert "Delete" not in [b["text"]["text"] for b in _buttons(blocks.card_message(card)["blocks"])]
    engagements.delete_practice(ADMIN_ACTOR, engagement_id)


def _buttons(found: list) -> list[dict]:
    return [element for block in found if block.get("type") == "actions" for element in block["elements"]]
