"""The one source of "now". Services take `now` as a parameter; this fills it in when the caller doesn't.

`epos try` moves this clock forward to show what the scheduler would do over hours or days.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


# An IANA name: at most three parts (America/Argentina/Salta) of letters, digits, `_`, `-` and `+`.
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]{1,40}(/[A-Za-z0-9_+\-]{1,40}){0,2}")


def zone_named(name: str | None) -> ZoneInfo | None:
    """The timezone called `name`, or None when there is none. Never raises: ZoneInfo itself raises
    ValueError, KeyError, OSError ("America" is a folder of zones) or RecursionError (a name with many
    slashes) on names that are not zones, and such names reach epos from forms and files."""
    if not name or not _ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def reset() -> None:
    global _offset
    with _lock:
        _offset = timedelta(0)
