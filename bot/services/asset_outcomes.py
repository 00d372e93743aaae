"""Which assets help win: each asset's engagements, how they went, against the team's in the same window.

An asset was used in an engagement when it was shared into the engagement while the engagement was open
(bot/services/interactions.py ties each share to its channel's engagement); a share after the close
helped no deal. Practice engagements never count (`counted`). The figures are the team's own (MTTC and
medians from bot/services/metrics.py and medians.py), so an asset's median MTTC and the team's are the
same measure. With fewer than MIN_FOR_RATES closed engagements an asset shows counts only.

A window [since, until) holds an asset's engagements that closed in it (whenever the asset went in), and
those still open at `until` that it went into during the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from bot import db
from bot.services import metrics
from bot.services.medians import grouped_figures
from bot.services.sql import at, epoch_days
from models import Asset, AssetShare, Engagement, StageChange
from models.engagements import counted
from models.enums import AssetType, Outcome
from models.schemas.asset_outcomes import (
    MIN_FOR_RATES,
    AssetOutcome,
    DealUse,
    OutcomeReport,
    UsedIn,
    WonDealsAsset,
)

TOP_WON = 5


def _used_while_open() -> list[ColumnElement[bool]]:
    return [AssetShare.engagement_id == Engagement.id, counted(),
            or_(Engagement.closed_at.is_(None), AssetShare.shared_at < Engagement.closed_at)]


def _closed_in(since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(Engagement.closed_at >= at(since), Engagement.closed_at < at(until))


def _stage_at_share() -> Any:
    """The engagement's stage when the share was made: its latest standing change effective by then."""
    return (metrics.effective_changes().with_only_columns(StageChange.to_stage)
            .where(StageChange.engagement_id == AssetShare.engagement_id,
                   StageChange.effective_at <= AssetShare.shared_at)
            .order_by(StageChange.effective_at.desc(), StageChange.id.desc())
            .limit(1).correlate(AssetShare).scalar_subquery())


def report(since: datetime, until: datetime) -> OutcomeReport:
    """Every asset used in an engagement in [since, until), most won engagements first."""
    if until <= since:
        raise ValueError("the window must end after it starts")
    in_window = or_(_closed_in(since, until), Engagement.closed_at.is_(None), Engagement.closed_at >= at(until))
    days = epoch_days(Engagement.closed_at) - epoch_days(Engagement.opened_at)
    with db.reading() as session:
        rows = session.execute(
            select(AssetShare.asset_id, AssetShare.user_id, AssetShare.shared_at, _stage_at_share(),
                   Engagement.id, Engagement.account, Engagement.opportunity, Engagement.owner_id,
                   Engagement.opened_at, Engagement.closed_at, Engagement.outcome)
            .join(Engagement, AssetShare.engagement_id == Engagement.id)
            .where(*_used_while_open(), AssetShare.shared_at < at(until), in_window)
            .order_by(AssetShare.shared_at, AssetShare.id)
        ).all()
        # Each engagement once per asset, however often the asset went into it.
        closed_pairs = (select(AssetShare.asset_id.label("grp"), Engagement.id.label("engagement"), days.label("val"))
                        .join(Engagement, AssetShare.engagement_id == Engagement.id)
                        .where(*_used_while_open(), _closed_in(since, until)).distinct().subquery())
        mttc = grouped_figures(session, select(closed_pairs.c.grp, closed_pairs.c.val))
        assets = {asset_id: (title, url, asset_type) for asset_id, title, url, asset_type in session.execute(
            select(Asset.id, Asset.title, Asset.url, Asset.type).where(Asset.id.in_({row[0] for row in rows})))}
    team_counts, team_mttc = metrics.closes(since, until)

    used: dict[int, dict[int, UsedIn]] = {}
    sharers: dict[tuple[int, int], dict[str, None]] = {}
    in_window_shares: set[tuple[int, int]] = set()
    for asset_id, user_id, shared_at, stage, engagement_id, account, opportunity, owner_id, opened_at, closed_at, \
            outcome in rows:
        closed = closed_at is not None and since <= closed_at < until
        if shared_at >= since:
            in_window_shares.add((asset_id, engagement_id))
        sharers.setdefault((asset_id, engagement_id), {})[user_id] = None
        used.setdefault(asset_id, {}).setdefault(engagement_id, UsedIn(
            account=account, opportunity=opportunity, owner_id=owner_id, stage=stage, first_shared_at=shared_at,
            outcome=Outcome(outcome) if closed else None, closed_at=closed_at if closed else None,
            mttc_days=(closed_at - opened_at).total_seconds() / 86400 if closed else None))
    outcomes = []
    for asset_id, engagements in used.items():
        # An engagement still open counts only when the asset went into it during the window.
        kept_ids = [engagement_id for engagement_id, e in engagements.items()
                    if e.outcome is not None or (asset_id, engagement_id) in in_window_shares]
        if not kept_ids:
            continue
        kept = [engagements[engagement_id] for engagement_id in kept_ids]
        who = list(dict.fromkeys(u for engagement_id in kept_ids for u in sharers[(asset_id, engagement_id)]))
        closed_count = sum(1 for e in kept if e.outcome is not None)
        won = sum(1 for e in kept if e.outcome == Outcome.won)
        rates = closed_count >= MIN_FOR_RATES
        title, url, asset_type = assets[asset_id]
        outcomes.append(AssetOutcome(
            asset_id=asset_id, title=title, url=url, type=AssetType(asset_type), engagements=kept,
            sharers=who,
            win_rate=won / closed_count if rates else None,
            mttc_days_median=mttc[asset_id].median if rates and asset_id in mttc else None))
    outcomes.sort(key=lambda a: (-a.count(Outcome.won), -len(a.engagements), a.title.casefold(), a.asset_id))
    team_closed = sum(team_counts.values())
    team_won = team_counts.get(Outcome.won.value, 0)
    return OutcomeReport(
        since=since, until=until, team_closed=team_closed, team_won=team_won,
        team_win_rate=team_won / team_closed if team_closed else None, team_mttc_days_median=team_mttc.median,
        assets=outcomes)


def deal_use(asset_ids: Sequence[int]) -> dict[int, DealUse]:
    """For a page of search results, in one grouped query: the won and closed engagements each asset was
    used in, over all time. Assets used in none are absent."""
    if not asset_ids:
        return {}
    won = case((Engagement.outcome == Outcome.won.value, Engagement.id), else_=None)
    with db.reading() as session:
        rows = session.execute(
            select(AssetShare.asset_id, func.count(func.distinct(won)), func.count(func.distinct(Engagement.id)))
            .join(Engagement, AssetShare.engagement_id == Engagement.id)
            .where(AssetShare.asset_id.in_(list(asset_ids)), Engagement.closed_at.is_not(None), *_used_while_open())
            .group_by(AssetShare.asset_id)
        ).all()
    return {asset_id: DealUse(won=int(n_won), closed=int(n_closed)) for asset_id, n_won, n_closed in rows}


def won_deals(since: datetime, until: datetime, *, limit: int = TOP_WON) -> list[WonDealsAsset]:
    """The assets used in the most engagements won in [since, until), for the curators: at least one won."""
    won = func.count(func.distinct(case((Engagement.outcome == Outcome.won.value, Engagement.id), else_=None)))
    closed = func.count(func.distinct(Engagement.id))
    with db.reading() as session:
        rows = session.execute(
            select(Asset.title, Asset.url, won, closed)
            .join(AssetShare, AssetShare.asset_id == Asset.id)
            .join(Engagement, AssetShare.engagement_id == Engagement.id)
            .where(*_used_while_open(), _closed_in(since, until))
            .group_by(Asset.id, Asset.title, Asset.url)
            .having(won > 0)
            .order_by(won.desc(), Asset.title, Asset.id)
            .limit(limit)
        ).all()
    return [WonDealsAsset(title=title, url=url, won=int(w), closed=int(c)) for title, url, w, c in rows]


def quarter_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """Local midnight on the first day of the calendar quarter holding `moment`."""
    local = moment.astimezone(tz)
    return datetime.combine(date(local.year, 3 * ((local.month - 1) // 3) + 1, 1), time(0), tzinfo=tz)
