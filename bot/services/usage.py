"""Writing down the uses of epos that change nothing else (a search, a look at the figures), so adoption
and the getting-started checklist can see them. Everything a person changes is read from where it is
already recorded (bot/services/adoption.py)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot import clock, db
from models import UsageDay

log = logging.getLogger(__name__)

SEARCH = "search"
FIGURES = "figures"
# A search or a look at the figures is a read: it must not wait on, or fail because of, a writer that
# holds the database (an import's batch). The day's first use is written if the lock comes this soon,
# and otherwise by a thread of its own that may wait as long as a handled delivery's record does.
NOTE_WAIT_SECONDS = 0.2
LATE_NOTE_WAIT_SECONDS = 15.0
# The uses a thread of this process is writing: a search repeated meanwhile starts no second one.
_pending: set[tuple[str, str, date]] = set()
_pending_lock = threading.Lock()


def note(user_id: str, feature: str, *, now: datetime | None = None) -> None:
    """Record that `user_id` used `feature` today; later uses the same day (UTC) change nothing and take
    no write lock."""
    now = now or clock.now()
    day = now.astimezone(UTC).date()
    with db.reading() as session:
        if session.scalar(select(UsageDay.user_id).where(UsageDay.user_id == user_id, UsageDay.feature == feature,
                                                         UsageDay.day == day)) is not None:
            return
    use = (user_id, feature, day)
    with _pending_lock:
        if use in _pending:
            return  # already being written, by a thread that waits out the writer
    try:
        _write(user_id, feature, now, wait=NOTE_WAIT_SECONDS)
    except SQLAlchemyError:
        with _pending_lock:
            if use in _pending:
                return
            _pending.add(use)
        threading.Thread(target=_write_late, args=(user_id, feature, now), name="epos-usage", daemon=True).start()


def _write(user_id: str, feature: str, now: datetime, *, wait: float) -> None:
    statement = db.insert(UsageDay).values(user_id=user_id, feature=feature, day=now.astimezone(UTC).date(), at=now)
    with db.within(wait) as session:
        session.execute(statement.on_conflict_do_nothing(index_elements=["user_id", "feature", "day"]))


def _write_late(user_id: str, feature: str, now: datetime) -> None:
    try:
        _write(user_id, feature, now, wait=LATE_NOTE_WAIT_SECONDS)
    except SQLAlchemyError:
        # Only the getting-started checklist and the adoption figures miss this day's use.
        log.warning("could not write down a use of %s", feature, exc_info=True)
    finally:
        with _pending_lock:
            _pending.discard((user_id, feature, now.astimezone(UTC).date()))
