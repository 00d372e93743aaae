"""SQL expressions that read the same in SQLite and PostgreSQL: timestamps as days, bound moments typed
like the columns, an index kept out of a seek, and the order of the stages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from models.base import UTCDateTime
from models.enums import Stage

STAGE_RANK = {stage: rank for rank, stage in enumerate(Stage)}


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
    # date_part, not EXTRACT: since PostgreSQL 14 EXTRACT returns numeric, whose arithmetic is several times
    # slower than double precision over a whole window of rows.
    return f"(date_part('epoch', {compiler.process(element.clauses, **kw)}) / 86400.0)"


class unindexed(FunctionElement[datetime]):  # noqa: N801 - reads like an SQL operator
    """A timestamp column that SQLite must not seek by an index (SQLite's unary `+`): the planner then
    picks an index that serves the ORDER BY instead. Plain elsewhere."""

    type = UTCDateTime()
    inherit_cache = True
    name = "unindexed"


@compiles(unindexed)
def _unindexed_default(element: unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def at(moment: datetime) -> ColumnElement[datetime]:
    """A bound timestamp typed like the columns, so it is stored-and-compared as naive UTC."""
    return literal(moment, UTCDateTime())


def stage_rank(column: Any) -> ColumnElement[int]:
    return case({stage.value: rank for stage, rank in STAGE_RANK.items()}, value=column, else_=-1)

