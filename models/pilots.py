"""Pilots: a named group of SEs trying the guided path from a start date, compared with everyone else."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Pilot(Base):
    __tablename__ = "pilots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # Days in EPOS_TIMEZONE: a pilot runs from the start of `start_on` to the end of `end_on` (or today).
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class PilotMember(Base):
    """One stretch of an SE in a pilot. Their engagements count for the pilot only when opened within it,
    so a member who joins later brings none of the engagements they opened before."""

    __tablename__ = "pilot_members"
    __table_args__ = (UniqueConstraint("pilot_id", "slack_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    slack_id: Mapped[str] = mapped_column(String(32), index=True)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
