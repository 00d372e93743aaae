"""The weekly digest: which week is due, and the figures managers read for it.

Weeks are ISO weeks in EPOS_TIMEZONE (Monday 00:00 to the next Monday 00:00, local time). The
digest posted on the scheduled day of week W covers week W-1. It is due from the scheduled time
until the end of the second day after it (Monday 09:00 → Wednesday midnight): a bot that was down
across the slot catches up within that window, and after it the week is skipped rather than posted
late. Which week has been posted is kept as the claim `digest:<week>`, so it is posted once.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput

JOB = "digest"
CATCH_UP_DAYS = 2
_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{2})\s*$", re.IGNORECASE)


def parse_week(text: str) -> date:
    """The Monday of an ISO week written `2026-W47`."""
    match = _WEEK.match(text or "")
    if match:
        try:
            return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            pass
    raise InvalidInput(f"{text!r} is not an ISO week; write it like 2026-W47 (year, W, week 01-53)", field="week")


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[since, until) of an ISO week in local time, as aware datetimes."""
    monday = parse_week(week)
    return _local_midnight(monday, tz), _local_midnight(monday + timedelta(days=7), tz)


def previous_week(now: datetime, tz: ZoneInfo) -> str:
    """The last complete ISO week before `now`, in local time."""
    return week_label(now.astimezone(tz).date() - timedelta(days=7))


def due_week(now: datetime, tz: ZoneInfo, slot: tuple[int, time]) -> str | None:
    """The week whose digest should be posted at `now`, or None outside the posting window."""
    start, end = posting_window(now, tz, slot)
    if start <= now < end:
        return week_label(now.astimezone(tz).date() - timedelta(days=7))
    return None


def posting_window(now: datetime, tz: ZoneInfo, slot: tuple[int, time]) -> tuple[datetime, datetime]:
    """From the scheduled slot of `now`'s week until the end of the second day after it, never past Sunday."""
    weekday, at = slot
    monday = week_start(now.astimezone(tz).date())
    slot_day = monday + timedelta(days=weekday)
    start = datetime.combine(slot_day, at, tzinfo=tz)
    last_day = min(slot_day + timedelta(days=CATCH_UP_DAYS), monday + timedelta(days=6))
    return start, _local_midnight(last_day + timedelta(days=1), tz)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)
