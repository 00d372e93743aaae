"""When the scheduler would act while `:wait` lets time pass.

In production the scheduler ticks every minute. Over a wait of days that is thousands of ticks, so
`epos try` ticks on whole quarter hours (every minute for waits of two hours or less) and, in
between, at the exact instants timers stored in the database fall due (a DevRel escalation, a
meeting reminder, an ESAT reminder). Nudges and the digest are due at whole hours in local time,
which quarter hours always hit; so everything fires when it would have, and each tick only decides
*whether* to act from the database, as it does in production.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot import db
from models import DevRelRequest, EsatSurvey

FINE_STEP = timedelta(minutes=1)
COARSE_STEP = timedelta(minutes=15)
FINE_UP_TO = timedelta(hours=2)


def step_for(duration: timedelta) -> timedelta:
    return FINE_STEP if duration <= FINE_UP_TO else COARSE_STEP


def next_boundary(moment: datetime, step: timedelta) -> datetime:
    """The first whole step of the clock strictly after `moment` (10:07 → 10:15 for quarter hours)."""
    minutes = int(step.total_seconds() // 60)
    floor = moment.replace(second=0, microsecond=0)
    floor -= timedelta(minutes=floor.minute % minutes)
    return floor + step


def timers_due(after: datetime, until: datetime) -> list[datetime]:
    """Stored timer instants in (after, until], earliest first. Finished requests may still carry one;
    a tick at such an instant simply finds nothing to do."""
    columns = (DevRelRequest.escalate_at, DevRelRequest.remind_at, EsatSurvey.remind_at)
    found: set[datetime] = set()
    with db.reading() as session:
        for column in columns:
            statement = select(column).where(column.is_not(None), column > after, column <= until)
            found.update(session.scalars(statement))
    return sorted(found)


def next_tick(moment: datetime, end: datetime, step: timedelta) -> datetime:
    """Where the clock stops next: the next boundary, an earlier stored timer, or the end of the wait."""
    boundary = min(next_boundary(moment, step), end)
    timers = timers_due(moment, boundary)
    return timers[0] if timers else boundary
