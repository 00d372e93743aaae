"""Feedback on assets and their shares: one vote per person per asset, and a count of every share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot import clock, db
from bot.blocks.text import escape
from bot.errors import NotFound
from bot.services import interactions
from bot.services.asset_index import (
    after_commit,
    bump_revision,
    card_of,
)
from bot.services.asset_reading import NOT_FOUND, NOT_PUBLISHED
from models.assets import Asset, AssetFeedback, AssetShare
from models.enums import AssetStatus
from models.schemas.assets import (
    AssetCard,
    VoteResult,
)

# ----- feedback and shares ------------------------------------------------------------------------


def vote(asset_id: int, user_id: str, useful: bool, *, now: datetime | None = None) -> VoteResult:
    """One vote per person per asset; voting again the other way moves the vote, the same way changes nothing."""
    now = now or clock.now()
    with db.reading() as session:
        row = session.get(Asset, asset_id)
        if row is None:
            raise NotFound(NOT_FOUND)
        if row.status != AssetStatus.published:
            raise NotFound(NOT_PUBLISHED.format(title=escape(row.title), what="rated"))
        previous = session.scalar(
            select(AssetFeedback.useful).where(AssetFeedback.asset_id == asset_id, AssetFeedback.user_id == user_id)
        )
        if previous is not None and bool(previous) == useful:
            return VoteResult(card=card_of(row), useful=useful, changed=False, previous=bool(previous))
    with db.transaction() as session:
        revision = bump_revision(session)
        row = session.scalars(select(Asset).where(Asset.id == asset_id).with_for_update()).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        feedback = session.scalars(
            select(AssetFeedback).where(AssetFeedback.asset_id == asset_id, AssetFeedback.user_id == user_id)
        ).first()
        previous = None if feedback is None else bool(feedback.useful)
        if previous == useful:
            return VoteResult(card=card_of(row), useful=useful, changed=False, previous=previous)
        if feedback is None:
            session.add(AssetFeedback(asset_id=asset_id, user_id=user_id, useful=useful, voted_at=now))
        else:
            feedback.useful, feedback.voted_at = useful, now
            if previous:
                row.useful_count = max(0, row.useful_count - 1)
            else:
                row.not_useful_count = max(0, row.not_useful_count - 1)
        if useful:
            row.useful_count += 1
        else:
            row.not_useful_count += 1
        row.revision = revision
        card = card_of(row)
    after_commit([row], revision)
    return VoteResult(card=card, useful=useful, changed=True, previous=previous)


def record_share(
    asset_id: int, user_id: str, channel_id: str, *, engagement_id: int | None = None, now: datetime | None = None
) -> AssetCard:
    """Count a share of a published asset into a channel (call it once the post went out). A share into an
    engagement's channel is one of that engagement's interactions."""
    now = now or clock.now()
    with db.transaction() as session:
        engagement_id = engagement_id or interactions.engagement_of_channel(session, channel_id)
        revision = bump_revision(session)
        row = session.scalars(select(Asset).where(Asset.id == asset_id).with_for_update()).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        session.add(AssetShare(asset_id=asset_id, user_id=user_id, channel_id=channel_id,
                               engagement_id=engagement_id, shared_at=now))
        row.share_count += 1
        row.revision = revision
        card = card_of(row)
    after_commit([row], revision)
    return card
