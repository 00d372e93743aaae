"""Engagements along the EPOS stages, their append-only stage log, notes and satisfaction ratings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ColumnElement, Float, ForeignKey, Index, Integer, String, Text, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.enums import Outcome, Stage


class Engagement(Base):
    __tablename__ = "engagements"
    __table_args__ = (
        Index("ix_engagements_owner_stage", "owner_id", "stage"),
        # MTTC and the closed counts read a window of closes from this index alone (migration 0005).
        # import_id too: every read filters on it (models/imports.py), and the index must still cover it;
        # practice too: every figure leaves practice engagements out (`counted`, migration 0017).
        Index("ix_engagements_closed", "closed_at", "outcome", "opened_at", "owner_id", "import_id", "practice"),
        # `/asset` in a deal channel looks up the channel's engagements for their needs (migration 0024).
        Index("ix_engagements_channel", "channel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(200), index=True)
    opportunity: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str] = mapped_column(String(32))
    seller_id: Mapped[str] = mapped_column(String(32))
    focus: Mapped[str] = mapped_column(String(100))
    business_challenge: Mapped[str] = mapped_column(Text, default="")
    technical_needs: Mapped[str] = mapped_column(Text, default="")
    # Its place in the challenge map (bot/services/challenges.py): the ids of the challenge and the needs
    # picked when it was opened; empty when only free text was given (migration 0024).
    challenge_id: Mapped[str | None] = mapped_column(String(60))
    need_ids: Mapped[list[str] | None] = mapped_column(JSON)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    stage: Mapped[Stage] = mapped_column(String(16), index=True)
    stage_entered_at: Mapped[datetime]
    # Last stage change or note; staleness is measured from here.
    last_activity_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[Outcome | None] = mapped_column(String(16))
    snoozed_until: Mapped[datetime | None]
    last_nudged_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Set while the import that wrote the row is pending: nobody sees the row until it goes live.
    import_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Opened from the App Home to learn the process on: its owner sees it, marked as practice, but it counts
    # in no figure, digest, nudge or export, and its DevRel requests reach nobody (see `counted`).
    practice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    changes: Mapped[list[StageChange]] = relationship(
        back_populates="engagement", lazy="raise", order_by="StageChange.id"
    )


def counted() -> ColumnElement[bool]:
    """The engagements that count: in the figures, the digest, the nudges and the exports. Every one but a
    practice engagement. Each of those reads names this condition; practice ones have no stage stints
    either (bot/services/stints.py), so the dwell and conversion figures never see them."""
    return Engagement.practice.is_(False)


# An import's duplicate check looks accounts up a batch at a time, ignoring case (migration 0011).
Index("ix_engagements_account_lower", func.lower(Engagement.account))


class StageChange(Base):
    """Append-only: never updated or deleted; a correction is a new row."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        Index("ix_stage_changes_engagement_effective", "engagement_id", "effective_at"),
        # The figures find a window's changes by date (migration 0003).
        Index("ix_stage_changes_effective_at", "effective_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"))
    from_stage: Mapped[Stage | None] = mapped_column(String(16))
    to_stage: Mapped[Stage] = mapped_column(String(16))
    outcome: Mapped[Outcome | None] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(32))
    logged_at: Mapped[datetime]
    effective_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    # Set on an undo or a reopen: the change this one takes back. Metrics skip both rows of such a pair.
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("stage_changes.id"), index=True)
    import_id: Mapped[str | None] = mapped_column(String(32), index=True)

    engagement: Mapped[Engagement] = relationship(back_populates="changes", lazy="raise")


class StageStint(Base):
    """A stretch an engagement spent in one open stage, derived from its standing stage log.

    Rebuilt for an engagement in the same transaction as every write to its log (bot/services/stints.py),
    so the dwell and conversion figures are plain aggregates over these rows instead of a walk through
    each engagement's log in order."""

    __tablename__ = "stage_stints"
    __table_args__ = (
        # Each figure reads a window by one date and needs only these columns (migration 0004).
        Index("ix_stage_stints_left", "stage", "left_at", "dwell_days", "engagement_id", "import_id"),
        # Conversion counts a window's first entries per engagement from this index alone (migration 0005).
        Index("ix_stage_stints_entries", "stage", "entered_at", "previous_entered_at", "advanced_at", "engagement_id",
              "import_id"),
        # The median dwell steps through a stage's stints in dwell order (bot/services/metrics.py).
        Index("ix_stage_stints_dwell_order", "stage", "dwell_days", "left_at", "import_id"),
    )

    # The standing change that entered the stage.
    change_id: Mapped[int] = mapped_column(ForeignKey("stage_changes.id", ondelete="CASCADE"), primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    stage: Mapped[Stage] = mapped_column(String(16))
    entered_at: Mapped[datetime]
    # When the engagement entered this stage the time before (its previous stint here); None the first time.
    # An engagement entered the stage in a window once per stint there whose previous entry is not in the
    # window, so conversion counts stints instead of distinct engagements (a sort or hash of every stint).
    previous_entered_at: Mapped[datetime | None]
    # The effective date of the next standing change; None while the engagement is still in the stage.
    left_at: Mapped[datetime | None]
    dwell_days: Mapped[float | None] = mapped_column(Float)
    # The effective date of the first later standing change that took the engagement further (a later
    # stage, or closed won); None if none has.
    advanced_at: Mapped[datetime | None]
    import_id: Mapped[str | None] = mapped_column(String(32), index=True)


class EngagementNote(Base):
    __tablename__ = "engagement_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str] = mapped_column(String(32))
    written_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)


class EsatSurvey(Base):
    """The satisfaction question sent to the owner on close: asked once, reminded at most once."""

    __tablename__ = "esat_surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), unique=True
    )
    owner_id: Mapped[str] = mapped_column(String(32))
    asked_at: Mapped[datetime]
    remind_at: Mapped[datetime | None] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]


class PlaybookPost(Base):
    """A stage's playbook as posted (deal channel or the owner's DM), kept so it can be redrawn when an
    asset it lists is archived."""

    __tablename__ = "playbook_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    stage: Mapped[Stage] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime]


class PlaybookPostAsset(Base):
    """An asset a playbook post lists, as last drawn."""

    __tablename__ = "playbook_post_assets"

    post_id: Mapped[int] = mapped_column(ForeignKey("playbook_posts.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True)
