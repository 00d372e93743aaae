"""Uses of epos that leave no other trace: one row per person, feature and day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class UsageDay(Base):
    """A person used a read-only feature (a search that found something, the figures) on a day (UTC).

    Everything else a person does is already written down where it happens (stage changes, shares,
    DevRel requests, the audit log); only reads left nothing behind. One row a day keeps the table small
    however often someone searches."""

    __tablename__ = "usage_days"
    __table_args__ = (Index("ix_usage_days_feature_at", "feature", "at"),)

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    feature: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    # The first use that day: what a window of dates is compared with.
    at: Mapped[datetime]
