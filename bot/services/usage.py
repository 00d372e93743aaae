"""Writing down the uses of epos that change nothing else (a search, a look at the figures), so adoption
and the getting-started checklist can see them. Everything a person changes is read from where it is
already recorded (bot/services/adoption.py)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot import clock, db
from models import UsageDay

SEARCH = "search"
FIGURES = "figures"
# The uses this process is writing down: a search repeated meanwhile starts no second write.
_pending: set[tuple[str, str, date]] = set()
_pending_lock = threading.Lock()


def note(user_id: str, feature: str, *, now: datetime | None = None) -> None:
    """Record that `user_id` used `feature` today. A use is a read: later uses the same day (UTC) take no
    write lock, and the day's first never waits for a writer that holds the database (`db.write_soon`)."""
    now = now or clock.now()
    day = now.astimezone(UTC).date()
    with db.reading() as session:
        if session.scalar(select(UsageDay.user_id).where(UsageDay.user_id == user_id, UsageDay.feature == feature,
                                                         UsageDay.day == day)) is not None:
            return
    use = (user_id, feature, day)
    with _pending_lock:
        if use in _pending:
            return
        _pending.add(use)

    def written() -> None:
        with _pending_lock:
            _pending.discard(use)

    statement = (db.insert(UsageDay).values(user_id=user_id, feature=feature, day=day, at=now)
                 .on_conflict_do_nothing(index_elements=["user_id", "feature", "day"]))
    db.write_soon(lambda session: session.execute(statement), what=f"a use of {feature}", then=written)
