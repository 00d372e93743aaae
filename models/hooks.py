"""The stage webhooks' outbox: one row per call to make, written with the stage change that causes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class StageHookCall(Base):
    """A call to a stage's webhook, from its stage change until it is delivered or given up.

    Written in the transaction of the stage change, so a change is never without its calls nor a call
    without its change; sent by the scheduler (bot/jobs/hooks.py), each attempt claimed in `job_claims`
    under the delivery id. `body` is fixed when the row is written, so every attempt sends the same JSON."""

    __tablename__ = "stage_hook_calls"
    __table_args__ = (
        # Each tick asks for the pending calls whose next attempt has come.
        Index("ix_stage_hook_calls_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("stage_changes.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    # "entered" or "left"
    event: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # "pending", "delivered" or "gave_up"
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None]
    # When the admins were told that epos gave up on this call.
    alerted_at: Mapped[datetime | None]
