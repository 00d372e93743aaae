"""What we know of Slack users (name, timezone), cached so a message does not cost a `users.info` call."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot import clock, db
from models import SlackUser

FRESH_FOR = timedelta(days=7)


class Person(BaseModel, frozen=True):
    user_id: str
    name: str
    timezone: str

    def zone(self, default: ZoneInfo) -> ZoneInfo:
        return clock.zone_named(self.timezone) or default


def cached(user_id: str, *, now: datetime | None = None, fresh_for: timedelta | None = FRESH_FOR) -> Person | None:
    """The cached entry while it is fresh (any age with `fresh_for=None`), else None (the caller then asks
    Slack and calls `remember`)."""
    now = now or clock.now()
    with db.reading() as session:
        row = session.get(SlackUser, user_id)
        if row is None or (fresh_for is not None and now - row.fetched_at > fresh_for):
            return None
        return Person(user_id=row.user_id, name=row.name, timezone=row.timezone)


def cached_many(user_ids: list[str]) -> dict[str, tuple[Person, datetime]]:
    """Every cached entry of these people, of any age, with when it was fetched: one query per 500, for a
    scheduled run that looks up a thousand SEs."""
    found: dict[str, tuple[Person, datetime]] = {}
    with db.reading() as session:
        for start in range(0, len(user_ids), 500):
            rows = session.scalars(select(SlackUser).where(SlackUser.user_id.in_(user_ids[start:start + 500])))
            for row in rows:
                found[row.user_id] = (Person(user_id=row.user_id, name=row.name, timezone=row.timezone), row.fetched_at)
    return found


def remember(user_id: str, *, name: str, timezone: str, now: datetime | None = None) -> Person:
    now = now or clock.now()
    # An upsert: two threads looking up the same person at once must not collide on the primary key.
    insert = pg_insert if db.dialect() == "postgresql" else sqlite_insert
    statement = insert(SlackUser).values(user_id=user_id, name=name, timezone=timezone, fetched_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[SlackUser.user_id],
        set_={"name": statement.excluded.name, "timezone": statement.excluded.timezone,
              "fetched_at": statement.excluded.fetched_at},
    )
    with db.transaction() as session:
        session.execute(statement)
    return Person(user_id=user_id, name=name, timezone=timezone)
