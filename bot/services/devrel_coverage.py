"""DevRel coverage for the digest: how many requests found a DevRel person, and how fast."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from bot import db
from models import DevRelRequest
from models.enums import RequestState
from models.schemas.devrel import (
    OPEN_STATES,
    DevRelCoverage,
)


def _minutes_to_accept() -> Any:
    if db.dialect() == "postgresql":
        return func.extract("epoch", DevRelRequest.accepted_at - DevRelRequest.created_at) / 60.0
    return (func.julianday(DevRelRequest.accepted_at) - func.julianday(DevRelRequest.created_at)) * 1440.0


def coverage(since: datetime, until: datetime) -> DevRelCoverage:
    """DevRel coverage of the requests created in [since, until), for the digest."""
    in_window = and_(DevRelRequest.created_at >= since, DevRelRequest.created_at < until)
    one, zero = literal(1), literal(0)
    with db.reading() as session:
        totals = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((DevRelRequest.accepted_at.is_not(None), one), else_=zero)), 0),
                func.coalesce(func.sum(case(
                    (and_(DevRelRequest.state == RequestState.cancelled, DevRelRequest.accepted_at.is_(None)), one),
                    else_=zero)), 0),
                func.coalesce(func.sum(case(
                    (DevRelRequest.state == RequestState.expired, one),
                    (and_(DevRelRequest.state.in_([str(s) for s in OPEN_STATES]), DevRelRequest.meeting_start <= until), one),
                    else_=zero)), 0),
            ).where(in_window)
        ).one()
        requests, accepted, cancelled, unanswered = (int(v or 0) for v in totals)
        median = _median_minutes(session, and_(in_window, DevRelRequest.accepted_at.is_not(None)), accepted)
    rated = requests - cancelled
    return DevRelCoverage(
        since=since, until=until, requests=requests, accepted=accepted, cancelled=cancelled, unanswered=unanswered,
        accept_rate=round(accepted / rated, 4) if rated > 0 else None,
        median_minutes_to_accept=round(median, 1) if median is not None else None,
    )


def _median_minutes(session: Session, condition: Any, count: int) -> float | None:
    if count == 0:
        return None
    minutes = _minutes_to_accept()
    if db.dialect() == "postgresql":
        value = session.scalar(select(func.percentile_cont(0.5).within_group(minutes)).where(condition))
        return float(value) if value is not None else None
    # SQLite has no percentile: read the one or two middle values in order.
    middle = session.scalars(
        select(minutes).where(condition).order_by(minutes).offset((count - 1) // 2).limit(2 - count % 2)
    ).all()
    return sum(float(v) for v in middle) / len(middle) if middle else None
