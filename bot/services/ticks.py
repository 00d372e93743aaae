"""When each scheduler last ticked: a running scheduler is one whose tick an admin can see."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from bot import db
from models import SchedulerTick

# A scheduler that has not ticked for this long has stopped (or lost its database).
STOPPED_AFTER = timedelta(minutes=10)
FORGET_AFTER = timedelta(days=7)


# A tick is nobody's answer: its record may wait out a writer that holds the lock a while (an import's
# batch on SQLite), where a person's save gives up sooner. Well inside the scheduler's misfire grace.
RECORD_WAIT_SECONDS = 15.0


def record(owner: str, now: datetime) -> None:
    statement = db.insert(SchedulerTick).values(owner=owner[:128], ticked_at=now)
    statement = statement.on_conflict_do_update(index_elements=[SchedulerTick.owner], set_={"ticked_at": now})
    with db.within(RECORD_WAIT_SECONDS) as session:
        session.execute(statement)


def last() -> datetime | None:
    with db.reading() as session:
        return session.scalar(select(func.max(SchedulerTick.ticked_at)))


def forget_before(cutoff: datetime) -> int:
    with db.transaction() as session:
        return session.execute(delete(SchedulerTick).where(SchedulerTick.ticked_at < cutoff)).rowcount
