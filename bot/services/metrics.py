"""Engagement figures: MTTC, dwell per stage, conversion, open counts and ESAT.

One service for `/engagement stats`, `epos stats`, the App Home and the weekly digest. Counts, MTTC and
ESAT are SQL aggregates (mean, count and median in one statement: `percentile_cont` on PostgreSQL; on
SQLite the middle values read in order from the middle position, or a ROW_NUMBER/COUNT window for many
groups at once). Dwell and conversion are aggregates too, over the stage stints that
every write to the stage log keeps up to date (bot/services/stints.py), so a window costs about its
share of the log, not the whole log (docs/performance.md).

Definitions (README › Engagements › Figures):
- MTTC days = (closed_at − opened_at) in days. An engagement counts in the window [since, until) that
  contains its closed_at.
- Dwell in a stage = effective_at of the change that left it − effective_at of the change that entered it.
  Only completed stints count, in the window containing the moment the stage was left. Dates are the
  effective ones (a backdated change counts at the date it happened, not when it was logged). An undo
  and the change it took back are both left out, so a slip of the finger leaves no trace in the figures.
- Conversion of a stage = of the engagements that entered it in the window, the share that later (before
  `until`) entered a later stage, or closed won.
- Open by stage = engagements open at `until`, per stage, read from the stage log.
- ESAT = mean and count of the ratings of engagements closed in the window.
- By challenge = per business challenge of the challenge map, the closes in the window by outcome, and
  from MIN_CLOSED_FOR_RATES of them on their win rate and MTTC.
Practice engagements count in none of them: every read here names `counted()` (or reads the stints,
which practice engagements have none of).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from bot import db
from bot.services.medians import (
    figures_with_groups,
    grouped_figures,
    grouped_medians,
    medians_in_index_order,
    optional_float,
)
from bot.services.sql import STAGE_RANK, at, epoch_days, stage_rank, unindexed
from models import AssetShare, Engagement, EsatSurvey, StageChange, StageStint
from models.engagements import counted
from models.enums import OPEN_STAGES, Outcome, Stage
from models.schemas.engagements import ChallengeFigures, EsatFigures, Figures, OwnerTotals, TeamMetrics
from models.schemas.pilots import GroupFigures, InteractionFigures

# The SQL expressions are named from here too, where the figures that use them were first written.
__all__ = ["STAGE_RANK", "EsatFigures", "Figures", "OwnerTotals", "TeamMetrics", "at", "challenge_figures",
           "closes", "cohort_metrics", "cohort_mttc_trend", "effective_changes", "epoch_days", "interaction_figures",
           "mttc", "mttc_trend",
           "owner_totals", "stage_rank", "team_metrics"]


# ----- the building blocks ---------------------------------------------------------------------------
def _owned(owner_id: str | None) -> list[ColumnElement[bool]]:
    return [Engagement.owner_id == owner_id] if owner_id else []


def effective_changes() -> Select[Any]:
    """Stage changes that stand: neither an undo nor a change taken back by one."""
    undo = aliased(StageChange)
    # NOT EXISTS rather than NOT IN: PostgreSQL plans an anti-join for it, where NOT IN over a whole log
    # falls back to scanning the undos once per change when it cannot hash them in work_mem.
    taken_back = select(undo.id).where(undo.reverts_id == StageChange.id).exists()
    return select(StageChange).where(StageChange.reverts_id.is_(None), ~taken_back)


def _closed_in_window(since: datetime, until: datetime, owner_id: str | None) -> list[ColumnElement[bool]]:
    return [
        Engagement.closed_at.is_not(None),
        Engagement.closed_at >= at(since),
        Engagement.closed_at < at(until),
        counted(),
        *_owned(owner_id),
    ]


def _closed_counts(session: Session, since: datetime, until: datetime, owner_id: str | None) -> dict[str, int]:
    rows = session.execute(
        select(Engagement.outcome, func.count())
        .where(*_closed_in_window(since, until, owner_id))
        .group_by(Engagement.outcome)
    ).all()
    counts = {outcome.value: 0 for outcome in Outcome}
    for outcome, count in rows:
        if outcome is not None:
            counts[str(outcome)] = int(count)
    return counts


def _mttc(session: Session, since: datetime, until: datetime, owner_id: str | None) -> tuple[Figures, dict[str, Figures]]:
    days = epoch_days(Engagement.closed_at) - epoch_days(Engagement.opened_at)
    window = _closed_in_window(since, until, owner_id)
    outcomes = [o.value for o in Outcome]
    overall, by_outcome = figures_with_groups(session, select(Engagement.outcome.label("grp"), days.label("val")).where(*window),
                                   outcomes)
    return overall, {outcome: by_outcome.get(outcome, Figures()) for outcome in outcomes}


def _stage_log_figures(
    session: Session, since: datetime, until: datetime, owner_id: str | None
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Median dwell and conversion per open stage: aggregates over the stints (bot/services/stints.py),
    each read by the one date its figure depends on, so a window costs its share of the log."""
    scope = [StageStint.engagement_id.in_(select(Engagement.id).where(*_owned(owner_id)))] if owner_id else []
    # Naming the stages lets the indexes, which lead with the stage, seek each stage's share of the window.
    scope.append(StageStint.stage.in_([stage.value for stage in OPEN_STAGES]))
    def dwell_of_stints_left(left_at: ColumnElement[datetime]) -> Any:
        return select(StageStint.stage.label("grp"), StageStint.dwell_days.label("val")).where(
            left_at >= at(since), left_at < at(until), *scope
        ).subquery()

    dwell_source = dwell_of_stints_left(StageStint.left_at)
    if session.get_bind().dialect.name == "postgresql":
        medians = grouped_medians(session, dwell_source)
    else:
        counts = session.execute(
            select(dwell_source.c.grp, func.count(dwell_source.c.val)).group_by(dwell_source.c.grp)
        ).all()
        # Counted through the index that seeks the window, but the middle values are read through the one
        # that keeps each stage's stints in dwell order: SQLite then steps to the middle instead of sorting
        # the window (over all time about 0.05 s a stage instead of 0.4 s). It would pick the seek, so the
        # window's dates are kept off the index there.
        in_dwell_order = dwell_of_stints_left(unindexed(StageStint.left_at))
        medians = medians_in_index_order(session, in_dwell_order, dict(counts))
    # Each engagement that entered a stage in the window is counted once, by its first stint there in the
    # window: the one whose previous entry (if any) came before `since`. That stint is also the one that
    # tells whether the engagement went further before `until`: a later stint's "went beyond" comes no
    # earlier (it is the first such change after a later entry). So both are plain counts over one
    # index, where distinct counts sorted or hashed every stint entered in the window.
    first_in_window = or_(StageStint.previous_entered_at.is_(None), StageStint.previous_entered_at < at(since))
    advanced = case((StageStint.advanced_at < at(until), 1), else_=None)
    entries = session.execute(
        select(StageStint.stage, func.count(), func.count(advanced))
        .where(StageStint.entered_at >= at(since), StageStint.entered_at < at(until), first_in_window, *scope)
        .group_by(StageStint.stage)
    ).all()
    converted = {str(stage): advanced_count / entered_count for stage, entered_count, advanced_count in entries}
    dwell = {stage.value: medians.get(stage.value) for stage in OPEN_STAGES}
    conversion = {stage.value: converted.get(stage.value) for stage in OPEN_STAGES}
    return dwell, conversion


def _open_by_stage(session: Session, until: datetime, owner_id: str | None) -> dict[str, int]:
    counts = _open_counts(session, until, owner_id, by_owner=False)
    return {stage.value: counts.get(stage.value, 0) for stage in OPEN_STAGES}


def _open_counts(session: Session, until: datetime, owner_id: str | None, *, by_owner: bool) -> dict[Any, int]:
    """Engagements open at `until` per stage (or per owner), read from the stage log: the stage of each
    engagement's latest change before `until`.

    Engagements still closed that closed before `until` are left out without reading their log: the log
    never goes back before an engagement's last change, so their close is their latest change."""
    latest_stage = (
        select(StageChange.to_stage)
        .where(StageChange.engagement_id == Engagement.id, StageChange.effective_at < at(until))
        .order_by(StageChange.effective_at.desc(), StageChange.id.desc())
        .limit(1)
        .correlate(Engagement)
        .scalar_subquery()
    )
    # Grouped over a materialized CTE: grouping on the subquery's value directly makes PostgreSQL run it
    # once per reference (three times a row), and the estimate of that alone switches on its JIT compiler.
    latest = (
        select(Engagement.owner_id.label("owner_id"), latest_stage.label("stage"))
        .where(
            or_(Engagement.stage != Stage.closed.value, Engagement.closed_at.is_(None),
                Engagement.closed_at >= at(until)),
            counted(),
            *_owned(owner_id),
        )
        .cte("latest")
        .prefix_with("MATERIALIZED")
    )
    group = latest.c.owner_id if by_owner else latest.c.stage
    rows = session.execute(
        select(group, func.count())
        .where(latest.c.stage.is_not(None), latest.c.stage != Stage.closed.value)
        .group_by(group)
    ).all()
    return {str(key): int(count) for key, count in rows}


def _esat(session: Session, since: datetime, until: datetime, owner_id: str | None) -> EsatFigures:
    mean, count = session.execute(
        select(func.avg(EsatSurvey.score), func.count(EsatSurvey.score))
        .join(Engagement, Engagement.id == EsatSurvey.engagement_id)
        .where(EsatSurvey.score.is_not(None), *_closed_in_window(since, until, owner_id))
    ).one()
    return EsatFigures(mean=optional_float(mean), count=int(count or 0))


# ----- the public interface ----------------------------------------------------------------------------
def team_metrics(since: datetime, until: datetime, *, owner_id: str | None = None) -> TeamMetrics:
    """Every figure for the window [since, until), for one owner SE or (owner_id None) the whole team."""
    if until <= since:
        raise ValueError("the window must end after it starts")
    with db.reading() as session:
        closed = _closed_counts(session, since, until, owner_id)
        mttc, by_outcome = _mttc(session, since, until, owner_id)
        dwell, conversion = _stage_log_figures(session, since, until, owner_id)
        open_by_stage = _open_by_stage(session, until, owner_id)
        esat = _esat(session, since, until, owner_id)
    total = sum(closed.values())
    return TeamMetrics(
        since=since,
        until=until,
        owner_id=owner_id,
        closed=closed,
        win_rate=closed[Outcome.won.value] / total if total else None,
        mttc_days=mttc,
        mttc_by_outcome=by_outcome,
        stage_dwell_days_median=dwell,
        stage_conversion=conversion,
        open_by_stage=open_by_stage,
        esat=esat,
    )


def mttc(since: datetime, until: datetime, *, owner_id: str | None = None) -> Figures:
    """MTTC of the engagements closed in [since, until), alone: what the digest's trailing figures need."""
    if until <= since:
        raise ValueError("the window must end after it starts")
    days = epoch_days(Engagement.closed_at) - epoch_days(Engagement.opened_at)
    with db.reading() as session:
        return figures_with_groups(session, select(days.label("val")).where(*_closed_in_window(since, until, owner_id)))[0]


def closes(since: datetime, until: datetime) -> tuple[dict[str, int], Figures]:
    """The team's engagements closed in [since, until) by outcome, and their MTTC: what a part of the team's
    work (the engagements an asset was used in, say) is compared with."""
    if until <= since:
        raise ValueError("the window must end after it starts")
    with db.reading() as session:
        return _closed_counts(session, since, until, None), _mttc(session, since, until, None)[0]


def owner_totals(since: datetime, until: datetime) -> dict[str, OwnerTotals]:
    """Per SE, in three grouped queries rather than a team_metrics call each: engagements closed in
    [since, until) by outcome and their MTTC, and engagements open at `until`. SEs with none are absent."""
    if until <= since:
        raise ValueError("the window must end after it starts")
    days = epoch_days(Engagement.closed_at) - epoch_days(Engagement.opened_at)
    window = _closed_in_window(since, until, None)
    with db.reading() as session:
        closed_rows = session.execute(
            select(Engagement.owner_id, Engagement.outcome, func.count())
            .where(*window)
            .group_by(Engagement.owner_id, Engagement.outcome)
        ).all()
        mttc_by_owner = grouped_figures(session, select(Engagement.owner_id.label("grp"), days.label("val")).where(*window))
        open_by_owner = _open_counts(session, until, None, by_owner=True)
    closed: dict[str, dict[str, int]] = {}
    for owner_id, outcome, count in closed_rows:
        counts = closed.setdefault(owner_id, {o.value: 0 for o in Outcome})
        if outcome is not None:
            counts[str(outcome)] = int(count)
    return {
        owner_id: OwnerTotals(
            owner_id=owner_id,
            closed=closed.get(owner_id, {o.value: 0 for o in Outcome}),
            mttc_days=mttc_by_owner.get(owner_id, Figures()),
            open=open_by_owner.get(owner_id, 0),
        )
        for owner_id in sorted(set(closed) | set(open_by_owner))
    }


def week_starts(weeks: int, *, until: datetime, tz: ZoneInfo) -> list[datetime]:
    """Local Monday 00:00 of the `weeks` ISO weeks ending with the week holding the instant before `until`."""
    last_instant = (until - timedelta(microseconds=1)).astimezone(tz)
    last_monday = last_instant.date() - timedelta(days=last_instant.weekday())
    mondays = [last_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    return [datetime.combine(monday, time(0), tzinfo=tz) for monday in mondays]


def mttc_trend(weeks: int, *, until: datetime, tz: ZoneInfo) -> list[tuple[date, Figures]]:
    """MTTC per ISO week (in `tz`), oldest first: each week's Monday and the figures of engagements closed
    in it. The last week ends at `until`, so a digest sent on Monday morning sees the week just ended."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    starts = week_starts(weeks, until=until, tz=tz)
    ends = [*starts[1:], until]
    bucket = case(
        *[
            (and_(Engagement.closed_at >= at(start), Engagement.closed_at < at(end)), index)
            for index, (start, end) in enumerate(zip(starts, ends, strict=True))
        ],
        else_=None,
    )
    days = epoch_days(Engagement.closed_at) - epoch_days(Engagement.opened_at)
    source = select(bucket.label("grp"), days.label("val")).where(
        Engagement.closed_at >= at(starts[0]), Engagement.closed_at < at(until), counted()
    )
    with db.reading() as session:
        per_week: Mapping[Any, Figures] = grouped_figures(session, source)
    return [(start.date(), per_week.get(index, Figures())) for index, start in enumerate(starts)]


# ----- cohorts: a set of engagements chosen by who owned them and when they opened -------------------
def _cohort_days() -> ColumnElement[float]:
    return epoch_days(Engagement.closed_at) - epoch_days(Engagement.opened_at)


def cohort_metrics(cohort: ColumnElement[bool]) -> tuple[GroupFigures, list[tuple[float, bool]]]:
    """The figures of the engagements matching `cohort` (however far they have got), and each closed one's
    (MTTC days, won) for the statistics that resample them. Closed means closed now: a reopened engagement
    counts by its latest close, or as open."""
    cohort = and_(cohort, counted())
    closed = [cohort, Engagement.closed_at.is_not(None)]
    with db.reading() as session:
        total = int(session.scalar(select(func.count()).select_from(Engagement).where(cohort)) or 0)
        counts = {o.value: 0 for o in Outcome}
        for outcome, count in session.execute(
            select(Engagement.outcome, func.count()).where(*closed).group_by(Engagement.outcome)
        ).all():
            if outcome is not None:
                counts[str(outcome)] = int(count)
        mttc_days = figures_with_groups(session, select(_cohort_days().label("val")).where(*closed))[0]
        durations = [(float(days), outcome == Outcome.won.value) for days, outcome in session.execute(
            select(_cohort_days(), Engagement.outcome).where(*closed).order_by(Engagement.id)).all()]
        dwell = grouped_medians(session, select(StageStint.stage.label("grp"), StageStint.dwell_days.label("val")).where(
            StageStint.left_at.is_not(None), StageStint.stage.in_([s.value for s in OPEN_STAGES]),
            StageStint.engagement_id.in_(select(Engagement.id).where(cohort))).subquery())
        mean, count = session.execute(
            select(func.avg(EsatSurvey.score), func.count(EsatSurvey.score))
            .join(Engagement, Engagement.id == EsatSurvey.engagement_id).where(EsatSurvey.score.is_not(None), *closed)
        ).one()
    closed_total = sum(counts.values())
    figures = GroupFigures(
        engagements=total, closed=counts, mttc_days=mttc_days,
        win_rate=counts[Outcome.won.value] / closed_total if closed_total else None,
        stage_dwell_days_median={stage.value: dwell.get(stage.value) for stage in OPEN_STAGES},
        esat=EsatFigures(mean=optional_float(mean), count=int(count or 0)),
    )
    return figures, durations


def cohort_mttc_trend(cohort: ColumnElement[bool], ends: Sequence[datetime], trailing: timedelta) -> list[Figures]:
    """For each moment in `ends`, the MTTC of the cohort's engagements closed in the `trailing` time before it.

    The windows overlap, so each is its own part of one UNION ALL rather than a bucket of one CASE."""
    if not ends:
        return []
    cohort = and_(cohort, counted())
    parts = [select(literal(index).label("grp"), _cohort_days().label("val")).where(
        cohort, Engagement.closed_at >= at(end - trailing), Engagement.closed_at < at(end))
        for index, end in enumerate(ends)]
    with db.reading() as session:
        per_end = grouped_figures(session, union_all(*parts))  # type: ignore[arg-type]
    return [per_end.get(index, Figures()) for index in range(len(ends))]


# ----- interactions: how many field assets an engagement used ------------------------------------------
INTERACTION_BUCKETS = ("0", "1", "2+")


def interactions_used() -> ColumnElement[int]:
    """Per engagement, the field assets shared into it (each asset once, however often it was shared)."""
    return (select(func.count(func.distinct(AssetShare.asset_id))).where(AssetShare.engagement_id == Engagement.id)
            .correlate(Engagement).scalar_subquery())


def interaction_figures(since: datetime, until: datetime) -> dict[str, InteractionFigures]:
    """For the engagements closed in [since, until) that used 0, 1 and 2 or more interactions: how many
    closed, their win rate and median MTTC. Does "fewer interactions" hold for this team?"""
    used = interactions_used()
    source = select(case((used == 0, "0"), (used == 1, "1"), else_="2+").label("grp"), Engagement.outcome,
                    _cohort_days().label("val")).where(*_closed_in_window(since, until, None))
    sub = source.subquery()
    with db.reading() as session:
        counts = {str(grp): (int(total), int(won)) for grp, total, won in session.execute(
            select(sub.c.grp, func.count(), func.count(case((sub.c.outcome == Outcome.won.value, 1))))
            .group_by(sub.c.grp)
        ).all()}
        medians = grouped_figures(session, select(sub.c.grp, sub.c.val))
    figures = {}
    for name in INTERACTION_BUCKETS:
        total, won = counts.get(name, (0, 0))
        figures[name] = InteractionFigures(closed=total, win_rate=won / total if total else None,
                                           mttc_days_median=medians.get(name, Figures()).median)
    return figures


# ----- business challenges: how deals with each challenge of the map did -----------------------------------
# A rate or a mean over fewer closes than this says more about chance than about the challenge.
MIN_CLOSED_FOR_RATES = 5


def challenge_figures(since: datetime, until: datetime) -> dict[str, ChallengeFigures]:
    """Per challenge of the map (its id), the engagements closed in [since, until) by outcome, and with at
    least MIN_CLOSED_FOR_RATES of them, their win rate and MTTC. Challenges with no close are absent."""
    if until <= since:
        raise ValueError("the window must end after it starts")
    window = [*_closed_in_window(since, until, None), Engagement.challenge_id.is_not(None)]
    with db.reading() as session:
        rows = session.execute(
            select(Engagement.challenge_id, Engagement.outcome, func.count())
            .where(*window).group_by(Engagement.challenge_id, Engagement.outcome)
        ).all()
        mttc = grouped_figures(session, select(Engagement.challenge_id.label("grp"), _cohort_days().label("val"))
                               .where(*window))
    closed: dict[str, dict[str, int]] = {}
    for challenge_id, outcome, count in rows:
        counts = closed.setdefault(str(challenge_id), {o.value: 0 for o in Outcome})
        if outcome is not None:
            counts[str(outcome)] = int(count)
    figures = {}
    for challenge_id, counts in sorted(closed.items()):
        total = sum(counts.values())
        if total < MIN_CLOSED_FOR_RATES:
            figures[challenge_id] = ChallengeFigures(closed=counts)
            continue
        figures[challenge_id] = ChallengeFigures(closed=counts, win_rate=counts[Outcome.won.value] / total,
                                                 mttc_days=mttc.get(challenge_id, Figures()))
    return figures
