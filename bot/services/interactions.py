"""Field-asset interactions per engagement, and the one kind word when an SE adds a second heavy one.

The AssetHub guide says most deals need only one interaction (a Demo, a Feature Walkthrough, a
Proofshop or a Workshop) and that unnecessary ones can slow a deal down. A share into an engagement's
channel is an interaction with that engagement; the team's own figures say whether the advice holds."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import clock, db
from bot.services import metrics
from models import Asset, AssetShare, Engagement
from models.enums import AssetType, Stage
from models.schemas.pilots import InteractionFigures

HEAVY = (AssetType.proofshop, AssetType.workshop)
# The same window as `epos stats` by default, so the figure shown is the one the command line gives.
FIGURES_WEEKS = 12


class SecondHeavy(BaseModel, frozen=True):
    account: str
    figures: dict[str, InteractionFigures]


def engagement_of_channel(session: Session, channel_id: str) -> int | None:
    """The engagement a channel is for: its open one, else the latest opened."""
    return session.scalar(
        select(Engagement.id).where(Engagement.channel_id == channel_id)
        .order_by((Engagement.stage == Stage.closed.value).asc(), Engagement.opened_at.desc(), Engagement.id.desc())
        .limit(1))


def second_heavy(asset_id: int, channel_id: str, *, now: datetime | None = None) -> SecondHeavy | None:
    """After a share: when it brought a second Proofshop or Workshop into the channel's engagement (the
    first time that asset went there), the team's figures by interactions used; otherwise None."""
    now = now or clock.now()
    with db.reading() as session:
        engagement_id = engagement_of_channel(session, channel_id)
        asset_type = session.scalar(select(Asset.type).where(Asset.id == asset_id))
        if engagement_id is None or asset_type not in HEAVY:
            return None
        times_this_one = session.scalar(select(func.count()).select_from(AssetShare).where(
            AssetShare.engagement_id == engagement_id, AssetShare.asset_id == asset_id))
        heavy = session.scalar(
            select(func.count(func.distinct(AssetShare.asset_id))).join(Asset, Asset.id == AssetShare.asset_id)
            .where(AssetShare.engagement_id == engagement_id, Asset.type.in_([t.value for t in HEAVY])))
        account = session.scalar(select(Engagement.account).where(Engagement.id == engagement_id))
    if times_this_one != 1 or heavy != 2:
        return None
    return SecondHeavy(account=account or "",
                       figures=metrics.interaction_figures(now - timedelta(weeks=FIGURES_WEEKS), now))
