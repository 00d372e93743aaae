"""The digest's figures against a fixture computed by hand (week 2026-W47, Europe/Berlin, UTC+1)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.errors import InvalidInput
from bot.services import digest
from tests.conftest import SE
from tests.engagements_helpers import open_engagement
from tests.scheduler_helpers import SE2, hand_computed_week, utc

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9_BERLIN = utc("2026-11-23 08:00")


@pytest.fixture
def fixture_deals(database_url: str) -> None:
    hand_computed_week()


def test_the_week_figures_match_the_hand_computed_fixture(fixture_deals: None) -> None:
    result = digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN)
    figures = result.figures()

    assert figures["week"] == "2026-W47"
    assert figures["since"] == "2026-11-16T00:00:00+01:00" and figures["until"] == "2026-11-23T00:00:00+01:00"
    assert figures["closed"] == {"won": 1, "lost": 1, "no_decision": 1}
    assert figures["win_rate"] == 0.3333  # rounded to four places, as in `epos stats --json`
    assert figures["mttc_days"]["mean"] == 33.3333
    assert figures["mttc_days"]["median"] == pytest.approx(32)
    assert figures["mttc_days"]["count"] == 3
    assert figures["mttc_days_trailing_4w"] == {"mean": pytest.approx(41.25), "median": pytest.approx(40), "count": 4}
    assert figures["mttc_days_trailing_12w"] == {"mean": pytest.approx(42), "median": pytest.approx(45), "count": 5}

    assert figures["open_by_stage"] == {"preparation": 0, "discovery": 2, "demo": 0, "poc": 1, "tech_qa": 0, "sizing": 0}
    # Stints that ended in the week: preparation 20 (Cobalt) and 7 (Harbor), discovery 25 (Bluefin), POC 29 (Northbeam).
    assert figures["stage_dwell_days_median"] == {
        "preparation": pytest.approx(13.5), "discovery": pytest.approx(25), "demo": None, "poc": pytest.approx(29),
        "tech_qa": None, "sizing": None,
    }
    assert figures["slowest_stage"] == "poc"

    assert [(s["account"], s["owner"], s["stage"], s["days"]) for s in figures["stale"]] == [
        ("Granite", SE, "poc", 33),
        ("Ironwood", SE2, "discovery", 21),
    ]
    assert figures["stale_total"] == 2
    assert figures["esat"] == {"mean": pytest.approx(4.0), "count": 2}
    assert figures["devrel"] == {"requests": 3, "accepted": 2, "accept_rate": pytest.approx(2 / 3, abs=1e-4),
                                 "median_minutes_to_accept": pytest.approx(40), "unanswered": 1}
    assert [(a["title"], a["shares"]) for a in figures["top_assets"]] == [("Kubernetes demo", 3), ("SIEM walkthrough", 1)]
    assert figures["searches_without_results"] == [{"query": "Kafka sizing", "count": 2}, {"query": "SAP", "count": 1}]


def test_the_trend_has_twelve_weeks_ending_with_the_digest_week(fixture_deals: None) -> None:
    result = digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN)
    assert len(result.trend) == 12
    assert result.trend[0].week_start == date(2026, 8, 31) and result.trend[-1].week_start == date(2026, 11, 16)
    by_week = {point.week_start: point for point in result.trend}
    assert by_week[date(2026, 11, 16)].count == 3
    assert by_week[date(2026, 11, 2)].mean == pytest.approx(65)
    assert by_week[date(2026, 9, 14)].mean == pytest.approx(45)
    assert sum(point.count for point in result.trend) == 5


def test_each_se_gets_their_own_line(fixture_deals: None) -> None:
    owners = {o.owner_id: o for o in digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN).owners}
    assert set(owners) == {SE, SE2}
    mine = owners[SE]
    assert (mine.open, mine.closed.won, mine.closed.lost, mine.closed.no_decision, mine.stale) == (1, 1, 0, 1, 1)
    assert mine.mttc_days.mean == pytest.approx(34) and mine.win_rate == pytest.approx(0.5)
    theirs = owners[SE2]
    assert (theirs.open, theirs.closed.lost, theirs.stale) == (2, 1, 1)
    assert theirs.mttc_days.mean == pytest.approx(32)


def test_an_empty_week_reads_as_nothing_rather_than_failing(database_url: str) -> None:
    result = digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN)
    assert result.closed.total == 0 and result.win_rate is None
    assert result.mttc_days.mean is None and result.mttc_days.count == 0
    assert result.stale == [] and result.owners == [] and result.slowest_stage is None
    assert result.devrel.requests == 0 and result.devrel.accept_rate is None


def test_a_week_that_has_not_started_is_refused(database_url: str) -> None:
    with pytest.raises(InvalidInput, match="2026-W49 has not started yet"):
        digest.compute("2026-W49", tz=BERLIN, now=MONDAY_9_BERLIN)


def test_the_digest_lists_the_ten_most_overdue_and_counts_every_stale_engagement(database_url: str) -> None:
    # Twelve engagements idle in preparation (stale after 7 days), opened a day apart: the oldest is most overdue.
    for index in range(12):
        open_engagement(f"Idle {index:02d}", f"2026-10-{index + 1:02d}", owner=SE if index % 3 else SE2)

    result = digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN)

    assert [line.account for line in result.stale] == [f"Idle {index:02d}" for index in range(10)]
    assert result.stale_total == 12
    assert {owner.owner_id: owner.stale for owner in result.owners} == {SE: 8, SE2: 4}
