"""The weekly digest: which week is due, and the figures managers read for it.

Weeks are ISO weeks in EPOS_TIMEZONE (Monday 00:00 to the next Monday 00:00, local time). The
digest posted on the scheduled day of week W covers week W-1. It is due from the scheduled time
until the end of the second day after it (Monday 09:00 → Wednesday midnight): a bot that was down
across the slot catches up within that window, and after it the week is skipped rather than posted
late. Which week has been posted is kept as the claim `digest:<week>`, so it is posted once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import clock, db
from bot.errors import InvalidInput
from bot.services import adoption, asset_outcomes, asset_review, cohorts, devrel, engagements, metrics
from bot.services.deliverable_figures import deliverable_figures
from models import Asset, AssetShare, SearchMiss
from models.enums import Outcome
from models.schemas.digest import (
    ClosedCounts,
    DevRelFigures,
    Digest,
    EsatSummary,
    MeanMedian,
    OverdueAsset,
    OwnerFigures,
    SearchGap,
    SharedAsset,
    StaleLine,
    TeamHome,
    TrendPoint,
)
from models.schemas.engagements import Figures, StaleEngagement

JOB = "digest"
TOP_OVERDUE = 10
CATCH_UP_DAYS = 2
_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{2})\s*$", re.IGNORECASE)


def parse_week(text: str) -> date:
    """The Monday of an ISO week written `2026-W47`."""
    match = _WEEK.match(text or "")
    if match:
        try:
            return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            pass
    raise InvalidInput(f"{text!r} is not an ISO week; write it like 2026-W47 (year, W, week 01-53)", field="week")


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[since, until) of an ISO week in local time, as aware datetimes."""
    monday = parse_week(week)
    return _local_midnight(monday, tz), _local_midnight(monday + timedelta(days=7), tz)


def previous_week(now: datetime, tz: ZoneInfo) -> str:
    """The last complete ISO week before `now`, in local time."""
    return week_label(now.astimezone(tz).date() - timedelta(days=7))


def due_week(now: datetime, tz: ZoneInfo, slot: tuple[int, time]) -> str | None:
    """The week whose digest should be posted at `now`, or None outside the posting window."""
    start, end = posting_window(now, tz, slot)
    if start <= now < end:
        return week_label(now.astimezone(tz).date() - timedelta(days=7))
    return None


def posting_window(now: datetime, tz: ZoneInfo, slot: tuple[int, time]) -> tuple[datetime, datetime]:
    """From the scheduled slot of `now`'s week until the end of the second day after it, never past Sunday."""
    weekday, at = slot
    monday = week_start(now.astimezone(tz).date())
    slot_day = monday + timedelta(days=weekday)
    start = datetime.combine(slot_day, at, tzinfo=tz)
    last_day = min(slot_day + timedelta(days=CATCH_UP_DAYS), monday + timedelta(days=6))
    return start, _local_midnight(last_day + timedelta(days=1), tz)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


# ----- the figures ------------------------------------------------------------------------------------
TOP_STALE = 10
TOP_ASSETS = 5
TOP_SEARCHES = 10
TREND_WEEKS = 12
# A week's MTTC is compared with the trailing weeks only when both rest on at least this many closes:
# one same-day close is not "50 days faster" (README › The weekly digest).
MIN_CLOSES_TO_COMPARE = 5


def _weeks_back(monday: date, weeks: int, tz: ZoneInfo) -> datetime:
    return _local_midnight(monday - timedelta(weeks=weeks - 1), tz)


def _mean_median(figures: Figures) -> MeanMedian:
    return MeanMedian(mean=figures.mean, median=figures.median, count=figures.count)


def _closed(counts: dict[str, int]) -> ClosedCounts:
    return ClosedCounts(
        won=counts.get(Outcome.won.value, 0),
        lost=counts.get(Outcome.lost.value, 0),
        no_decision=counts.get(Outcome.no_decision.value, 0),
    )


def compute(week: str, *, tz: ZoneInfo, now: datetime | None = None, managers: Sequence[str] = ()) -> Digest:
    """Every figure of the digest for ISO week `week` in `tz` (`managers`: EPOS_MANAGERS, for adoption)."""
    now = now or clock.now()
    monday = parse_week(week)
    week = week_label(monday)
    since, until = week_bounds(week, tz)
    if since > now:
        raise InvalidInput(f"{week} has not started yet; pick this week or an earlier one, like {previous_week(now, tz)}.",
                           field="week")
    this_week = metrics.team_metrics(since, until)
    trailing_4 = metrics.mttc(_weeks_back(monday, 4, tz), until)
    trailing_12 = metrics.mttc(_weeks_back(monday, 12, tz), until)
    # Stale as the week ended (or now, for the week in progress): the same instant the funnel uses.
    as_of = min(now, until)
    # The ten most overdue and a count per SE, not every stale line: tens of thousands at scale.
    stale = engagements.stale_engagements(as_of, limit=TOP_STALE)
    stale_per_owner = engagements.stale_counts(as_of)
    trend = [
        TrendPoint(week_start=start, mean=figures.mean, median=figures.median, count=figures.count)
        for start, figures in metrics.mttc_trend(TREND_WEEKS, until=until, tz=tz)
    ]
    pilot = cohorts.running_section(tz, min(now, until))
    # The quarter the week ends in, up to the end of the week.
    quarter_since = asset_outcomes.quarter_start(until - timedelta(microseconds=1), tz)
    overdue = asset_review.overdue(as_of)
    return Digest(
        overdue_assets=[OverdueAsset(asset_id=a.id, title=a.title, url=a.url, verifier_id=a.verifier_id,
                                     due_at=a.due_at, days_overdue=a.days_overdue)
                        for a in sorted(overdue, key=lambda a: -a.days_overdue)[:TOP_OVERDUE]],
        overdue_assets_total=len(overdue),
        pilot=pilot[0] if pilot else None,
        pilot_trend=pilot[1] if pilot else [],
        # Once a month, in the digest of the week that starts in its first seven days.
        interactions=metrics.interaction_figures(_weeks_back(monday, TREND_WEEKS, tz), until) if monday.day <= 7 else None,
        deliverables=deliverable_figures(_weeks_back(monday, TREND_WEEKS, tz), until) if monday.day <= 7 else None,
        week=week,
        since=since,
        until=until,
        timezone=tz.key,
        closed=_closed(this_week.closed),
        win_rate=this_week.win_rate,
        mttc_days=_mean_median(this_week.mttc_days),
        mttc_days_trailing_4w=_mean_median(trailing_4),
        mttc_days_trailing_12w=_mean_median(trailing_12),
        open_by_stage=dict(this_week.open_by_stage),
        stage_dwell_days_median=dict(this_week.stage_dwell_days_median),
        slowest_stage=this_week.slowest_stage,
        stale=_stale_lines(stale, as_of),
        stale_total=sum(stale_per_owner.values()),
        devrel=devrel_figures(since, until),
        esat=EsatSummary(mean=this_week.esat.mean, count=this_week.esat.count),
        top_assets=most_shared_assets(since, until),
        searches_without_results=searches_without_results(since, until),
        searches_partly_answered=searches_partly_answered(since, until),
        trend=trend,
        owners=owner_figures(since, until, stale_per_owner),
        adoption=adoption.report(since, until, managers=managers),
        quarter_since=quarter_since,
        won_assets=asset_outcomes.won_deals(quarter_since, until),
    )


def _stale_lines(stale: Sequence[StaleEngagement], as_of: datetime) -> list[StaleLine]:
    return [
        StaleLine(engagement_id=s.id, account=s.account, opportunity=s.opportunity, owner_id=s.owner_id,
                  stage=str(s.stage), days=s.days_idle, threshold_days=s.stale_after_days,
                  snoozed_until=s.snoozed_until if s.snoozed_until and s.snoozed_until > as_of else None)
        for s in stale
    ]


# ----- the team on a manager's App Home ---------------------------------------------------------------
HOME_STALE = 5


def team_home(tz: ZoneInfo, *, now: datetime | None = None) -> TeamHome:
    """The digest's figures for the week in progress (local Monday 00:00 until `now`), the pipeline open now
    and the `HOME_STALE` most overdue stale engagements: the team, as a manager's App Home shows it."""
    now = now or clock.now()
    since = _local_midnight(week_start(now.astimezone(tz).date()), tz)
    # At Monday midnight itself the week so far is empty, not a window that ends before it starts.
    until = max(now, since + timedelta(seconds=1))
    week = metrics.team_metrics(since, until)
    return TeamHome(
        since=since, until=until, timezone=tz.key,
        open_by_stage=dict(week.open_by_stage),
        stale=_stale_lines(engagements.stale_engagements(now, limit=HOME_STALE), now),
        stale_total=sum(engagements.stale_counts(now).values()),
        devrel=devrel_figures(since, until),
        closed=_closed(week.closed), win_rate=week.win_rate, mttc_days=_mean_median(week.mttc_days),
    )


def devrel_figures(since: datetime, until: datetime) -> DevRelFigures:
    """DevRel coverage of the requests made in the week."""
    figures = devrel.coverage(since, until)
    return DevRelFigures(
        requests=figures.requests,
        accepted=figures.accepted,
        accept_rate=figures.accept_rate,
        median_minutes_to_accept=figures.median_minutes_to_accept,
        unanswered=figures.unanswered,
    )


def most_shared_assets(since: datetime, until: datetime, *, limit: int = TOP_ASSETS) -> list[SharedAsset]:
    shares = func.count(AssetShare.id)
    with db.reading() as session:
        rows = session.execute(
            select(Asset.id, Asset.title, Asset.url, shares)
            .join(AssetShare, AssetShare.asset_id == Asset.id)
            .where(AssetShare.shared_at >= since, AssetShare.shared_at < until)
            .group_by(Asset.id, Asset.title, Asset.url)
            .order_by(shares.desc(), Asset.title, Asset.id)
            .limit(limit)
        ).all()
    return [SharedAsset(asset_id=i, title=title, url=url, shares=int(n)) for i, title, url, n in rows]


def _gaps(since: datetime, until: datetime) -> list[tuple[str, list[str], list[str]]]:
    with db.reading() as session:
        rows = session.execute(
            select(SearchMiss.query, SearchMiss.matched, SearchMiss.unmatched)
            .where(SearchMiss.searched_at >= since, SearchMiss.searched_at < until)
            .order_by(SearchMiss.searched_at, SearchMiss.id)
        ).all()
    return [(query, list(matched or []), list(unmatched or [])) for query, matched, unmatched in rows]


def _folded(gaps: Sequence[tuple[str, list[str], list[str]]], limit: int) -> list[SearchGap]:
    """Gaps folded by case and spacing, most frequent first; a partial gap says what its latest search
    matched and missed."""
    counts: dict[str, int] = {}
    shown: dict[str, SearchGap] = {}
    for query, matched, unmatched in gaps:
        key = " ".join(query.casefold().split())
        if not key:
            continue
        counts[key] = counts.get(key, 0) + 1
        shown[key] = SearchGap(query=" ".join(query.split()) if key not in shown else shown[key].query, count=0,
                               matched=matched, unmatched=unmatched)
    ranked = sorted(counts, key=lambda key: (-counts[key], key))[:limit]
    return [shown[key].model_copy(update={"count": counts[key]}) for key in ranked]


def searches_without_results(since: datetime, until: datetime, *, limit: int = TOP_SEARCHES) -> list[SearchGap]:
    """Searches that found nothing, folded by case and spacing, most frequent first."""
    return _folded([gap for gap in _gaps(since, until) if not gap[2]], limit)


def searches_partly_answered(since: datetime, until: datetime, *, limit: int = TOP_SEARCHES) -> list[SearchGap]:
    """Searches whose best answer matched only some of their words ("fraud detection" finding only
    "Threat detection lab"): the gaps a hit would hide. Folded and ranked as `searches_without_results`."""
    return _folded([gap for gap in _gaps(since, until) if gap[2]], limit)


def owner_figures(since: datetime, until: datetime, stale_per_owner: dict[str, int]) -> list[OwnerFigures]:
    """Each SE with an engagement open at the end of the week or closed during it, busiest first."""
    result = []
    for owner_id, totals in metrics.owner_totals(since, until).items():
        closed = _closed(totals.closed)
        if totals.open == 0 and closed.total == 0:
            continue
        result.append(OwnerFigures(
            owner_id=owner_id, open=totals.open, closed=closed, win_rate=totals.win_rate,
            mttc_days=_mean_median(totals.mttc_days), stale=stale_per_owner.get(owner_id, 0),
        ))
    return sorted(result, key=lambda o: (-(o.open + o.closed.total), -o.stale, o.owner_id))
