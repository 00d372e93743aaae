"""Imports of engagements and of the DevRel roster, and the rule that hides a pending import's rows.

A large import writes its rows in short batches, each tagged with its import's id, so no transaction
holds the database for long. Until one last short transaction marks the import live, those rows must
be invisible to everyone, or a person would see half a file (or a file that then fails). Rather than
trust every query in epos to remember that, one listener adds the condition to every ORM statement
that reads an engagement, its stage log, its stints or a roster person: the listener sits on the
Session class, so it reaches every session (`db.transaction`, `db.reading`, `db.within`), and
`with_loader_criteria` reaches the table wherever a statement names it, in subqueries, aliases and
aggregates too. The import itself reads with `SEE_PENDING` set on its session.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, event, or_, select
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

from models.base import Base
from models.devrel import DevRelPerson
from models.engagements import Engagement, StageChange, StageStint

# Set in a session's `info` to see the rows of pending imports (the import writing them, and clearing them).
SEE_PENDING = "epos_see_pending_imports"


class DataImport(Base):
    """One import of engagements or of the roster: pending while `live_at` is unset."""

    __tablename__ = "data_imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    live_at: Mapped[datetime | None]


class RosterImportChange(Base):
    """What a pending roster import changes in a person already on the roster: the person as the file has
    them, in the roster's own columns, so that going live applies every change with one statement."""

    __tablename__ = "roster_import_changes"

    import_id: Mapped[str] = mapped_column(ForeignKey("data_imports.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("devrel_people.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    topics: Mapped[list[str]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    work_start: Mapped[time]
    work_end: Mapped[time]
    weekly_capacity: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    out_of_office_until: Mapped[date | None]
    # The person's `version` when the import read them; another when it goes live means an admin changed them.
    seen_version: Mapped[int] = mapped_column(Integer)
    # The audit line written when it goes live: the source and, per changed field, [before, after].
    detail: Mapped[dict] = mapped_column(JSON)


STAGED = (Engagement, StageChange, StageStint, DevRelPerson)


def _visible(cls: Any) -> Any:
    # Pending imports are few (usually none), so `NOT IN` their ids is a short list for every plan.
    return or_(cls.import_id.is_(None),
               cls.import_id.not_in(select(DataImport.id).where(DataImport.live_at.is_(None))))


@event.listens_for(Session, "do_orm_execute")
def _hide_pending_imports(state: ORMExecuteState) -> None:
    if not state.is_select or state.session.info.get(SEE_PENDING):
        return
    state.statement = state.statement.options(
        *(with_loader_criteria(model, _visible, include_aliases=True) for model in STAGED))
