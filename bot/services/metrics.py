"""Engagement figures: MTTC, dwell per stage, conversion, open counts and ESAT.

One service for `/engagement stats`, `epos stats`, the App Home and the weekly digest. Every figure is an
SQL aggregate (means with AVG; medians with `percentile_cont` on PostgreSQL and a ROW_NUMBER/COUNT
window query on SQLite), so the cost does not grow with Python work per row.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import FunctionElement

from bot import db
from models import Engagement, EsatSurvey, StageChange
from models.base import UTCDateTime
from models.enums import OPEN_STAGES, Outcome, Stage
from models.schemas.engagements import EsatFigures, Figures, TeamMetrics

__all__ = ["EsatFigures", "Figures", "TeamMetrics", "epoch_days", "mttc_trend", "team_metrics"]

STAGE_RANK = {stage: rank for rank, stage in enumerate(Stage)}
ALL = "all"


class epoch_days(FunctionElement[float]):  # noqa: N801 - reads like the SQL function it stands for
    """Days since 1970-01-01 (UTC) of a timestamp column, as a float, in either database."""

    type = Float()
    inherit_cache = True
    name = "epoch_days"


@compiles(epoch_days, "sqlite")
def _epoch_days_sqlite(element: epoch_days, compiler: Any, **kw: Any) -> str:
    return f"(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5)"


@compiles(epoch_days, "postgresql")
def _epoch_days_postgresql(element: epoch_days, compiler: Any, **kw: Any) -> str:
    return f"(CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION) / 86400.0)"


def at(moment: datetime) -> ColumnElement[datetime]:
    """A bound timestamp typed like the columns, so it is stored-and-compared as naive UTC."""
    return literal(moment, UTCDateTime())


def stage_rank(column: Any) -> ColumnElement[int]:
    return case({stage.value: rank for stage, rank in STAGE_RANK.items()}, value=column, else_=-1)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# ----- grouped mean / median ------------------------------------------------------------------------
def _grouped_figures(session: Session, source: Select[Any]) -> dict[Any, Figures]:
    """Figures per group of a select with two columns labelled `grp` and `val` (rows with val NULL are ignored)."""
    sub = source.subquery()
    means = session.execute(
        select(sub.c.grp, func.avg(sub.c.val), func.count(sub.c.val)).where(sub.c.val.is_not(None)).group_by(sub.c.grp)
    ).all()
    medians = _grouped_medians(session, sub)
    return {
        grp: Figures(mean=_float(mean), median=medians.get(grp), count=int(count or 0))
        for grp, mean, count in means
    }


def _grouped_medians(session: Session, sub: Any) -> dict[Any, float | None]:
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            select(sub.c.grp, func.percentile_cont(0.5).within_group(sub.c.val))
            .where(sub.c.val.is_not(None))
            .group_by(sub.c.grp)
        ).all()
    else:
        # The middle row (odd count) or the two middle rows (even count) of each group, averaged.
        ranked = select(
            sub.c.grp,
            sub.c.val,
            func.row_number().over(partition_by=sub.c.grp, order_by=sub.c.val).label("rn"),
            func.count().over(partition_by=sub.c.grp).label("n"),
        ).where(sub.c.val.is_not(None)).subquery()
        middle = or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
        rows = session.execute(select(ranked.c.grp, func.avg(ranked.c.val)).where(middle).group_by(ranked.c.grp)).all()
    return {grp: _float(median) for grp, median in rows}


# ----- the building blocks ---------------------------------------------------------------------------
def _owned(owner_id: str | None) -> list[ColumnElement[bool]]:
    return [Engagement.owner_id == owner_id] if owner_id else []


def effective_changes() -> Select[Any]:
    """Stage changes that stand: neither an undo nor a change taken back by one."""
    taken_back = select(StageChange.reverts_id).where(StageChange.reverts_id.is_not(None))
    return select(StageChange).where(StageChange.reverts_id.is_(None), StageChange.id.not_in(taken_back))


def _closed_in_window(since: datetime, until: datetime, owner_id: str | None) -> list[ColumnElement[bool]]:
    return [
        Engagement.closed_at.is_not(None),
        Engagement.closed_at >= at(since),
        Engagement.closed_at < at(until),
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
    overall = _grouped_figures(session, select(literal(ALL).label("grp"), days.label("val")).where(*window))
    by_outcome = _grouped_figures(session, select(Engagement.outcome.label("grp"), days.label("val")).where(*window))
    return overall.get(ALL, Figures()), {o.value: by_outcome.get(o.value, Figures()) for o in Outcome}


def _stage_dwell(session: Session, since: datetime, until: datetime, owner_id: str | None) -> dict[str, float | None]:
    changes = effective_changes().subquery()
    stints = (
        select(
            changes.c.to_stage.label("stage"),
            changes.c.effective_at.label("entered"),
            func.lead(changes.c.effective_at)
            .over(partition_by=changes.c.engagement_id, order_by=(changes.c.effective_at, changes.c.id))
            .label("left"),
        )
        .join(Engagement, Engagement.id == changes.c.engagement_id)
        .where(*_owned(owner_id))
        .subquery()
    )
    completed = select(
        stints.c.stage.label("grp"), (epoch_days(stints.c.left) - epoch_days(stints.c.entered)).label("val")
    ).where(
        stints.c.left.is_not(None),
        stints.c.left >= at(since),
        stints.c.left < at(until),
        stints.c.stage != Stage.closed.value,
    )
    medians = _grouped_medians(session, completed.subquery())
    return {stage.value: medians.get(stage.value) for stage in OPEN_STAGES}


def _stage_conversion(session: Session, since: datetime, until: datetime, owner_id: str | None) -> dict[str, float | None]:
    changes = effective_changes().subquery()
    entry, later = aliased(changes, name="entry"), aliased(changes, name="later")
    moved_on = and_(
        later.c.engagement_id == entry.c.engagement_id,
        or_(
            later.c.effective_at > entry.c.effective_at,
            and_(later.c.effective_at == entry.c.effective_at, later.c.id > entry.c.id),
        ),
        later.c.effective_at < at(until),
        stage_rank(later.c.to_stage) > stage_rank(entry.c.to_stage),
        or_(later.c.to_stage != Stage.closed.value, later.c.outcome == Outcome.won.value),
    )
    rows = session.execute(
        select(
            entry.c.to_stage,
            func.count(entry.c.engagement_id.distinct()),
            func.count(later.c.engagement_id.distinct()),
        )
        .select_from(entry)
        .join(Engagement, Engagement.id == entry.c.engagement_id)
        .outerjoin(later, moved_on)
        .where(
            entry.c.to_stage != Stage.closed.value,
            entry.c.effective_at >= at(since),
            entry.c.effective_at < at(until),
            *_owned(owner_id),
        )
        .group_by(entry.c.to_stage)
    ).all()
    shares = {str(stage): (advanced / entered if entered else None) for stage, entered, advanced in rows}
    return {stage.value: shares.get(stage.value) for stage in OPEN_STAGES}


def _open_by_stage(session: Session, until: datetime, owner_id: str | None) -> dict[str, int]:
    latest = (
        select(
            StageChange.to_stage.label("stage"),
            func.row_number()
            .over(partition_by=StageChange.engagement_id, order_by=(StageChange.effective_at.desc(), StageChange.id.desc()))
            .label("rn"),
        )
        .join(Engagement, Engagement.id == StageChange.engagement_id)
        .where(StageChange.effective_at < at(until), *_owned(owner_id))
        .subquery()
    )
    rows = session.execute(
        select(latest.c.stage, func.count())
        .where(latest.c.rn == 1, latest.c.stage != Stage.closed.value)
        .group_by(latest.c.stage)
    ).all()
    counts = {str(stage): int(count) for stage, count in rows}
    return {stage.value: counts.get(stage.value, 0) for stage in OPEN_STAGES}


def _esat(session: Session, since: datetime, until: datetime, owner_id: str | None) -> EsatFigures:
    mean, count = session.execute(
        select(func.avg(EsatSurvey.score), func.count(EsatSurvey.score))
        .join(Engagement, Engagement.id == EsatSurvey.engagement_id)
        .where(EsatSurvey.score.is_not(None), *_closed_in_window(since, until, owner_id))
    ).one()
    return EsatFigures(mean=_float(mean), count=int(count or 0))


# ----- the public interface ----------------------------------------------------------------------------
def team_metrics(since: datetime, until: datetime, *, owner_id: str | None = None) -> TeamMetrics:
    """Every figure for the window [since, until), for one owner SE or (owner_id None) the whole team."""
    if until <= since:
        raise ValueError("the window must end after it starts")
    with db.reading() as session:
        closed = _closed_counts(session, since, until, owner_id)
        mttc, by_outcome = _mttc(session, since, until, owner_id)
        dwell = _stage_dwell(session, since, until, owner_id)
        conversion = _stage_conversion(session, since, until, owner_id)
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
        Engagement.closed_at >= at(starts[0]), Engagement.closed_at < at(until)
    )
    with db.reading() as session:
        per_week: Mapping[Any, Figures] = _grouped_figures(session, source)
    return [(start.date(), per_week.get(index, Figures())) for index, start in enumerate(starts)]
