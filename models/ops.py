"""Operational tables: scheduled-post claims, delivery de-duplication, the audit log, Slack user cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class JobClaim(Base):
    """One row per (job, period): the unique constraint is what makes a scheduled post happen once.

    A claim with `done_at` unset and an expired `lease_until` was abandoned (crash, failed post) and
    may be claimed again by the next tick. `posting_since` is set just before a post is sent and cleared
    when Slack's answer says it did not land: while it is set and the claim is not done, nobody knows
    whether Slack has the post, and the next holder looks for it in the channel before posting again.
    """

    __tablename__ = "job_claims"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(128))
    claimed_by: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[datetime]
    lease_until: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    done_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    posting_since: Mapped[datetime | None]


class ProcessedDelivery(Base):
    """Keys of Slack deliveries (event_id, action_ts, view hash), so retries change nothing.

    A row with `done_at` unset is a claim on a delivery being handled; a failed handling deletes it.
    """

    __tablename__ = "processed_deliveries"
    __table_args__ = (Index("ix_processed_deliveries_seen_at", "seen_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id"),
        # What a person has done, for their getting-started checklist (migration 0014).
        Index("ix_audit_log_actor", "actor_id", "entity", "action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class SlackUser(Base):
    """What `users.info` told us, kept so timezones and names don't cost an API call per message."""

    __tablename__ = "slack_users"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    fetched_at: Mapped[datetime]


class SchedulerTick(Base):
    """When each scheduler last ticked, so an admin can see that one is running (`epos doctor`)."""

    __tablename__ = "scheduler_ticks"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    ticked_at: Mapped[datetime]
