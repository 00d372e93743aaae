"""Field assets (AssetHub), who shared them, what people thought of them, and searches that found nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.enums import AssetStatus, AssetType, Cycle, Depth, Interactivity, Scope


def _enum(enum_cls: type) -> String:
    return String(max(len(m.value) for m in enum_cls))


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[AssetType] = mapped_column(_enum(AssetType))
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    depth: Mapped[Depth] = mapped_column(_enum(Depth))
    scope: Mapped[Scope] = mapped_column(_enum(Scope))
    interactivity: Mapped[Interactivity] = mapped_column(_enum(Interactivity))
    cycle: Mapped[Cycle] = mapped_column(_enum(Cycle))
    owner_id: Mapped[str] = mapped_column(String(32))
    # Made to be shown to customers: the only assets epos shares into a conversation with another
    # organisation in it. Internal unless someone says otherwise.
    customer_facing: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Labelled links to the asset's parts besides its main link ({"label", "url"} each, in order): a demo's
    # script, a workshop's notebooks and deck, a proofshop's success criteria.
    parts: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default="[]")
    # A Marketing Workshop's partner in Marketing (a Slack user id); no other type has one.
    partner_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[AssetStatus] = mapped_column(_enum(AssetStatus), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    share_count: Mapped[int] = mapped_column(Integer, default=0)
    useful_count: Mapped[int] = mapped_column(Integer, default=0)
    not_useful_count: Mapped[int] = mapped_column(Integer, default=0)
    # The catalogue revision of this row's last change (content, status, votes or shares); search
    # indexes in every process catch up by reading the rows above the revision they have seen.
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", index=True)
    # Set on the assets an `epos assets import` adds: they stay out of sight until that import is live.
    import_id: Mapped[str | None] = mapped_column(ForeignKey("asset_imports.id"), index=True)
    # Review (bot/services/asset_review.py): who confirms the asset is still true (its owner when unset),
    # how often (the type's default, ASSET_REVIEW_DAYS, when unset), and when someone last did.
    verifier_id: Mapped[str | None] = mapped_column(String(32))
    review_every_days: Mapped[int | None] = mapped_column(Integer)
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(32))
    # When its verifier (or the admins) were last asked to review it, and when the admins were last asked
    # whether to archive it: each once per review period, which starts again at `verified_at`.
    review_reminded_at: Mapped[datetime | None]
    archive_proposed_at: Mapped[datetime | None]

    shares: Mapped[list[AssetShare]] = relationship(back_populates="asset", lazy="raise")


class AssetCatalogue(Base):
    """One row (id 1) holding the catalogue's revision, bumped by every write to `assets`.

    Bumping it takes the row lock until commit, so revisions are committed in order and a reader that
    has seen revision N has seen every change up to N."""

    __tablename__ = "asset_catalogue"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


class AssetImport(Base):
    """One catalogue import. Its new assets are written in short batches while it is pending (`revision`
    unset) and all become visible at once when one short transaction sets the catalogue revision here;
    a failed import's assets are deleted and were never seen."""

    __tablename__ = "asset_imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime]
    # Stamped by each write batch of the import while it runs: one not stamped for a few minutes has
    # stopped (its process was killed), and the next import clears it away.
    touched_at: Mapped[datetime]
    revision: Mapped[int | None] = mapped_column(BigInteger, index=True)


class AssetImportChange(Base):
    """What a pending import changes in an asset that already exists, in the asset's own columns, so that
    going live applies every change by one statement (bot/services/asset_import.py)."""

    __tablename__ = "asset_import_changes"

    import_id: Mapped[str] = mapped_column(ForeignKey("asset_imports.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[AssetType] = mapped_column(_enum(AssetType))
    summary: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(2000))
    topics: Mapped[list[str]] = mapped_column(JSON)
    products: Mapped[list[str]] = mapped_column(JSON)
    depth: Mapped[Depth] = mapped_column(_enum(Depth))
    scope: Mapped[Scope] = mapped_column(_enum(Scope))
    interactivity: Mapped[Interactivity] = mapped_column(_enum(Interactivity))
    cycle: Mapped[Cycle] = mapped_column(_enum(Cycle))
    owner_id: Mapped[str] = mapped_column(String(32))
    customer_facing: Mapped[bool] = mapped_column(Boolean)
    parts: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    partner_id: Mapped[str | None] = mapped_column(String(32))
    verifier_id: Mapped[str | None] = mapped_column(String(32))
    review_every_days: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[AssetStatus] = mapped_column(_enum(AssetStatus))
    # The file's verification, only when later than the asset's as the import read it; else unset.
    verified_at: Mapped[datetime | None]
    # The change names another verifier, who is asked afresh.
    new_verifier: Mapped[bool] = mapped_column(Boolean)
    # The asset's revision as the import read it: one that moved since (an edit, a vote) is looked at again.
    seen_revision: Mapped[int] = mapped_column(BigInteger)
    # The audit line's detail: the fields that change, their values before, and the source.
    detail: Mapped[dict] = mapped_column(JSON)


class AssetShare(Base):
    __tablename__ = "asset_shares"
    # Whether a person has shared anything, for their getting-started checklist (migration 0014).
    __table_args__ = (Index("ix_asset_shares_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="SET NULL"), index=True
    )
    shared_at: Mapped[datetime] = mapped_column(index=True)

    asset: Mapped[Asset] = relationship(back_populates="shares", lazy="raise")


class AssetFeedback(Base):
    """One vote per person per asset; a second click changes the vote instead of stacking it."""

    __tablename__ = "asset_feedback"
    __table_args__ = (UniqueConstraint("asset_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    useful: Mapped[bool] = mapped_column(Boolean)
    voted_at: Mapped[datetime]


class SearchMiss(Base):
    """A search that found nothing, or only part of what was asked: the content gaps curators read in the
    digest. A partial gap names the words its best answer matched and those it did not; a search that
    found nothing leaves both empty."""

    __tablename__ = "search_misses"
    __table_args__ = (Index("ix_search_misses_searched_at", "searched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(32))
    searched_at: Mapped[datetime]
    matched: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    unmatched: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
