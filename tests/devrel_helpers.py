"""Shared set-up for the DevRel tests: a small roster, engagements, and meeting times that fit it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import db
from bot.ids import DevRelIds
from bot.services import roster
from models import DevRelRequest, Engagement
from models.enums import Stage
from models.schemas.devrel import DevRelPolicy, RosterEntry
from tests.conftest import SE, SELLER
from tests.support.slack import Message, MockSlack
from tests.support.wire import SlackWire, input_value, select_value

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


# ----- over the wire -----------------------------------------------------------------------------

def date_value(day: date) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": day.isoformat()}


def time_value(text: str) -> dict[str, Any]:
    return {"type": "timepicker", "selected_time": text}


def request_values(engagement_id: int | None, meeting: datetime, *, zone: str = "Europe/Berlin", link: str = "https://meet.example.com/abc",
                   topics: str = "observability", duration: str = "60") -> dict[str, dict[str, dict[str, Any]]]:
    """The request form as Slack submits it; the meeting is given in the requester's timezone."""
    local = meeting.astimezone(ZoneInfo(zone))
    return {
        DevRelIds.engagement_block: {DevRelIds.engagement_select: select_value(None if engagement_id is None else str(engagement_id))},
        DevRelIds.date_block: {DevRelIds.date_picker: date_value(local.date())},
        DevRelIds.time_block: {DevRelIds.time_picker: time_value(f"{local:%H:%M}")},
        DevRelIds.duration_block: {DevRelIds.duration_select: select_value(duration)},
        DevRelIds.topics_block: {DevRelIds.topics_input: input_value(topics)},
        DevRelIds.link_block: {DevRelIds.link_input: input_value(link)},
        DevRelIds.asked_block: {DevRelIds.asked_input: input_value("Can traces follow a request across Kafka?")},
        DevRelIds.promised_block: {DevRelIds.promised_input: input_value("A sizing estimate by Friday")},
        DevRelIds.reserve_block: {DevRelIds.reserve_input: input_value("A free extension of the PoC")},
    }


def dms_to(slack: MockSlack, user_id: str) -> list[Message]:
    with slack._lock:
        return list(slack.messages.get(user_id, []))


def button_values(params: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in params.get("blocks") or []:
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and element.get("type") == "button":
                found[element["action_id"]] = element.get("value", "")
    return found


def open_request_form(wire: SlackWire, slack: MockSlack, text: str = "northbeam", user_id: str = SE) -> dict[str, Any]:
    before = len(slack.calls_to("views.open"))
    assert wire.command("/devrel", text, user_id=user_id).status == 200
    return slack.wait_for("views.open", count=before + 1)[-1].params["view"]


def submit_request(wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: datetime, *,
                   first_asked: str = LENA) -> int:
    """Ask for DevRel through the form as the SE; the new request's id, once `first_asked` has the ask."""
    asks_before = len(dms_to(slack, first_asked))
    view = open_request_form(wire, slack)
    response = wire.view_submission(view, request_values(engagement_id, meeting), user_id=SE)
    assert response.status == 200 and not response.body
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == first_asked, count=asks_before + 1)
    with db.reading() as session:
        newest = session.scalar(select(DevRelRequest.id).order_by(DevRelRequest.id.desc()).limit(1))
    assert newest is not None
    return int(newest)


