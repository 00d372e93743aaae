"""De-duplication of Slack deliveries: a retried event or a double click is handled once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot import clock, db
from models import ProcessedDelivery

KEEP_FOR = timedelta(days=2)


def first_time(key: str, *, now: datetime | None = None) -> bool:
    """True the first time `key` is seen, in this process or any other sharing the database."""
    insert = pg_insert if db.dialect() == "postgresql" else sqlite_insert
    statement = (
        insert(ProcessedDelivery)
        .values(key=key[:255], seen_at=now or clock.now())
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: with psycopg, SQLAlchemy reports rowcount -1 for this statement.
        .returning(ProcessedDelivery.key)
    )
    with db.transaction() as session:
        return session.execute(statement).first() is not None


def forget(key: str) -> None:
    with db.transaction() as session:
        session.execute(delete(ProcessedDelivery).where(ProcessedDelivery.key == key[:255]))


def forget_older_than(cutoff: datetime) -> int:
    with db.transaction() as session:
        return session.execute(delete(ProcessedDelivery).where(ProcessedDelivery.seen_at < cutoff)).rowcount
