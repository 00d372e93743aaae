"""Who is nudged and when: grouping per SE, snooze, cooldown, weekdays in each SE's timezone."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import select

from bot import db
from bot.blocks import nudges as nudge_blocks
from bot.blocks.text import MESSAGE_BLOCKS
from bot.codecs import NudgeButton
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.ids import EngagementIds, NudgeIds
from bot.services import nudges
from bot.services.actors import Actor
from models import AuditEntry
from models.schemas.nudges import SeNudge
from tests.conftest import MANAGER, SE, SELLER, STRANGER
from tests.scheduler_helpers import SE2, add_engagement, engagement, utc

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NINE = time(9, 0)
# Monday 23 Nov 2026, 09:00 in Berlin.
MONDAY = utc("2026-11-23 08:00")


def berlin(_: str) -> ZoneInfo:
    return BERLIN


@pytest.fixture
def stale_deals(database_url: str) -> dict[str, int]:
    return {
        # POC limit 21 days: idle 33 days, stale since 10 Nov.
        "granite": add_engagement("Granite", SE, [("poc", "2026-10-20 10:00")]),
        # Discovery limit 10 days: idle 21 days, stale since 11 Nov.
        "ironwood": add_engagement("Ironwood", SE, [("discovery", "2026-11-01 10:00")]),
        # Fresh: idle 3 days.
        "harbor": add_engagement("Harbor", SE, [("discovery", "2026-11-20 10:00")]),
        "juniper": add_engagement("Juniper", SE2, [("sizing", "2026-10-01 10:00")]),
        "closed": add_engagement("Kestrel", SE, [("poc", "2026-08-01 10:00")], closed=("lost", "2026-09-01 10:00")),
    }


def test_stale_engagements_are_grouped_per_se_most_overdue_first(stale_deals: dict[str, int]) -> None:
    grouped = nudges.stale_by_owner(MONDAY, cooldown_days=3, zone_for=berlin)
    assert [n.owner_id for n in grouped] == [SE, SE2]
    mine = grouped[0]
    assert [line.account for line in mine.lines] == ["Granite", "Ironwood"]
    assert [(line.days_idle, line.stale_after_days, line.days_over) for line in mine.lines] == [(33, 21, 12), (21, 10, 11)]
    assert mine.lines[0].stale_since == utc("2026-11-10 10:00")
    assert mine.quiet == []


def test_a_snoozed_engagement_stays_quiet_until_its_snooze_ends(stale_deals: dict[str, int]) -> None:
    nudges.snooze(Actor(user_id=SE), stale_deals["granite"], now=MONDAY)
    [mine] = nudges.stale_by_owner(MONDAY + timedelta(days=6), cooldown_days=3, zone_for=berlin, owner_id=SE)
    assert [line.account for line in mine.lines] == ["Ironwood"]
    assert [(q.line.account, q.reason, q.until) for q in mine.quiet] == [("Granite", "snoozed", MONDAY + timedelta(days=7))]
    [later] = nudges.stale_by_owner(MONDAY + timedelta(days=7), cooldown_days=3, zone_for=berlin, owner_id=SE)
    assert [line.account for line in later.lines] == ["Granite", "Ironwood"]


def test_a_nudged_engagement_waits_out_its_cooldown_in_calendar_days(stale_deals: dict[str, int]) -> None:
    assert nudges.claims.claim(nudges.JOB, nudges.period(SE, MONDAY.date()), owner="me", now=MONDAY)
    assert nudges.record_sent(SE, MONDAY.date(), [stale_deals["granite"]], claimant="me", now=MONDAY)
    assert engagement(stale_deals["granite"]).last_nudged_at == MONDAY
    for days_later, quiet in ((1, True), (2, True), (3, False)):
        # 08:00 UTC is 09:00 in Berlin: exactly the nudge time, a whole number of days later.
        [mine] = nudges.stale_by_owner(MONDAY + timedelta(days=days_later), cooldown_days=3, zone_for=berlin, owner_id=SE)
        assert ("Granite" not in [line.account for line in mine.lines]) is quiet, days_later
    [tuesday] = nudges.stale_by_owner(MONDAY + timedelta(days=1), cooldown_days=3, zone_for=berlin, owner_id=SE)
    assert [(q.reason, q.until) for q in tuesday.quiet] == [("cooldown", utc("2026-11-25 23:00"))]


@pytest.mark.parametrize(
    ("utc_time", "tz", "state"),
    [
        ("2026-11-23 07:59", BERLIN, "later"),  # Monday 08:59 in Berlin
        ("2026-11-23 08:00", BERLIN, "due"),
        ("2026-11-23 16:59", BERLIN, "due"),  # 17:59
        ("2026-11-23 17:00", BERLIN, "missed"),  # 18:00: too late today
        ("2026-11-23 08:00", NEW_YORK, "later"),  # 03:00 in New York
        ("2026-11-23 14:00", NEW_YORK, "due"),  # 09:00 in New York
        ("2026-11-28 08:00", BERLIN, "weekend"),  # Saturday
        ("2026-11-23 02:00", NEW_YORK, "weekend"),  # Monday in UTC, still Sunday 21:00 in New York
    ],
)
def test_nudges_are_due_from_nine_until_six_on_weekdays_in_the_ses_timezone(utc_time: str, tz: ZoneInfo, state: str) -> None:
    assert nudges.day_state(utc(utc_time), tz, NINE)[0] == state


def test_next_due_skips_the_weekend() -> None:
    friday_evening = utc("2026-11-27 19:00")
    assert nudges.next_due(friday_evening, BERLIN, NINE) == utc("2026-11-30 08:00")
    assert nudges.next_due(utc("2026-11-23 07:00"), BERLIN, NINE) == utc("2026-11-23 08:00")


# ----- snooze rights -------------------------------------------------------------------------------
@pytest.mark.parametrize("who", [Actor(user_id=SE), Actor(user_id=SELLER), Actor(user_id=MANAGER, manager=True)])
def test_the_owner_seller_or_a_manager_may_snooze_and_it_is_audited(stale_deals: dict[str, int], who: Actor) -> None:
    result = nudges.snooze(who, stale_deals["granite"], now=MONDAY)
    assert result.snoozed_until == MONDAY + timedelta(days=7)
    assert engagement(stale_deals["granite"]).snoozed_until == MONDAY + timedelta(days=7)
    with db.reading() as session:
        entries = [(e.actor_id, e.entity_id, e.detail["until"])
                   for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "snoozed"))]
    assert entries == [(who.user_id, str(stale_deals["granite"]), "2026-11-30T08:00:00+00:00")]


def test_anyone_else_is_refused_and_nothing_changes(stale_deals: dict[str, int]) -> None:
    with pytest.raises(Forbidden, match="Only the owner"):
        nudges.snooze(Actor(user_id=STRANGER), stale_deals["granite"], now=MONDAY)
    with pytest.raises(Forbidden):
        nudges.undo_snooze(Actor(user_id=STRANGER), stale_deals["granite"], now=MONDAY)
    assert engagement(stale_deals["granite"]).snoozed_until is None


def test_undo_takes_the_snooze_back(stale_deals: dict[str, int]) -> None:
    nudges.snooze(Actor(user_id=SE), stale_deals["granite"], now=MONDAY)
    result = nudges.undo_snooze(Actor(user_id=SE), stale_deals["granite"], now=MONDAY + timedelta(minutes=1))
    assert result.snoozed_until is None and engagement(stale_deals["granite"]).snoozed_until is None
    [mine] = nudges.stale_by_owner(MONDAY, cooldown_days=3, zone_for=berlin, owner_id=SE)
    assert "Granite" in [line.account for line in mine.lines]


def test_a_closed_or_missing_engagement_cannot_be_snoozed(stale_deals: dict[str, int]) -> None:
    with pytest.raises(Conflict, match="already closed"):
        nudges.snooze(Actor(user_id=SE), stale_deals["closed"], now=MONDAY)
    with pytest.raises(NotFound):
        nudges.snooze(Actor(user_id=SE), 999_999, now=MONDAY)
    with pytest.raises(InvalidInput):
        NudgeButton.decode("abc")


# ----- the DM ----------------------------------------------------------------------------------------
def test_the_dm_lists_each_engagement_with_its_four_buttons(stale_deals: dict[str, int]) -> None:
    [mine, _] = nudges.stale_by_owner(MONDAY, cooldown_days=3, zone_for=berlin)
    rendered, fallback = nudge_blocks.nudge_message(mine, BERLIN, cooldown_days=3)
    data = [b.to_dict() for b in rendered]
    for block in Block.parse_all(data):
        block.validate_json()
    assert data[0]["text"]["text"] == "2 of your engagements have gone quiet"
    assert data[2] == {
        "type": "section", "block_id": f"nudge_line:{stale_deals['granite']}",
        "text": {"type": "mrkdwn", "text": "*Granite* (Granite opportunity)\nPOC · idle *33 days* (limit 21) · "
                                           "last activity Tue 20 Oct"},
    }
    actions = data[3]
    assert actions["block_id"] == f"nudge_line_actions:{stale_deals['granite']}"
    assert [(e["text"]["text"], e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("Update stage", EngagementIds.change_stage, str(stale_deals["granite"])),
        ("Add note", EngagementIds.add_note, str(stale_deals["granite"])),
        ("Snooze 7 days", NudgeIds.snooze, str(stale_deals["granite"])),
        ("Close", EngagementIds.close, str(stale_deals["granite"])),
    ]
    assert fallback == "2 stale engagements need an update: Granite, Ironwood"


def test_a_long_list_fits_one_message_and_points_to_the_rest(database_url: str) -> None:
    for i in range(60):
        add_engagement(f"<!here> Account {i} " + "z" * 150, SE, [("poc", "2026-09-01 10:00")])
    [mine] = nudges.stale_by_owner(MONDAY, cooldown_days=3, zone_for=berlin)
    assert len(mine.lines) == 60
    rendered, _ = nudge_blocks.nudge_message(mine, BERLIN, cooldown_days=3)
    data = [b.to_dict() for b in rendered]
    assert len(data) <= MESSAGE_BLOCKS
    assert "…and 37 more stale engagements" in str(data[-2]) and "/engagement list" in str(data[-2])
    assert "<!here>" not in str(data) and "&lt;!here&gt;" in str(data)


def test_one_line_is_redrawn_in_place(stale_deals: dict[str, int]) -> None:
    [mine, _] = nudges.stale_by_owner(MONDAY, cooldown_days=3, zone_for=berlin)
    message = [b.to_dict() for b in nudge_blocks.nudge_message(mine, BERLIN, cooldown_days=3)[0]]
    result = nudges.snooze(Actor(user_id=SE), stale_deals["ironwood"], now=MONDAY)
    redrawn = nudge_blocks.replace_line(message, stale_deals["ironwood"], nudge_blocks.snoozed_blocks(result, BERLIN))
    assert redrawn is not None and len(redrawn) == len(message)
    assert redrawn[:4] == message[:4] and redrawn[6:] == message[6:]
    assert "Snoozed until Mon 30 Nov" in redrawn[4]["text"]["text"]
    assert [e["action_id"] for e in redrawn[5]["elements"]] == [NudgeIds.undo_snooze]
    assert nudge_blocks.replace_line(message, 424242, nudge_blocks.snoozed_blocks(result, BERLIN)) is None


def test_an_se_with_only_quiet_engagements_has_no_lines(stale_deals: dict[str, int]) -> None:
    nudges.snooze(Actor(user_id=SE2), stale_deals["juniper"], now=MONDAY)
    grouped = {n.owner_id: n for n in nudges.stale_by_owner(MONDAY, cooldown_days=3, zone_for=berlin)}
    assert grouped[SE2] == SeNudge(owner_id=SE2, lines=[], quiet=grouped[SE2].quiet)
    assert grouped[SE2].lines == []
