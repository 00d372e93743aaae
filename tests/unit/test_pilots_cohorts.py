"""Pilot against baseline, against a fixture computed by hand (times UTC, EPOS_TIMEZONE UTC).

Pilot "Q3 guided path" from 2026-09-01, still running at `now` 2026-10-01 00:00. Members: SE from the
start; LATE added on 09-10.

Pilot group (owned by a member, opened while they were one):
  P1  SE    opened 09-02 preparation → discovery 09-04 → closed won 09-12.   MTTC 10. ESAT 4.
  P2  SE    opened 09-03 preparation → closed lost 09-23.                    MTTC 20. ESAT 2.
  P3  SE    opened 09-05, still open.
  P4  LATE  opened 09-12 in discovery → closed won 09-16.                    MTTC 4.
  P5  SE    opened 09-04 → closed won 09-10, reopened 09-11 → closed lost 09-20: counts by its latest
            close, lost, MTTC 16.
  Engagements 5; closed won 2, lost 2; MTTC 10, 20, 4, 16 → mean 12.5, median 13; win rate 0.5.
  Dwell: preparation P1 2, P2 20, P5 16 (the close that was taken back leaves no stint) → median 16;
         discovery P1 8, P4 4 → median 6. ESAT 4 and 2 → 3.0 from 2.
Left out of both groups:
  X   SE    opened 08-25 (before the start) → closed won 09-05 (MTTC 11): in the "before" baseline only.
  Y   LATE  opened 09-05, before LATE joined → closed won 09-15.
Concurrent baseline (OTHER, never a member):
  B1  opened 09-01 → closed won 09-21 (20);  B2 opened 09-06 in discovery → closed no decision 09-16 (10);
  B3  opened 09-08, still open;  B4 opened 08-20 → closed lost 09-02: opened before the start, left out.
  Engagements 3; won 1, no decision 1; MTTC 20, 10 → mean = median 15; win rate 0.5.
Difference: MTTC median 13 − 15 = −2; win rate 0. Two closes in the baseline: too few closes.
Before baseline: 30 days before the start, [08-02, 09-01), members' own: X alone (won, 11 d).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import db
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.services import cohorts, engagements, pilots, proof
from models import AuditEntry
from models.enums import Outcome, Stage
from tests.conftest import SE
from tests.engagements_helpers import MANAGER_ACTOR, SE_ACTOR, SELLER_ACTOR, close, move, open_engagement, utc
from tests.unit.test_metrics import rate

LATE = "U0LATE001"
OTHER = "U0OTHER01"
UTC_ZONE = ZoneInfo("UTC")
NOW = utc("2026-10-01")
NAME = "Q3 guided path"


def _as(user_id: str):  # noqa: ANN202 - an Actor
    return SE_ACTOR.model_copy(update={"user_id": user_id})


@pytest.fixture
def fixture(database_url: str) -> dict[str, int]:
    pilots.create(MANAGER_ACTOR, NAME, date(2026, 9, 1), [SE], now=utc("2026-09-01"))
    pilots.add_members(MANAGER_ACTOR, NAME, [LATE], on=date(2026, 9, 10), now=utc("2026-09-10"))
    ids = {}
    ids["p1"] = open_engagement("P1", "2026-09-02")
    move(ids["p1"], Stage.discovery, "2026-09-04")
    close(ids["p1"], Outcome.won, "2026-09-12")
    rate(ids["p1"], 4)
    ids["p2"] = open_engagement("P2", "2026-09-03")
    close(ids["p2"], Outcome.lost, "2026-09-23")
    rate(ids["p2"], 2)
    ids["p3"] = open_engagement("P3", "2026-09-05")
    ids["p4"] = open_engagement("P4", "2026-09-12", owner=LATE, stage=Stage.discovery)
    close(ids["p4"], Outcome.won, "2026-09-16", actor=_as(LATE))
    ids["p5"] = open_engagement("P5", "2026-09-04")
    close(ids["p5"], Outcome.won, "2026-09-10")
    engagements.reopen(SE_ACTOR, ids["p5"], now=utc("2026-09-11"))
    close(ids["p5"], Outcome.lost, "2026-09-20")
    ids["x"] = open_engagement("X", "2026-08-25")
    close(ids["x"], Outcome.won, "2026-09-05")
    ids["y"] = open_engagement("Y", "2026-09-05", owner=LATE)
    close(ids["y"], Outcome.won, "2026-09-15", actor=_as(LATE))
    ids["b1"] = open_engagement("B1", "2026-09-01", owner=OTHER)
    close(ids["b1"], Outcome.won, "2026-09-21", actor=_as(OTHER))
    ids["b2"] = open_engagement("B2", "2026-09-06", owner=OTHER, stage=Stage.discovery)
    close(ids["b2"], Outcome.no_decision, "2026-09-16", actor=_as(OTHER))
    ids["b3"] = open_engagement("B3", "2026-09-08", owner=OTHER)
    ids["b4"] = open_engagement("B4", "2026-08-20", owner=OTHER)
    close(ids["b4"], Outcome.lost, "2026-09-02", actor=_as(OTHER))
    return ids


def test_the_groups_match_the_hand_computation(fixture: dict[str, int]) -> None:
    comparison = cohorts.compare(NAME, tz=UTC_ZONE, now=NOW)
    pilot, baseline = comparison.pilot_group, comparison.baseline_group

    assert pilot.engagements == 5
    assert pilot.closed == {"won": 2, "lost": 2, "no_decision": 0}
    assert (pilot.mttc_days.mean, pilot.mttc_days.median) == (pytest.approx(12.5), pytest.approx(13.0))
    assert pilot.win_rate == pytest.approx(0.5)
    assert pilot.stage_dwell_days_median == pytest.approx(
        {"preparation": 16.0, "discovery": 6.0, "demo": None, "poc": None, "tech_qa": None, "sizing": None})
    assert (pilot.esat.mean, pilot.esat.count) == (pytest.approx(3.0), 2)

    assert baseline.engagements == 3
    assert baseline.closed == {"won": 1, "lost": 0, "no_decision": 1}
    assert (baseline.mttc_days.mean, baseline.mttc_days.median) == (pytest.approx(15.0), pytest.approx(15.0))
    assert baseline.win_rate == pytest.approx(0.5)
    assert baseline.esat.count == 0

    assert comparison.mttc_days_median.value == pytest.approx(-2.0)
    assert comparison.win_rate.value == pytest.approx(0.0)
    assert comparison.verdict == proof.TOO_FEW_CLOSES


def test_the_before_baseline_is_the_members_own_engagements_just_before_the_start(fixture: dict[str, int]) -> None:
    comparison = cohorts.compare(NAME, baseline="before", tz=UTC_ZONE, now=NOW)

    assert comparison.baseline_kind == "before"
    assert comparison.baseline_group.engagements == 1
    assert comparison.baseline_group.closed == {"won": 1, "lost": 0, "no_decision": 0}
    assert comparison.baseline_group.mttc_days.median == pytest.approx(11.0)
    assert comparison.pilot_group.engagements == 5


def test_an_ended_pilot_counts_engagements_opened_up_to_its_last_day(fixture: dict[str, int]) -> None:
    pilots.end(MANAGER_ACTOR, NAME, date(2026, 9, 4), now=NOW)

    comparison = cohorts.compare(NAME, tz=UTC_ZONE, now=NOW)

    # P1 (09-02), P2 (09-03) and P5 (opened 09-04, the last day) are in; P3 and P4 opened later.
    assert comparison.pilot_group.engagements == 3
    assert comparison.baseline_group.engagements == 1  # B1 alone opened 09-01 – 09-04


def test_a_removed_member_stops_counting_from_the_day_of_removal(fixture: dict[str, int]) -> None:
    pilots.remove_members(MANAGER_ACTOR, NAME, [SE], on=date(2026, 9, 4), now=NOW)

    comparison = cohorts.compare(NAME, tz=UTC_ZONE, now=NOW)

    # SE's P1 and P2 (before 09-04) and LATE's P4 remain; P5 and P3 opened after SE left.
    assert comparison.pilot_group.engagements == 3
    assert comparison.pilot.current_members == [LATE]


def test_every_change_is_audited_and_bad_input_names_the_field(database_url: str) -> None:
    pilots.create(MANAGER_ACTOR, NAME, date(2026, 9, 1), [SE, f"<@{LATE}>"], now=NOW)
    pilots.remove_members(MANAGER_ACTOR, NAME, [LATE], on=date(2026, 9, 5), now=NOW)
    pilots.end(MANAGER_ACTOR, NAME, date(2026, 9, 30), now=NOW)

    with db.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "pilot").order_by(AuditEntry.id)).all()
    assert actions == ["create", "remove", "end"]

    with pytest.raises(InvalidInput, match="^members: 'bob' is not a Slack user id"):
        pilots.create(MANAGER_ACTOR, "Other", date(2026, 9, 1), ["bob"])
    with pytest.raises(InvalidInput, match="^name: "):
        pilots.create(MANAGER_ACTOR, "", date(2026, 9, 1), [SE])
    with pytest.raises(Conflict, match="^name: a pilot called 'Q3 guided path' already exists"):
        pilots.create(MANAGER_ACTOR, NAME, date(2026, 9, 1), [SE])
    with pytest.raises(InvalidInput, match="^end: 2026-08-01 is before the pilot started"):
        pilots.end(MANAGER_ACTOR, NAME, date(2026, 8, 1))
    with pytest.raises(NotFound, match="^name: there is no pilot called 'Q4'"):
        pilots.get("Q4")
    with pytest.raises(Forbidden):
        pilots.create(SELLER_ACTOR, "Mine", date(2026, 9, 1), [SE])
    with pytest.raises(InvalidInput, match="^members: name at least one SE to remove, like U0123ABCD$"):
        pilots.remove_members(MANAGER_ACTOR, NAME, [], on=date(2026, 9, 5))
    with pytest.raises(InvalidInput, match=f"^members: {LATE}, {OTHER} are not in the pilot 'Q3 guided path'; "):
        pilots.remove_members(MANAGER_ACTOR, NAME, [LATE, OTHER], on=date(2026, 9, 5))
    assert [pilot.name for pilot in pilots.list_pilots()] == [NAME]


# ----- the bootstrap and the verdict -----------------------------------------------------------------------
def _closes(days: list[float], won_every: int = 2) -> list[tuple[float, bool]]:
    return [(d, i % won_every == 0) for i, d in enumerate(days)]


def test_the_interval_is_the_same_for_the_same_data_and_holds_the_point_estimate() -> None:
    pilot, baseline = _closes([12, 9, 20, 15, 7, 30, 11]), _closes([18, 25, 14, 40, 22, 16], won_every=3)

    first = proof.compare(pilot, baseline)
    again = proof.compare(list(pilot), list(baseline))

    assert first == again
    mttc, win_rate = first
    assert mttc.value == pytest.approx(12 - 20)
    assert mttc.ci95[0] <= mttc.value <= mttc.ci95[1]
    assert win_rate.ci95[0] <= win_rate.value <= win_rate.ci95[1]
    assert mttc.ci95[0] < mttc.ci95[1]


@pytest.mark.parametrize(("pilot", "baseline", "verdict"), [
    ([5, 6, 7, 8, 9, 10], [30, 32, 35, 40, 41, 45], proof.FASTER),
    ([30, 32, 35, 40, 41, 45], [5, 6, 7, 8, 9, 10], proof.SLOWER),
    ([5, 30, 12, 40, 8, 25], [6, 28, 14, 38, 9, 27], proof.NO_CLEAR_DIFFERENCE),
    ([5, 6, 7, 8], [30, 32, 35, 40, 41, 45], proof.TOO_FEW_CLOSES),
])
def test_each_verdict(pilot: list[float], baseline: list[float], verdict: str) -> None:
    mttc, _ = proof.compare(_closes(pilot), _closes(baseline))

    assert proof.verdict(len(pilot), len(baseline), mttc) == verdict


def test_the_trailing_mttc_of_both_groups(fixture: dict[str, int]) -> None:
    ends, pilot, baseline = cohorts.trailing_mttc(NAME, weeks=2, trailing=timedelta(weeks=2), tz=UTC_ZONE, now=NOW)

    assert ends == [NOW - timedelta(weeks=1), NOW]
    # Closed 09-10 – 09-24: P1 10, P2 20, P4 4, P5 16 → median 13; B1 20, B2 10 → 15.
    assert (pilot[0].count, pilot[0].median) == (4, pytest.approx(13.0))
    # Closed 09-17 – 10-01: P2 20, P5 16 → 18; B1 20 → 20.
    assert (pilot[1].median, baseline[1].median) == (pytest.approx(18.0), pytest.approx(20.0))
    assert baseline[0].median == pytest.approx(15.0)
