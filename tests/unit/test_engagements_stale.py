"""Stale engagements: idle past their stage's playbook threshold, most overdue first, in one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from bot import db
from bot.services import engagements
from models.enums import Outcome, Stage
from tests.engagements_helpers import SE_ACTOR, close, move, open_engagement, utc

OTHER = "U0OTHER01"


def test_stale_after_comes_from_the_playbooks() -> None:
    assert engagements.stale_after(Stage.preparation) == timedelta(days=7)
    assert engagements.stale_after(Stage.poc) == timedelta(days=21)


def test_idle_engagements_past_their_stage_threshold_are_stale_most_overdue_first(database_url: str) -> None:
    now = utc("2026-10-31")
    prep = open_engagement("Prep Idle", "2026-10-20")           # 11 days idle, threshold 7 → 4 over
    poc = open_engagement("Poc Fresh", "2026-10-01")
    move(poc, Stage.poc, "2026-10-15")                         # 16 days idle, threshold 21 → not stale
    disco = open_engagement("Disco Idle", "2026-10-01")
    move(disco, Stage.discovery, "2026-10-02")                 # 29 days idle, threshold 10 → 19 over
    noted = open_engagement("Noted", "2026-10-01")
    engagements.add_note(SE_ACTOR, noted, "customer is on holiday", now=utc("2026-10-30"))  # a note is activity
    done = open_engagement("Closed Long Ago", "2026-09-01")
    close(done, Outcome.lost, "2026-09-02")
    other = open_engagement("Other Owner", "2026-10-10", owner=OTHER)  # 21 days idle in preparation → 14 over

    stale = engagements.stale_engagements(now)

    assert [s.account for s in stale] == ["Disco Idle", "Other Owner", "Prep Idle"]
    first = stale[0]
    assert (first.id, first.stage, first.days_idle, first.stale_after_days) == (disco, Stage.discovery, 29, 10)
    assert first.snoozed_until is None and first.last_nudged_at is None
    assert [s.id for s in engagements.stale_engagements(now, owner_id=OTHER)] == [other]
    assert [s.id for s in engagements.stale_engagements(now, limit=1)] == [disco]
    assert prep in [s.id for s in stale]


def test_exactly_at_the_threshold_is_not_yet_stale(database_url: str) -> None:
    open_engagement("Edge", "2026-10-01")
    assert engagements.stale_engagements(utc("2026-10-08")) == []
    assert len(engagements.stale_engagements(utc("2026-10-08") + timedelta(seconds=1))) == 1


def test_stale_engagements_is_a_single_query(database_url: str) -> None:
    for index in range(5):
        open_engagement(f"Account {index}", "2026-09-01")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine(), "before_cursor_execute", count)
    try:
        assert len(engagements.stale_engagements(utc("2026-11-01"))) == 5
    finally:
        event.remove(db.engine(), "before_cursor_execute", count)
    assert len(statements) == 1


@pytest.mark.parametrize("stage", [Stage.preparation, Stage.sizing])
def test_a_stage_change_resets_the_idle_clock(database_url: str, stage: Stage) -> None:
    engagement_id = open_engagement("Moving", "2026-10-01")
    if stage is not Stage.preparation:
        move(engagement_id, stage, "2026-10-20")
    stale_ids = [s.id for s in engagements.stale_engagements(utc("2026-10-25"))]
    assert (engagement_id in stale_ids) is (stage is Stage.preparation)
