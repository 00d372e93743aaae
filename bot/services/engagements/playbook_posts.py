"""The playbook posts epos sent, with the assets each lists, so that archiving an asset redraws every post
that still offers it: nobody is sent to withdrawn content by an old checklist."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bot import clock, db
from models import Asset, PlaybookPost, PlaybookPostAsset
from models.enums import AssetStatus, Stage
from models.schemas.engagements import PlaybookPost as PlaybookContent

REDRAWS_PER_TICK = 100


def remember(post: PlaybookContent, channel_id: str, ts: str, *, now: datetime | None = None) -> None:
    """A playbook post as sent: where it is and which assets it lists."""
    with db.transaction() as session:
        row = PlaybookPost(engagement_id=post.engagement.id, stage=post.stage, channel_id=channel_id, ts=ts,
                           posted_at=now or clock.now())
        session.add(row)
        session.flush()
        _list(session, row.id, [a.id for a in post.assets if a.id is not None])


def _list(session: Session, post_id: int, asset_ids: Iterable[int]) -> None:
    rows = [{"post_id": post_id, "asset_id": asset_id} for asset_id in dict.fromkeys(asset_ids)]
    if rows:
        session.execute(insert(PlaybookPostAsset), rows)


def listing_withdrawn(asset_id: int | None = None) -> list[tuple[int, int, Stage, str, str]]:
    """Posts that list an asset no longer published (only `asset_id`, when given): (post id, engagement id,
    stage, channel, ts)."""
    query = (
        select(PlaybookPost.id, PlaybookPost.engagement_id, PlaybookPost.stage, PlaybookPost.channel_id,
               PlaybookPost.ts)
        .join(PlaybookPostAsset, PlaybookPostAsset.post_id == PlaybookPost.id)
        .join(Asset, Asset.id == PlaybookPostAsset.asset_id)
        .where(Asset.status != AssetStatus.published.value)
        .distinct().order_by(PlaybookPost.id).limit(REDRAWS_PER_TICK)
    )
    if asset_id is not None:
        query = query.where(Asset.id == asset_id)
    with db.reading() as session:
        return [(post_id, engagement_id, Stage(stage), channel, ts)
                for post_id, engagement_id, stage, channel, ts in session.execute(query)]


def redrawn(post_id: int, post: PlaybookContent) -> None:
    """The post now lists `post.assets`."""
    with db.transaction() as session:
        session.execute(delete(PlaybookPostAsset).where(PlaybookPostAsset.post_id == post_id))
        _list(session, post_id, [a.id for a in post.assets if a.id is not None])


def forget(post_id: int) -> None:
    """A post Slack no longer has (deleted, or its channel archived): nothing left to redraw."""
    with db.transaction() as session:
        session.execute(delete(PlaybookPost).where(PlaybookPost.id == post_id))
