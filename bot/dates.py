"""Dates and times as epos writes them itself: the fallbacks of Slack's own date formatting, the command
line, form errors and the chart. One style everywhere: `13 Nov 2026`, `Fri 13 Nov`, `14:00` (24-hour).

In Slack messages a date a reader should see in their own timezone and locale goes through Slack's date
formatting (`bot.blocks.text.slack_day`, `slack_moment`), with these as the fallback."""

from __future__ import annotations

from datetime import date, datetime, tzinfo


def _local(value: date | datetime, tz: tzinfo | None) -> date | datetime:
    return value.astimezone(tz) if isinstance(value, datetime) and tz is not None else value


def day(value: date | datetime, tz: tzinfo | None = None) -> str:
    """`13 Nov 2026`."""
    return f"{_local(value, tz):%-d %b %Y}"


def short_day(value: date | datetime, tz: tzinfo | None = None) -> str:
    """`Fri 13 Nov`, for dates near enough that the year goes without saying."""
    return f"{_local(value, tz):%a %-d %b}"


def chart_day(value: date | datetime) -> str:
    """`13 Nov`, for an axis."""
    return f"{value:%-d %b}"


def clock(value: datetime, tz: tzinfo | None = None) -> str:
    """`14:00`."""
    return f"{_local(value, tz):%H:%M}"


def moment(value: datetime, tz: tzinfo | None = None) -> str:
    """`Fri 13 Nov 2026, 14:00`."""
    local = _local(value, tz)
    return f"{local:%a %-d %b %Y}, {local:%H:%M}"
