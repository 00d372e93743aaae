"""The digest's pilot section and its monthly interactions, on the hand-computed week 2026-W47
(tests/scheduler_helpers.py, Europe/Berlin).

Pilot "Q3" from 2026-09-01 with SE. Pilot group, SE's engagements opened since then: Northbeam (won,
48 d), Cobalt (no decision, 20 d), Granite (open) → median 34. Everyone else (SE2): Dunmore (won, 65 d),
Bluefin (lost, 32 d), Harbor and Ironwood (open) → median 48.5. Difference −14.5; two closes each: too few.
"""

from __future__ import annotations

import struct
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.digest import digest_message
from bot.charts import digest_chart
from bot.services import digest, pilots
from tests.conftest import SE
from tests.engagements_helpers import MANAGER_ACTOR
from tests.scheduler_helpers import hand_computed_week, utc

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9_BERLIN = utc("2026-11-23 08:00")


@pytest.fixture
def week_with_a_pilot(database_url: str) -> None:
    hand_computed_week()
    pilots.create(MANAGER_ACTOR, "Q3", date(2026, 9, 1), [SE], now=utc("2026-09-01"))


def png_width(png: bytes) -> int:
    return struct.unpack(">I", png[16:20])[0]


def test_the_digest_compares_the_running_pilot_with_everyone_else(week_with_a_pilot: None) -> None:
    result = digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN)

    assert result.pilot is not None
    assert result.pilot.pilot_group.engagements == 3 and result.pilot.baseline_group.engagements == 4
    assert result.figures()["pilot"] == {"name": "Q3", "verdict": "too few closes", "mttc_days_median": {
        "pilot": 34.0, "baseline": 48.5, "difference": {"value": -14.5, "ci95": list(result.pilot.mttc_days_median.ci95)}}}
    text = str([b.to_dict() for b in digest_message(result, lambda user_id: user_id)[0]])
    assert "*Q3*: median time to close 34.0 d (2 closes) against 48.5 d for everyone else" in text
    assert "*too few closes* to tell yet" in text
    # The chart's points: the last holds the four weeks before the week's end (from 26 Oct): the same closes.
    last = result.pilot_trend[-1]
    assert (last.at, last.pilot.median, last.baseline.median) == (date(2026, 11, 22), 34.0, 48.5)
    assert len(result.pilot_trend) == 12


def test_the_chart_gains_the_pilot_panel_only_while_a_pilot_runs(week_with_a_pilot: None) -> None:
    result = digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN)
    plain = digest_chart(result.trend, result.stage_dwell_days_median, title="t")
    with_pilot = digest_chart(result.trend, result.stage_dwell_days_median, title="t", pilot_trend=result.pilot_trend,
                              pilot_name="Q3")

    assert png_width(with_pilot) > png_width(plain)


def test_no_pilot_section_without_a_running_pilot(week_with_a_pilot: None) -> None:
    pilots.end(MANAGER_ACTOR, "Q3", date(2026, 11, 1))

    result = digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN)

    assert result.pilot is None and "pilot" not in result.figures()
    assert "Pilot" not in str([b.to_dict() for b in digest_message(result, lambda user_id: user_id)[0]])


def test_interactions_are_in_the_first_digest_of_each_month_only(week_with_a_pilot: None) -> None:
    # 2026-W45 starts on Monday 2 November; 2026-W47 on the 16th.
    first_of_november = digest.compute("2026-W45", tz=BERLIN, now=MONDAY_9_BERLIN)
    later = digest.compute("2026-W47", tz=BERLIN, now=MONDAY_9_BERLIN)

    assert later.interactions is None and "interactions" not in later.figures()
    assert first_of_november.interactions is not None
    assert set(first_of_november.figures()["interactions"]) == {"0", "1", "2+"}
    text = str([b.to_dict() for b in digest_message(first_of_november, lambda user_id: user_id)[0]])
    assert "Interactions per engagement" in text
    # The stage checklists' figures come with them, monthly too.
    assert later.deliverables is None and "deliverables" not in later.figures()
    assert first_of_november.figures()["deliverables"]["min_count"] == 5 and "Stage checklists" in text
