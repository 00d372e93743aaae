"""The minute tick's selection of SEs to nudge: cheap questions first, the same answer as the full rules.

`nudges.sendable` asks the database which SEs have a line their DM would list; it must agree with
`stale_by_owner` (snoozes, cooldown in each SE's timezone, stale by nudge time) on random engagements,
whether SEs share a nudge time or not and across daylight-saving changes, and `due_nudges` must pick
exactly the SEs whose nudge is due, not sent today and not empty.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.jobs import nudges as nudge_job
from bot.services import claims, engagements, nudges
from models.enums import OPEN_STAGES
from tests.scheduler_helpers import add_engagement, utc

ZONES = {"U0TICK001": ZoneInfo("Europe/Berlin"), "U0TICK002": ZoneInfo("America/New_York"),
         "U0TICK003": ZoneInfo("Asia/Tokyo"), "U0TICK004": ZoneInfo("UTC")}
# More SEs in each zone, so that some share a nudge time and are asked about in one query, and enough
# of them that many have a single engagement, whose every rule then decides whether they are nudged.
ZONES |= {f"U0TICK{number:03d}": ZONES[f"U0TICK00{(number - 1) % 4 + 1}"] for number in range(5, 25)}
SES = tuple(ZONES)
# Monday 23 Nov 2026, 10:00 UTC: past 09:00 in Berlin and London, evening in Tokyo, night in New York.
NOW = utc("2026-11-23 10:00")
# Monday 9 Nov 2026, 15:00 UTC: within three weeks of Berlin's (25 Oct) and New York's (1 Nov) change of
# clocks, so a stage's threshold counted back from the nudge time crosses it.
AFTER_DST = utc("2026-11-09 15:00")
# How far back from `now` the nudge times in these tests are.
HOURS_BACK = (0, 1, 5, 30)


def zone_for(user_id: str) -> ZoneInfo:
    return ZONES[user_id]


def random_engagements(seed: int, count: int = 40, now: datetime = NOW) -> None:
    """Random open engagements, half of them on the edge of a rule: stale exactly at a nudge time or an
    hour either side (what a change of clocks shifts), nudged around a local midnight, snoozed until about now."""
    rng = random.Random(seed)
    minute = timedelta(minutes=1)
    for number in range(count):
        owner = rng.choice(SES)
        stage = rng.choice(OPEN_STAGES)
        if rng.random() < 0.5:
            idle = engagements.stale_after(stage) + timedelta(
                hours=rng.choice(HOURS_BACK) + rng.choice((-1, 0, 1)), minutes=rng.choice((0, 30)))
        else:
            idle = timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23), minutes=rng.choice((0, 30)))
        snoozed = None
        if rng.random() < 0.25:
            snoozed = now + rng.choice((timedelta(0), minute, -minute, timedelta(hours=rng.randint(-48, 96))))
        nudged = None
        if rng.random() < 0.4:
            tz = zone_for(owner)
            midnight = datetime.combine(nudges.local_day(now, tz) - timedelta(days=rng.randint(0, 5)), time(0),
                                        tzinfo=tz)
            nudged = min(now, midnight + rng.choice((timedelta(0), minute, -minute,
                                                     timedelta(hours=rng.randint(1, 23)))))
        add_engagement(f"Tick {seed}-{number}", owner, [(stage.value, (now - idle).strftime("%Y-%m-%d %H:%M"))],
                       snoozed_until=snoozed, last_nudged_at=nudged)


def expected_sendable(now: datetime, due: dict[str, tuple[datetime, ZoneInfo]], cooldown_days: int) -> set[str]:
    """The SEs whose DM, as `stale_by_owner` and the send would write it, lists anything."""
    lines = {nudge.owner_id: nudge.lines
             for nudge in nudges.stale_by_owner(now, cooldown_days=cooldown_days, zone_for=zone_for)}
    return {se for se, (due_at, _) in due.items() if any(line.stale_since <= due_at for line in lines.get(se, []))}


@pytest.mark.parametrize(("seed", "count", "now"),
                         [(1, 60, NOW), (2, 60, AFTER_DST), (3, 30, NOW), (4, 30, AFTER_DST), (5, 30, NOW),
                          (6, 30, AFTER_DST)])
def test_the_database_question_agrees_with_the_full_rules(database_url: str, seed: int, count: int,
                                                          now: datetime) -> None:
    random_engagements(seed, count, now)
    rng = random.Random(seed)

    for cooldown_days in (1, 3, 5):
        for _ in range(8):
            # Each SE's nudge time in their own zone, as the tick has it: SEs in one zone often share one,
            # and Berlin's and London's may fall on the same instant with different local days' midnights.
            due = {se: ((now - timedelta(hours=rng.choice(HOURS_BACK))).astimezone(tz), tz)
                   for se, tz in ZONES.items() if rng.random() < 0.8}
            assert nudges.sendable(due, now=now, cooldown_days=cooldown_days) == \
                expected_sendable(now, due, cooldown_days), (cooldown_days, due)


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


def test_stale_by_the_nudge_time_counts_whole_days_across_a_change_of_clocks(database_url: str) -> None:
    settings = Settings(nudge_time="09:00", nudge_cooldown_days=3)
    # Discovery allows 10 days: last touched 30 Oct 13:30 UTC (09:30 EDT), stale from 9 Nov 13:30 UTC, half
    # an hour before New York's nudge at 09:00 EST (14:00 UTC), as its DM would show. Ten days counted on
    # New York's clock from the nudge time (30 Oct 09:00 EDT, 13:00 UTC) would leave it out all day.
    add_engagement("Across the clocks", "U0TICK002", [("discovery", "2026-10-30 13:30")])

    assert [se for se, _, _ in nudge_job.due_nudges(settings, utc("2026-11-09 14:05"), zone_for)] == ["U0TICK002"]
