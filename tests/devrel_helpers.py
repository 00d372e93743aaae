"""Shared set-up for the DevRel tests: a small roster, engagements, and meeting times that fit it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import db
from bot.services import roster
from models import Engagement
from models.enums import Stage
from models.schemas.devrel import DevRelPolicy, RosterEntry
from tests.conftest import SE, SELLER

LENA = "U0DR1A2B3"     # observability, Berlin
MARCUS = "U0DR4C5D6"   # security, New York
HANNAH = "U0DRK3L4M"   # logging, London
WEI = "U0DRG1H2J"      # kubernetes + observability, Singapore
DIEGO = "U0DRN5P6Q"    # inactive

ROSTER = [
    RosterEntry(slack_id=LENA, name="Lena Hoffmann", topics=["observability", "apm", "opentelemetry"],
                timezone="Europe/Berlin", work_start="09:00", work_end="17:30", weekly_capacity=4),
    RosterEntry(slack_id=MARCUS, name="Marcus Reed", topics=["security", "siem", "compliance"],
                timezone="America/New_York", work_start="09:00", work_end="17:30", weekly_capacity=5),
    RosterEntry(slack_id=HANNAH, name="Hannah Okafor", topics=["logging", "migration"],
                timezone="Europe/London", work_start="09:00", work_end="17:30", weekly_capacity=4),
    RosterEntry(slack_id=WEI, name="Wei Jie Tan", topics=["kubernetes", "observability", "streaming"],
                timezone="Asia/Singapore", work_start="09:00", work_end="17:30", weekly_capacity=6),
    RosterEntry(slack_id=DIEGO, name="Diego Alvarez", topics=["security", "cloud", "observability"],
                timezone="America/Sao_Paulo", work_start="09:00", work_end="17:30", weekly_capacity=2, active=False),
]

# For a Wednesday meeting at 13:00 UTC the order is Lena (expert), Hannah, Marcus; Wei Jie is asleep.
ASKING_ORDER = [LENA, HANNAH, MARCUS]

NOW = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)          # a Monday
MEETING = datetime(2026, 10, 14, 13, 0, tzinfo=UTC)     # Wednesday 15:00 Berlin, 09:00 New York

POLICY = DevRelPolicy(lead_channel="C0DEVREL1", escalate_after=timedelta(hours=2))
NO_CHANNEL = DevRelPolicy(lead_channel=None, escalate_after=timedelta(hours=2))


def load_roster(entries: list[RosterEntry] | None = None) -> None:
    roster.import_roster(entries if entries is not None else ROSTER, now=NOW - timedelta(days=30))


def add_engagement(*, account: str = "Northbeam Logistics", owner: str = SE, seller: str = SELLER,
                   focus: str = "observability", stage: Stage = Stage.tech_qa, at: datetime = NOW - timedelta(days=5)) -> int:
    with db.transaction() as session:
        row = Engagement(
            account=account, opportunity=f"{account} - platform", owner_id=owner, seller_id=seller, focus=focus,
            business_challenge="Outages found by customers", technical_needs="Traces across 120 services",
            channel_id=None, opened_at=at, stage=stage, stage_entered_at=at, last_activity_at=at,
            closed_at=at if stage is Stage.closed else None, created_by=owner, created_at=at, updated_at=at,
        )
        session.add(row)
        session.flush()
        return row.id


def next_weekday_meeting(now: datetime, *, days_ahead: int = 2) -> datetime:
    """A weekday at least `days_ahead` days after `now`, at 15:00 in Berlin: inside the test roster's hours
    for Lena (Berlin), Hannah (London) and Marcus (New York), whatever daylight saving is doing."""
    day = (now + timedelta(days=days_ahead)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(15), tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def far_date(today: date) -> date:
    return today + timedelta(days=400)
