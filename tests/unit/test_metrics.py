"""MTTC, dwell, conversion, open counts and ESAT against a fixture computed by hand.

The fixture (all times UTC; window [2026-09-01, 2026-10-01)):

A (owner SE)   opened 09-01 00:00 preparation → discovery 09-03 00:00
               → demo, logged 09-10 but effective 09-08 00:00 (backdated)
               → closed won 09-15 12:00.                          MTTC 14.5 d. ESAT 4.
B (owner SE)   opened 09-02 preparation → discovery 09-04 → demo 09-06 → discovery 09-07 (backward)
               → poc 09-17 → closed lost 09-22.                     MTTC 20 d.  ESAT 2.
C (OTHER)      opened 09-05 in discovery → closed no_decision 09-25. MTTC 20 d.  ESAT unanswered.
D (owner SE)   opened 09-10 preparation → discovery 09-12 → demo 09-13 00:00, undone 09-13 01:00.
               Still open (discovery).
E (owner SE)   opened 08-01 → closed won 08-20: outside the window.  ESAT 5 (not counted).
F (owner SE)   opened 09-20 preparation → poc 10-05 (after the window). Open in preparation at `until`.

MTTC, all: 14.5, 20, 20 → mean 18.1667, median 20. Won 14.5; lost 20; no decision 20. Win rate 1/3.
Dwell (completed stints that ended in the window, effective dates):
  preparation: A 2, B 2, D 2                → median 2
  discovery:   A 5 (09-03→09-08, backdated; 7 if the logged date were used), B 2, B 10, C 20 → median 7.5
  demo:        A 7.5 (09-08→09-15 12:00), B 1 → median 4.25 (D's undone 1-hour stint is ignored)
  poc:         B 5                           → median 5
Conversion (entered in the window → later a later stage, or closed won, before `until`):
  preparation 3/4 (F moves only after `until`); discovery 2/4 (C closed no decision; D's move was
  undone); demo 2/2 (A won, B reached poc); poc 0/1 (B lost).
Open at `until`: preparation 1 (F), discovery 1 (D).
ESAT of engagements closed in the window: 4 and 2 → mean 3.0, count 2.
Owner SE alone: closed won 1, lost 1; MTTC 14.5 and 20 → mean = median 17.25; discovery dwell 5, 2, 10 → 5.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import db
from bot.services import engagements, esat, metrics
from models import EsatSurvey
from models.enums import Outcome, Stage
from tests.conftest import SE
from tests.engagements_helpers import SE_ACTOR, close, move, open_engagement, utc

OTHER = "U0OTHER01"
SINCE, UNTIL = utc("2026-09-01"), utc("2026-10-01")


def rate(engagement_id: int, score: int) -> None:
    with db.reading() as session:
        survey_id, owner_id = session.execute(
            select(EsatSurvey.id, EsatSurvey.owner_id).where(EsatSurvey.engagement_id == engagement_id)
        ).one()
    esat.answer(owner_id, survey_id, score, now=utc("2026-09-28"))


@pytest.fixture
def fixture(database_url: str) -> dict[str, int]:
    a = open_engagement("Alpha", "2026-09-01")
    move(a, Stage.discovery, "2026-09-03")
    move(a, Stage.demo, "2026-09-08", logged="2026-09-10")
    close(a, Outcome.won, "2026-09-15 12:00")
    rate(a, 4)

    b = open_engagement("Bravo", "2026-09-02")
    move(b, Stage.discovery, "2026-09-04")
    move(b, Stage.demo, "2026-09-06")
    move(b, Stage.discovery, "2026-09-07")
    move(b, Stage.poc, "2026-09-17")
    close(b, Outcome.lost, "2026-09-22")
    rate(b, 2)

    c = open_engagement("Charlie", "2026-09-05", owner=OTHER, stage=Stage.discovery)
    close(c, Outcome.no_decision, "2026-09-25", actor=SE_ACTOR.model_copy(update={"user_id": OTHER}))

    d = open_engagement("Delta", "2026-09-10")
    move(d, Stage.discovery, "2026-09-12")
    slip = move(d, Stage.demo, "2026-09-13")
    engagements.undo(SE_ACTOR, slip.change_id, now=utc("2026-09-13 01:00"))

    e = open_engagement("Echo", "2026-08-01")
    close(e, Outcome.won, "2026-08-20")
    rate(e, 5)

    f = open_engagement("Foxtrot", "2026-09-20")
    move(f, Stage.poc, "2026-10-05")
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def test_team_figures_match_the_hand_computation(fixture: dict[str, int]) -> None:
    figures = metrics.team_metrics(SINCE, UNTIL)

    assert figures.closed == {"won": 1, "lost": 1, "no_decision": 1}
    assert figures.win_rate == pytest.approx(1 / 3)
    assert figures.mttc_days.count == 3
    assert figures.mttc_days.mean == pytest.approx(54.5 / 3)
    assert figures.mttc_days.median == pytest.approx(20.0)
    assert figures.mttc_by_outcome["won"].mean == pytest.approx(14.5)
    assert figures.mttc_by_outcome["won"].median == pytest.approx(14.5)
    assert figures.mttc_by_outcome["lost"].median == pytest.approx(20.0)
    assert figures.mttc_by_outcome["no_decision"].count == 1
    assert figures.stage_dwell_days_median == pytest.approx(
        {"preparation": 2.0, "discovery": 7.5, "demo": 4.25, "poc": 5.0, "tech_qa": None, "sizing": None}
    )
    assert figures.stage_conversion == pytest.approx(
        {"preparation": 0.75, "discovery": 0.5, "demo": 1.0, "poc": 0.0, "tech_qa": None, "sizing": None}
    )
    assert figures.open_by_stage == {"preparation": 1, "discovery": 1, "demo": 0, "poc": 0, "tech_qa": 0, "sizing": 0}
    assert (figures.esat.mean, figures.esat.count) == (pytest.approx(3.0), 2)
    assert figures.slowest_stage == "discovery"


def test_one_owner_sees_only_their_engagements(fixture: dict[str, int]) -> None:
    figures = metrics.team_metrics(SINCE, UNTIL, owner_id=SE)

    assert figures.closed == {"won": 1, "lost": 1, "no_decision": 0}
    assert figures.mttc_days.mean == pytest.approx(17.25)
    assert figures.mttc_days.median == pytest.approx(17.25)
    assert figures.stage_dwell_days_median["discovery"] == pytest.approx(5.0)
    assert figures.win_rate == pytest.approx(0.5)


def test_an_empty_window_has_no_figures_rather_than_zeros(fixture: dict[str, int]) -> None:
    figures = metrics.team_metrics(utc("2025-01-01"), utc("2025-02-01"))

    assert figures.closed == {"won": 0, "lost": 0, "no_decision": 0}
    assert figures.win_rate is None
    assert (figures.mttc_days.mean, figures.mttc_days.median, figures.mttc_days.count) == (None, None, 0)
    assert set(figures.stage_dwell_days_median.values()) == {None}
    assert figures.esat.mean is None
    assert sum(figures.open_by_stage.values()) == 0


def test_open_counts_follow_the_log_at_any_moment(fixture: dict[str, int]) -> None:
    """On 09-14 A was in demo (backdated entry 09-08), B in discovery, C in discovery, D in discovery."""
    figures = metrics.team_metrics(utc("2026-09-01"), utc("2026-09-14"))

    assert figures.open_by_stage == {"preparation": 0, "discovery": 3, "demo": 1, "poc": 0, "tech_qa": 0, "sizing": 0}


def test_an_even_number_of_values_has_the_mean_of_the_middle_two_as_median(database_url: str) -> None:
    for account, days in (("One", 1), ("Two", 2), ("Three", 4), ("Four", 10)):
        engagement_id = open_engagement(account, "2026-09-01")
        close(engagement_id, Outcome.won, f"2026-09-{1 + days:02d}")

    figures = metrics.team_metrics(SINCE, UNTIL)

    assert figures.mttc_days.median == pytest.approx(3.0)
    assert figures.mttc_days.mean == pytest.approx(4.25)


def test_mttc_trend_buckets_closes_by_local_iso_week(fixture: dict[str, int]) -> None:
    """Weeks (Europe/Berlin) starting Mon 08-31, 09-07, 09-14, 09-21; A closed 09-15 (14.5 d),
    B 09-22 and C 09-25 (20 d each). Until Mon 09-28 00:00 Berlin, the last week is 09-21."""
    berlin = ZoneInfo("Europe/Berlin")
    trend = metrics.mttc_trend(4, until=utc("2026-09-27 22:00"), tz=berlin)

    assert [week for week, _ in trend] == [date(2026, 8, 31), date(2026, 9, 7), date(2026, 9, 14), date(2026, 9, 21)]
    assert [figures.count for _, figures in trend] == [0, 0, 1, 2]
    assert trend[2][1].mean == pytest.approx(14.5)
    assert trend[3][1].median == pytest.approx(20.0)
    assert trend[0][1].mean is None


def test_a_window_that_ends_before_it_starts_is_refused(database_url: str) -> None:
    with pytest.raises(ValueError):
        metrics.team_metrics(UNTIL, SINCE)


def test_an_engagement_back_in_a_stage_counts_once_for_its_conversion(fixture: dict[str, int]) -> None:
    """From 09-05: B entered discovery before (09-04) and again in the window (09-07, then poc 09-17): one
    engagement in, one converted. C entered on 09-05 and closed without a decision; D's demo was undone."""
    figures = metrics.team_metrics(utc("2026-09-05"), UNTIL)

    assert figures.stage_conversion == pytest.approx(
        {"preparation": 0.5, "discovery": 1 / 3, "demo": 1.0, "poc": 0.0, "tech_qa": None, "sizing": None}
    )
