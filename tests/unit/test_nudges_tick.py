"""The minute tick's selection of SEs to nudge: cheap questions first, the same answer as the full rules.

`nudges.sendable` asks the database whether an SE has a line their DM would list; it must agree with
`stale_by_owner` (snooze, cooldown in the SE's timezone, stale by nudge time) on random engagements,
and `due_nudges` must pick exactly the SEs whose nudge is due, not sent today and not empty.
"""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.jobs import nudges as nudge_job
from bot.services import claims, engagements, nudges
from models.enums import OPEN_STAGES
from tests.scheduler_helpers import add_engagement, utc

SES = ("U0TICK001", "U0TICK002", "U0TICK003", "U0TICK004")
ZONES = {"U0TICK001": ZoneInfo("Europe/Berlin"), "U0TICK002": ZoneInfo("America/New_York"),
         "U0TICK003": ZoneInfo("Asia/Tokyo"), "U0TICK004": ZoneInfo("UTC")}
# Monday 23 Nov 2026, 10:00 UTC: past 09:00 in Berlin and London, evening in Tokyo, night in New York.
NOW = utc("2026-11-23 10:00")


def zone_for(user_id: str) -> ZoneInfo:
    return ZONES[user_id]


def random_engagements(seed: int, count: int = 40) -> None:
    rng = random.Random(seed)
    for number in range(count):
        owner = rng.choice(SES)
        idle = timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
        last_activity = NOW - idle
        snoozed = NOW + timedelta(hours=rng.randint(-48, 96)) if rng.random() < 0.25 else None
        nudged = NOW - timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 23)) if rng.random() < 0.4 else None
        add_engagement(f"Tick {seed}-{number}", owner,
                       [(rng.choice(OPEN_STAGES).value, last_activity.strftime("%Y-%m-%d %H:%M"))],
                       snoozed_until=snoozed, last_nudged_at=nudged)


def expected_sendable(se: str, due_at, cooldown_days: int) -> bool:  # type: ignore[no-untyped-def]
    found = nudges.stale_by_owner(NOW, cooldown_days=cooldown_days, zone_for=zone_for, owner_id=se)
    return bool(found) and any(line.stale_since <= due_at for line in found[0].lines)


@pytest.mark.parametrize(("seed", "count"), [(1, 40), (2, 40), (3, 8), (4, 8), (5, 6), (6, 6)])
def test_the_database_question_agrees_with_the_full_rules(database_url: str, seed: int, count: int) -> None:
    random_engagements(seed, count)

    for se in SES:
        tz = zone_for(se)
        for cooldown_days in (1, 3, 5):
            for hours_before in (0, 1, 5, 30):
                due_at = NOW - timedelta(hours=hours_before)
                assert nudges.sendable(se, now=NOW, due_at=due_at, tz=tz, cooldown_days=cooldown_days) == \
                    expected_sendable(se, due_at, cooldown_days), (se, cooldown_days, hours_before)


def test_stale_owners_are_the_ses_with_anything_stale(database_url: str) -> None:
    random_engagements(7)

    owners = {stale.owner_id for stale in engagements.stale_engagements(NOW)}
    assert engagements.stale_owners(NOW) == sorted(owners)


def test_the_tick_picks_the_ses_whose_nudge_is_due_not_sent_and_not_empty(database_url: str) -> None:
    settings = Settings(nudge_time="09:00", nudge_cooldown_days=3)
    # Berlin (11:00 there) and UTC (10:00) are due; New York (05:00) is not yet; Tokyo (19:00) has missed it.
    add_engagement("Due Berlin", "U0TICK001", [("poc", "2026-10-01 10:00")])
    add_engagement("Due London", "U0TICK004", [("poc", "2026-10-01 10:00")])
    add_engagement("Early New York", "U0TICK002", [("poc", "2026-10-01 10:00")])
    add_engagement("Late Tokyo", "U0TICK003", [("poc", "2026-10-01 10:00")])

    due = nudge_job.due_nudges(settings, NOW, zone_for)
    assert [(se, day.isoformat()) for se, day, _ in due] == [("U0TICK001", "2026-11-23"), ("U0TICK004", "2026-11-23")]
    assert due[0][2] == utc("2026-11-23 08:00")

    # Once Berlin's DM is out, only London is left.
    claims.claim(nudges.JOB, nudges.period("U0TICK001", due[0][1]), owner="test", now=NOW)
    nudges.record_sent("U0TICK001", due[0][1], [], claimant="test", now=NOW)
    assert [se for se, _, _ in nudge_job.due_nudges(settings, NOW, zone_for)] == ["U0TICK004"]


def test_an_se_whose_lines_are_all_quiet_is_not_due(database_url: str) -> None:
    settings = Settings(nudge_time="09:00", nudge_cooldown_days=3)
    add_engagement("Snoozed", "U0TICK001", [("poc", "2026-10-01 10:00")], snoozed_until=NOW + timedelta(days=2))
    add_engagement("Cooling", "U0TICK001", [("poc", "2026-10-01 10:00")], last_nudged_at=NOW - timedelta(days=1))
    # Stale only since 10:00 today, after the 09:00 nudge time: it waits for tomorrow.
    add_engagement("Fresh", "U0TICK001", [("poc", (NOW - timedelta(days=21, minutes=30)).strftime("%Y-%m-%d %H:%M"))])

    assert nudge_job.due_nudges(settings, NOW, zone_for) == []
