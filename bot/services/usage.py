"""Writing down the uses of epos that change nothing else (a search, a look at the figures), so adoption
and the getting-started checklist can see them. Everything a person changes is read from where it is
already recorded (bot/services/adoption.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import clock, db
from models import UsageDay

SEARCH = "search"
FIGURES = "figures"


def note(user_id: str, feature: str, *, now: datetime | None = None) -> None:
    """Record that `user_id` used `feature` today; later uses the same day (UTC) change nothing.

    Its own short transaction: the uses it records are reads, which have none to join."""
    now = now or clock.now()
    statement = db.insert(UsageDay).values(user_id=user_id, feature=feature, day=now.astimezone(UTC).date(), at=now)
    with db.transaction() as session:
        session.execute(statement.on_conflict_do_nothing(index_elements=["user_id", "feature", "day"]))
