"""What the weekly digest reports, as the digest service computes it and the blocks and CLI render it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from models.schemas.pilots import Comparison, InteractionFigures
from models.schemas.adoption import Adoption
from models.schemas.asset_outcomes import WonDealsAsset
from models.schemas.stage_checklists import DeliverableFigures


class MeanMedian(BaseModel, frozen=True):
    """Days, over `count` engagements; None when there were none."""

    mean: float | None = None
    median: float | None = None
    count: int = 0


class ClosedCounts(BaseModel, frozen=True):
    won: int = 0
    lost: int = 0
    no_decision: int = 0

    @property
    def total(self) -> int:
        return self.won + self.lost + self.no_decision


class StaleLine(BaseModel, frozen=True):
    engagement_id: int
    account: str
    opportunity: str
    owner_id: str
    stage: str
    days: int
    threshold_days: int
    snoozed_until: datetime | None = None


class DevRelFigures(BaseModel, frozen=True):
    requests: int = 0
    accepted: int = 0
    accept_rate: float | None = None
    median_minutes_to_accept: float | None = None
    unanswered: int = 0


class EsatSummary(BaseModel, frozen=True):
    mean: float | None = None
    count: int = 0


class SharedAsset(BaseModel, frozen=True):
    asset_id: int
    title: str
    url: str
    shares: int


class OverdueAsset(BaseModel, frozen=True):
    """A published asset whose review is overdue, for the curators."""

    asset_id: int
    title: str
    url: str
    verifier_id: str
    due_at: datetime
    days_overdue: int


class SearchGap(BaseModel, frozen=True):
    query: str
    count: int
    # A partial gap: the words its best answer matched, and those it did not (both empty for a miss).
    matched: list[str] = []
    unmatched: list[str] = []


class TrendPoint(BaseModel, frozen=True):
    """MTTC of the engagements closed in the ISO week starting `week_start`."""

    week_start: date
    mean: float | None = None
    median: float | None = None
    count: int = 0


class OwnerFigures(BaseModel, frozen=True):
    """One SE's part of the week, for the thread reply."""

    owner_id: str
    open: int
    closed: ClosedCounts
    win_rate: float | None
    mttc_days: MeanMedian
    stale: int


class TeamHome(BaseModel, frozen=True):
    """The team on a manager's App Home: the week so far [since, until) in local time, the pipeline and the
    most overdue stale engagements now; the digest's figures, for the week in progress."""

    since: datetime
    until: datetime
    timezone: str
    open_by_stage: dict[str, int]
    stale: list[StaleLine]
    stale_total: int
    devrel: DevRelFigures
    closed: ClosedCounts
    win_rate: float | None
    mttc_days: MeanMedian


class PilotTrendPoint(BaseModel, frozen=True):
    """The median MTTC of the pilot's and the baseline's engagements closed in the weeks before `at`."""

    at: date
    pilot: MeanMedian
    baseline: MeanMedian


class Digest(BaseModel, frozen=True):
    week: str
    since: datetime
    until: datetime
    timezone: str
    closed: ClosedCounts
    win_rate: float | None
    mttc_days: MeanMedian
    mttc_days_trailing_4w: MeanMedian
    mttc_days_trailing_12w: MeanMedian
    open_by_stage: dict[str, int]
    stage_dwell_days_median: dict[str, float | None]
    slowest_stage: str | None
    stale: list[StaleLine]
    stale_total: int
    devrel: DevRelFigures
    esat: EsatSummary
    top_assets: list[SharedAsset]
    searches_without_results: list[SearchGap]
    trend: list[TrendPoint]
    owners: list[OwnerFigures]
    # While a pilot runs: it against everyone else, and both groups' trailing MTTC for the chart.
    pilot: Comparison | None = None
    pilot_trend: list[PilotTrendPoint] = []
    # The first digest of each month: the team's figures by field-asset interactions used.
    interactions: dict[str, InteractionFigures] | None = None
    # The first digest of each month too: the stage checklists' figures.
    deliverables: DeliverableFigures | None = None
    adoption: Adoption | None = None
    # For the curators: the assets used in the most engagements won this quarter (from `quarter_since`).
    quarter_since: datetime | None = None
    won_assets: list[WonDealsAsset] = []
    # Searches whose best answer matched only some of their words.
    searches_partly_answered: list[SearchGap] = []
    # The longest overdue for review (as the week ended), and how many are.
    overdue_assets: list[OverdueAsset] = []
    overdue_assets_total: int = 0

    def figures(self) -> dict[str, Any]:
        """The figures `epos digest --json` prints. Keys shared with `epos stats --json` (closed, win_rate,
        mttc_days, stage_dwell_days_median, open_by_stage, esat) are the same figures, for the week."""
        return {
            "week": self.week,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.timezone,
            "closed": self.closed.model_dump(),
            "win_rate": _round(self.win_rate),
            "mttc_days": _mean_median(self.mttc_days),
            "mttc_days_trailing_4w": _mean_median(self.mttc_days_trailing_4w),
            "mttc_days_trailing_12w": _mean_median(self.mttc_days_trailing_12w),
            "open_by_stage": dict(self.open_by_stage),
            "stage_dwell_days_median": {stage: _round(days) for stage, days in self.stage_dwell_days_median.items()},
            "slowest_stage": self.slowest_stage,
            "stale": [
                {"account": s.account, "owner": s.owner_id, "stage": s.stage, "days": s.days,
                 "threshold_days": s.threshold_days, "engagement_id": s.engagement_id,
                 "snoozed_until": s.snoozed_until.isoformat() if s.snoozed_until else None}
                for s in self.stale
            ],
            "stale_total": self.stale_total,
            "devrel": self.devrel.model_dump(),
            "esat": {"mean": _round(self.esat.mean), "count": self.esat.count},
            "top_assets": [{"title": a.title, "shares": a.shares, "url": a.url} for a in self.top_assets],
            "searches_without_results": [g.model_dump(include={"query", "count"})
                                         for g in self.searches_without_results],
            "searches_partly_answered": [g.model_dump() for g in self.searches_partly_answered],
            "overdue_assets": [
                {"title": a.title, "url": a.url, "verifier": a.verifier_id, "due": a.due_at.isoformat(),
                 "days_overdue": a.days_overdue}
                for a in self.overdue_assets
            ],
            "overdue_assets_total": self.overdue_assets_total,
            "mttc_trend": [
                {"week_start": p.week_start.isoformat(), "mean": _round(p.mean), "median": _round(p.median),
                 "count": p.count}
                for p in self.trend
            ],
            "by_owner": [
                {"owner": o.owner_id, "open": o.open, "closed": o.closed.model_dump(), "win_rate": _round(o.win_rate),
                 "mttc_days": _mean_median(o.mttc_days), "stale": o.stale}
                for o in self.owners
            ],
            **({"pilot": {"name": self.pilot.pilot.name, "verdict": self.pilot.verdict,
                          "mttc_days_median": {"pilot": _round(self.pilot.pilot_group.mttc_days.median),
                                               "baseline": _round(self.pilot.baseline_group.mttc_days.median),
                                               "difference": self.pilot.mttc_days_median.model_dump(mode="json")}}}
               if self.pilot else {}),
            **({"interactions": {bucket: f.model_dump() for bucket, f in self.interactions.items()}}
               if self.interactions else {}),
            **({"deliverables": self.deliverables.as_json()} if self.deliverables else {}),
            **({"adoption": self.adoption.as_json(lambda u: self.adoption.names.get(u, u))} if self.adoption else {}),
            **({"assets_in_won_engagements": {
                "since": self.quarter_since.isoformat(),
                "assets": [{"title": a.title, "url": a.url, "won": a.won, "closed": a.closed} for a in self.won_assets]}}
               if self.quarter_since else {}),
        }


def _mean_median(figures: MeanMedian) -> dict[str, Any]:
    return {"mean": _round(figures.mean), "median": _round(figures.median), "count": figures.count}


def _round(value: float | None) -> float | None:
    """Four decimals, as `epos stats --json` prints them."""
    return None if value is None else round(value, 4)
