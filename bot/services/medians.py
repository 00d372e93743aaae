"""Mean, median and count of a set of values, and of groups of it, each in one statement.

PostgreSQL has `percentile_cont`; on SQLite the middle values are read in order from the middle
position, or ranked with a ROW_NUMBER/COUNT window when many groups are wanted at once. The sources are
selects with a column labelled `val` and, for groups, one labelled `grp` (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from models.schemas.engagements import Figures


def optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


# ----- grouped mean / median ------------------------------------------------------------------------
def grouped_figures(session: Session, source: Select[Any]) -> dict[Any, Figures]:
    """Figures per group of a select with two columns labelled `grp` and `val` (rows with val NULL are ignored).

    Mean, count and median come from one statement, so the source is read once."""
    sub = source.subquery()
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            select(sub.c.grp, func.avg(sub.c.val), func.count(sub.c.val),
                   func.percentile_cont(0.5).within_group(sub.c.val))
            .where(sub.c.val.is_not(None))
            .group_by(sub.c.grp)
        ).all()
    else:
        ranked = _ranked(sub)
        middle = case((_middle(ranked), ranked.c.val), else_=None)
        rows = session.execute(
            select(ranked.c.grp, func.avg(ranked.c.val), func.count(ranked.c.val), func.avg(middle))
            .group_by(ranked.c.grp)
        ).all()
    return {
        grp: Figures(mean=optional_float(mean), median=optional_float(median), count=int(count or 0))
        for grp, mean, count, median in rows
    }


def _middle_of(ordered: Select[Any], count: Any) -> Select[Any]:
    """The middle value (odd count) or the two middle values (even count) of `count` values read in
    order; `count` is a number or a scalar subquery."""
    return ordered.limit(2 - count % 2).offset((count - 1) // 2)


def medians_in_index_order(session: Session, sub: Any, counts: Mapping[Any, int]) -> dict[Any, float | None]:
    """Median per group of a grp/val subquery on SQLite, given each group's count, for a source that an
    index keeps in `val` order per group: each group's middle value(s) are then one short step through
    the index (ORDER BY ... LIMIT ... OFFSET) instead of a sort of the whole source."""
    medians: dict[Any, float | None] = {}
    for grp, count in counts.items():
        if not count:
            continue
        middle = session.scalars(
            _middle_of(select(sub.c.val).where(sub.c.grp == grp, sub.c.val.is_not(None)).order_by(sub.c.val), count)
        ).all()
        medians[grp] = sum(middle) / len(middle)
    return medians


def figures_with_groups(session: Session, source: Select[Any], groups: Sequence[str] = ()
             ) -> tuple[Figures, dict[str, Figures]]:
    """Mean, median and count of one set of values, and of the named groups of it: a select with a column
    labelled `val` and, when groups are asked for, one labelled `grp`. Groups with no values are absent.

    One statement, which computes each value once: PostgreSQL would otherwise compute `val` again for
    every aggregate that reads it (twice the time over all time)."""
    if session.get_bind().dialect.name == "postgresql":
        # OFFSET 0 keeps the planner from pulling the subquery up into the aggregates.
        values = source.offset(0).subquery()

        def aggregates(*where: ColumnElement[bool]) -> list[Any]:
            median = func.percentile_cont(0.5).within_group(values.c.val)
            if not where:
                return [func.avg(values.c.val), func.count(values.c.val), median]
            return [func.avg(values.c.val).filter(*where), func.count(values.c.val).filter(*where),
                    median.filter(*where)]

        # Each group's aggregates are FILTERed in the same scan: grouping instead sorted the values by
        # group (on disk at the default work_mem) before sorting each group again for its median.
        row = session.execute(
            select(*aggregates(), *[aggregate for group in groups for aggregate in aggregates(values.c.grp == group)])
            .where(values.c.val.is_not(None))
        ).one()
        rows = [(label, *row[3 * i:3 * i + 3]) for i, label in enumerate([None, *groups])]
    else:
        rows = _sqlite_figures(session, source, groups)
    figures = {grp: Figures(mean=optional_float(mean), median=optional_float(median), count=int(count or 0))
               for grp, mean, count, median in rows}
    return figures.pop(None), {grp: figure for grp, figure in figures.items() if figure.count}


def _sqlite_figures(session: Session, source: Select[Any], groups: Sequence[str]) -> list[Any]:
    """(label, mean, count, median) of the whole set (label None) and of each group, in one statement.

    The values are read once into a materialized CTE. Each set's middle value(s) are its values in order
    from the middle position on (ORDER BY ... LIMIT ... OFFSET by its count), for which SQLite keeps only
    half the set while sorting; ranking every value with a window function instead cost two sorts and a
    temporary table per set (docs/performance.md)."""
    sub = source.subquery()
    kept = (select(*([sub.c.grp] if groups else []), sub.c.val).where(sub.c.val.is_not(None))
            .cte("kept").prefix_with("MATERIALIZED"))

    def figures_of(label: str | None, *where: ColumnElement[bool]) -> Select[Any]:
        n = select(func.count()).select_from(kept).where(*where).scalar_subquery()
        middle = _middle_of(select(kept.c.val).where(*where).order_by(kept.c.val), n).subquery()
        return select(literal(label).label("grp"), func.avg(kept.c.val), func.count(kept.c.val),
                      select(func.avg(middle.c.val)).scalar_subquery()).where(*where)

    return list(session.execute(
        union_all(figures_of(None), *[figures_of(group, kept.c.grp == group) for group in groups])
    ).all())


def _ranked(sub: Any) -> Any:
    """Each non-NULL value of a grp/val source with its rank in its group and the group's size."""
    return select(
        sub.c.grp,
        sub.c.val,
        func.row_number().over(partition_by=sub.c.grp, order_by=sub.c.val).label("rn"),
        func.count().over(partition_by=sub.c.grp).label("n"),
    ).where(sub.c.val.is_not(None)).subquery()


def _middle(ranked: Any) -> ColumnElement[bool]:
    """The middle row (odd count) or the two middle rows (even count) of a group."""
    return or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)


def grouped_medians(session: Session, sub: Any) -> dict[Any, float | None]:
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            select(sub.c.grp, func.percentile_cont(0.5).within_group(sub.c.val))
            .where(sub.c.val.is_not(None))
            .group_by(sub.c.grp)
        ).all()
    else:
        # The middle row (odd count) or the two middle rows (even count) of each group, averaged.
        ranked = _ranked(sub)
        rows = session.execute(
            select(ranked.c.grp, func.avg(ranked.c.val)).where(_middle(ranked)).group_by(ranked.c.grp)
        ).all()
    return {grp: optional_float(median) for grp, median in rows}
