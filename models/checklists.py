"""Ticks of the stage checklists: which playbook items of an engagement's stage are done, by whom, when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import Stage


class ChecklistTick(Base):
    """A ticked item. Unticking deletes the row; the audit log keeps every tick and untick.

    `item_id` is the playbook item's id (its own, or one derived from its text), so rewording an item that
    has an id keeps its ticks; an item gone from the playbook keeps its row here but leaves the card."""

    __tablename__ = "checklist_ticks"
    __table_args__ = (UniqueConstraint("engagement_id", "stage", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    stage: Mapped[Stage] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(40))
    # prerequisites, calls_to_action or deliverables, and the words ticked, as the playbook had them then.
    item_group: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # A deliverable's link (the discovery summary, the sizing sheet), when one was given.
    link: Mapped[str | None] = mapped_column(String(3000))
    ticked_by: Mapped[str] = mapped_column(String(32))
    ticked_at: Mapped[datetime]
