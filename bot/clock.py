"""The one source of "now". Services take `now` as a parameter; this fills it in when the caller doesn't.

`epos try` moves this clock forward to show what the scheduler would do over hours or days.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def advance(by: timedelta) -> datetime:
    global _offset
    with _lock:
        _offset += by
    return now()


def set_now(moment: datetime) -> datetime:
    """Make `now()` read `moment` from here on (it keeps ticking with the wall clock); `epos try` starts
    every session at the same instant so its story and scripts come out the same."""
    global _offset
    if moment.tzinfo is None:
        raise ValueError("set_now needs an aware datetime")
    with _lock:
        _offset = moment - datetime.now(UTC)
    return now()


def reset() -> None:
    global _offset
    with _lock:
        _offset = timedelta(0)
