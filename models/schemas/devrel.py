"""DTOs of the DevRel domain: roster entries, routing candidates, requests and what changed in them."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.enums import RequestEventKind, RequestState, Stage

SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
MAX_TOPICS = 20
MAX_TOPIC_LENGTH = 60
MAX_CAPACITY = 50
MEETING_DURATIONS = (30, 45, 60, 90, 120)
DEFAULT_DURATION = 60
OPEN_STATES = (RequestState.asking, RequestState.in_channel)
# The requester may call a request off in these states, until its meeting starts.
CANCELLABLE_STATES = (*OPEN_STATES, RequestState.accepted)
SYSTEM_ACTOR = "epos"
# The detail of the `cancelled` event written when a request is cancelled with its engagement's close.
CLOSED_WITH_ENGAGEMENT = "the engagement was closed"


def split_topics(value: object) -> list[str]:
    """Topics from a list, or from text separated by commas or semicolons; trimmed, de-duplicated."""
    if value is None:
        return []
    parts: list[str] = []
    if isinstance(value, str):
        parts = re.split(r"[;,\n]", value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            parts.extend(re.split(r"[;,\n]", str(item)))
    else:
        raise ValueError("give topics as a list or as text separated by commas")
    seen: set[str] = set()
    topics: list[str] = []
    for part in parts:
        topic = " ".join(part.split())
        if topic and topic.casefold() not in seen:
            seen.add(topic.casefold())
            topics.append(topic)
    return topics


def parse_hours(value: object) -> time:
    if isinstance(value, time):
        return value
    match = HOURS.match(str(value))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{value!r} is not a time like 09:00 (24-hour HH:MM)")
    return time(int(match.group(1)), int(match.group(2)))


def check_timezone(value: str) -> str:
    value = str(value).strip()
    try:
        if len(value) > 64 or value.count("/") > 2:  # ZoneInfo recurses once per "/" before it gives up
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: "America" is a folder of zones, and a very long name is too long for a file name.
        raise ValueError(f"{value[:60]!r} is not an IANA timezone like Europe/Berlin") from None
    return value


# ----- roster ------------------------------------------------------------------------------------


class RosterEntry(BaseModel):
    """One DevRel person as an admin or a roster file describes them."""

    model_config = ConfigDict(frozen=True)

    slack_id: str
    name: str = Field(min_length=1, max_length=100)
    topics: list[str] = Field(default_factory=list)
    timezone: str
    work_start: time
    work_end: time
    weekly_capacity: int = Field(ge=0, le=MAX_CAPACITY)
    active: bool = True
    out_of_office_until: date | None = None

    @field_validator("slack_id", mode="before")
    @classmethod
    def _slack_id(cls, value: object) -> str:
        text = str(value or "").strip()
        if not SLACK_USER_ID.match(text):
            raise ValueError(f"{text!r} is not a Slack user id like U0123ABCD")
        return text

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> str:
        return " ".join(str(value or "").split())

    @field_validator("topics", mode="before")
    @classmethod
    def _topics(cls, value: object) -> list[str]:
        topics = split_topics(value)
        if len(topics) > MAX_TOPICS:
            raise ValueError(f"at most {MAX_TOPICS} topics, got {len(topics)}")
        for topic in topics:
            if len(topic) > MAX_TOPIC_LENGTH:
                raise ValueError(f"topic {topic[:20]!r}… is longer than {MAX_TOPIC_LENGTH} characters")
        return topics

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: object) -> str:
        return check_timezone(str(value or ""))

    @field_validator("work_start", "work_end", mode="before")
    @classmethod
    def _hours(cls, value: object) -> time:
        return parse_hours(value)

    @field_validator("out_of_office_until", mode="before")
    @classmethod
    def _empty_date(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none", "~")):
            return None
        return value

    @model_validator(mode="after")
    def _hours_in_order(self) -> RosterEntry:
        if self.work_start >= self.work_end:
            raise ValueError(
                f"work_start {self.work_start:%H:%M} must be before work_end {self.work_end:%H:%M}"
            )
        return self

    def status_on(self, day: date) -> str:
        if not self.active:
            return "inactive"
        if self.out_of_office_until is not None and self.out_of_office_until >= day:
            return f"out of office until {self.out_of_office_until:%a %d %b %Y}"
        return "active"


class RosterMember(RosterEntry):
    id: int
    last_assigned_at: datetime | None = None
    # Accepted meetings in the current ISO week, in the person's own timezone.
    load_this_week: int = 0


class RosterImportResult(BaseModel):
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)


# ----- routing -----------------------------------------------------------------------------------


class Booking(BaseModel):
    """An accepted meeting of a DevRel person; routing uses these for load and overlaps."""

    model_config = ConfigDict(frozen=True)

    slack_id: str
    start: datetime
    end: datetime
    request_id: int | None = None


class Candidate(BaseModel):
    """A roster member who could take a request, and why they rank where they do."""

    model_config = ConfigDict(frozen=True)

    slack_id: str
    name: str
    timezone: str
    matched_topic: str | None = None
    topic_score: float = 0.0
    load: int = 0
    capacity: int = 0
    last_assigned_at: datetime | None = None

    @property
    def reason(self) -> str:
        expertise = self.matched_topic or "no topic match"
        return f"{expertise}, {self.load}/{self.capacity} meetings this week"


# ----- requests ----------------------------------------------------------------------------------


class DevRelPolicy(BaseModel):
    """The settings that shape how a request moves on: where it goes when nobody answers, and when."""

    model_config = ConfigDict(frozen=True)

    lead_channel: str | None = None
    escalate_after: timedelta = timedelta(hours=2)


class EngagementChoice(BaseModel):
    """An open engagement as the request modal and the messages show it."""

    model_config = ConfigDict(frozen=True)

    id: int
    account: str
    opportunity: str
    stage: Stage
    focus: str
    owner_id: str
    seller_id: str
    channel_id: str | None = None
    # A practice engagement: its requests go to a practice DevRel colleague (bot/services/devrel_practice.py).
    practice: bool = False


class RequestDraft(BaseModel):
    """What the requester filled in; rules (open engagement, future meeting) are checked by the service."""

    engagement_id: int | None = None
    meeting_start: datetime | None = None
    duration_minutes: int = DEFAULT_DURATION
    topics: list[str] = Field(default_factory=list)
    meeting_link: str = ""
    customer_asked: str = ""
    promised: str = ""
    held_in_reserve: str = ""

    @field_validator("topics", mode="before")
    @classmethod
    def _topics(cls, value: object) -> list[str]:
        return split_topics(value)


class HistoryItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: RequestEventKind
    actor_id: str
    subject_id: str | None = None
    at: datetime
    detail: str = ""


class MessageRef(BaseModel):
    """A Slack message showing a request. `audience` says how it is drawn; `recipient_id` for whom."""

    model_config = ConfigDict(frozen=True)

    channel_id: str
    ts: str
    audience: Literal["requester", "ask", "channel", "assignee"]
    recipient_id: str | None = None


class DevRelRequestView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    version: int
    state: RequestState
    engagement: EngagementChoice
    requester_id: str
    meeting_start: datetime
    duration_minutes: int
    topics: list[str]
    meeting_link: str = ""
    customer_asked: str = ""
    promised: str = ""
    held_in_reserve: str = ""
    candidate_id: str | None = None
    candidate_reason: str = ""
    asked_ids: list[str] = Field(default_factory=list)
    assignee_id: str | None = None
    escalate_at: datetime | None = None
    remind_at: datetime | None = None
    reminded_at: datetime | None = None
    created_at: datetime
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    history: list[HistoryItem] = Field(default_factory=list)
    # Roster names and timezones of the DevRel people this request has touched.
    names: dict[str, str] = Field(default_factory=dict)
    timezones: dict[str, str] = Field(default_factory=dict)

    @property
    def meeting_end(self) -> datetime:
        return self.meeting_start + timedelta(minutes=self.duration_minutes)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def name_of(self, slack_id: str | None) -> str:
        if slack_id is None:
            return "nobody"
        return self.names.get(slack_id, slack_id)

    def declined_ids(self) -> list[str]:
        return [h.subject_id for h in self.history if h.kind is RequestEventKind.declined and h.subject_id]

    def decline_reason(self, slack_id: str) -> str:
        for item in reversed(self.history):
            if item.kind is RequestEventKind.declined and item.subject_id == slack_id:
                return item.detail
        return ""

    def cancelled_by_close(self) -> str | None:
        """Who closed the engagement, when that is what cancelled this request; else None."""
        if self.state is not RequestState.cancelled:
            return None
        for item in reversed(self.history):
            if item.kind is RequestEventKind.cancelled:
                return item.actor_id if item.detail == CLOSED_WITH_ENGAGEMENT else None
        return None

    def handed_back_by(self, slack_id: str) -> bool:
        return any(h.kind is RequestEventKind.handed_back and h.subject_id == slack_id for h in self.history)

    def released_because(self, slack_id: str) -> str:
        """Why `slack_id` was taken off this request because they can no longer come; "" if they were not."""
        for item in reversed(self.history):
            if item.kind is RequestEventKind.released and item.subject_id == slack_id:
                return item.detail
        return ""

    def sync_people(self) -> list[str]:
        """Who belongs in the pre-meeting group DM: SE, seller, requester and the DevRel person."""
        people: list[str] = []
        for user_id in (self.engagement.owner_id, self.engagement.seller_id, self.requester_id, self.assignee_id):
            if user_id and user_id not in people:
                people.append(user_id)
        return people


Change = Literal[
    "requested", "asked", "declined", "escalated", "to_channel", "nobody",
    "accepted", "assigned", "cancelled", "expired", "unchanged",
    # Cancelled because its engagement was closed; kept after all; given back by its assignee.
    "closed", "kept", "handed_back",
    # Its person can no longer come: taken off the roster, or out of office on the meeting's day.
    "released",
]


class OverlappingMeeting(BaseModel):
    """An accepted meeting of the person clicking Accept or Take it that overlaps the one they clicked."""

    model_config = ConfigDict(frozen=True)

    request_id: int
    account: str
    requester_id: str
    meeting_start: datetime
    duration_minutes: int


class WeekLoad(BaseModel):
    """Accepted meetings of one person in the ISO week of a meeting (their timezone), this one included."""

    model_config = ConfigDict(frozen=True)

    meetings: int
    capacity: int
    week_start: date


class RequestUpdate(BaseModel):
    """What one action did to a request, so the caller can tell the right people and refresh messages.

    `changed` is False when the action found the request already moved on (a second click, a stale
    message): then `note` says why and nothing was written.
    """

    request: DevRelRequestView
    changed: bool = True
    change: Change = "unchanged"
    actor_id: str = SYSTEM_ACTOR
    # The person the request moved away from: who declined, who did not answer, who was asked when cancelled.
    previous_id: str | None = None
    reason: str = ""
    asked: Candidate | None = None
    to_channel: bool = False
    nobody_available: bool = False
    note: str = ""
    messages: list[MessageRef] = Field(default_factory=list)
    # Accept / Take it refused because the clicker already has this meeting at an overlapping time.
    overlapping: OverlappingMeeting | None = None
    # Set when an accept took the person past their weekly capacity: allowed, but they are told.
    over_capacity: WeekLoad | None = None
    # The clicker's roster timezone, to write times in for them.
    actor_timezone: str | None = None


class DueTimers(BaseModel):
    """Requests whose timers have passed: (request id, version seen) pairs, and reminders by id."""

    expire: list[tuple[int, int]] = Field(default_factory=list)
    escalate: list[tuple[int, int]] = Field(default_factory=list)
    remind: list[int] = Field(default_factory=list)


class DevRelCoverage(BaseModel):
    """DevRel coverage over a window, for the weekly digest.

    `accept_rate` is accepted / (requests − cancelled before anyone accepted), None with nothing to rate.
    `unanswered` counts requests that expired, or are still waiting although their meeting has started.
    """

    since: datetime
    until: datetime
    requests: int = 0
    accepted: int = 0
    cancelled: int = 0
    unanswered: int = 0
    accept_rate: float | None = None
    median_minutes_to_accept: float | None = None


class PracticeAnswer(BaseModel):
    """A DevRel request on a practice engagement, as the practice colleague accepted it."""

    model_config = ConfigDict(frozen=True)

    engagement_id: int
    account: str
    opportunity: str
    requester_id: str
    meeting_start: datetime
    duration_minutes: int
    topics: list[str]
