"""The DevRel roster and requests to bring one of them "into the room", with their audit trail."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.enums import RequestEventKind, RequestState


class DevRelPerson(Base):
    __tablename__ = "devrel_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64))
    work_start: Mapped[time]
    work_end: Mapped[time]
    weekly_capacity: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    out_of_office_until: Mapped[date | None]
    # Fairness: on ties, whoever was assigned longest ago goes first.
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Set while the roster import that added the person is pending (models/imports.py).
    import_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Counts the changes made to the person's roster fields (in Slack or by an import), so that an import
    # can tell whether someone changed them after it read them, whatever the clocks say.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DevRelRequest(Base):
    __tablename__ = "devrel_requests"
    __table_args__ = (
        Index("ix_devrel_requests_state_escalate_at", "state", "escalate_at"),
        Index("ix_devrel_requests_remind_at", "remind_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    requester_id: Mapped[str] = mapped_column(String(32))
    meeting_start: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    meeting_link: Mapped[str] = mapped_column(String(2000), default="")
    customer_asked: Mapped[str] = mapped_column(Text, default="")
    promised: Mapped[str] = mapped_column(Text, default="")
    held_in_reserve: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[RequestState] = mapped_column(String(16))
    # Optimistic lock: every transition bumps it with `WHERE version = :seen`, so one click wins.
    version: Mapped[int] = mapped_column(Integer, default=0)
    candidate_id: Mapped[str | None] = mapped_column(String(32))
    asked_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    escalate_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    events: Mapped[list[DevRelRequestEvent]] = relationship(
        back_populates="request", lazy="raise", order_by="DevRelRequestEvent.id"
    )
    messages: Mapped[list[DevRelRequestMessage]] = relationship(lazy="raise")


class DevRelRequestEvent(Base):
    __tablename__ = "devrel_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("devrel_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RequestEventKind] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[DevRelRequest] = relationship(back_populates="events", lazy="raise")


class DevRelRequestMessage(Base):
    """Every Slack message that shows a request, so all of them can be updated when its state changes."""

    __tablename__ = "devrel_request_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("devrel_requests.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(16))
    # The person a DM was sent to (an ask is drawn differently for whoever was asked); None in channels.
    recipient_id: Mapped[str | None] = mapped_column(String(32))
