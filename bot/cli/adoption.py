"""`epos adoption`: who in each role used epos in a window, how, and who has not used it yet."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import clock, db
from bot.blocks import adoption as text
from bot.cli.output import add_json_option
from bot.config import Settings
from bot.services import adoption
from models.schemas.adoption import Adoption

DEFAULT_WINDOW = timedelta(weeks=4)


def _day(flag: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{flag} {value!r} is not a date; write it like 2026-10-01") from None


def _since(value: str | None, zone: ZoneInfo, now: datetime, until: datetime) -> datetime:
    """The start of the window: a day in EPOS_TIMEZONE, not after today and before `until`."""
    if value is None:
        return until - DEFAULT_WINDOW
    day = _day("--since", value)
    since = datetime.combine(day, time(0), tzinfo=zone)
    if since > now:
        raise ValueError(f"--since {day.isoformat()} is in the future; pick today or an earlier day")
    if since >= until:
        raise ValueError("--until must be after --since")
    return since


def _until(value: str | None, zone: ZoneInfo, now: datetime) -> datetime:
    """The end of the window: the end of a day in EPOS_TIMEZONE (that whole day counts), at the latest now."""
    if value is None:
        return now
    return min(now, datetime.combine(_day("--until", value) + timedelta(days=1), time(0), tzinfo=zone))


def _as_text(report: Adoption, name_of: Any, zone: ZoneInfo) -> str:
    since, until = report.since.astimezone(zone), report.until.astimezone(zone)
    head = f"Adoption of epos, {since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} ({zone.key})"
    return "\n".join([head, *text.text_lines(report, name_of)])


def show_adoption(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.timezone
    now = clock.now()
    try:
        until = _until(args.until, zone, now)
        since = _since(args.since, zone, now, until)
    except ValueError as error:
        print(f"epos adoption: {error}", file=sys.stderr)
        return 1
    db.upgrade(settings.database_url)
    db.configure(settings.database_url)
    report = adoption.report(since, until, managers=settings.epos_managers)

    def name_of(user_id: str) -> str:
        return report.names.get(user_id, user_id)

    print(json.dumps(report.as_json(name_of), indent=2) if args.json else _as_text(report, name_of, zone))
    return 0


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "adoption",
        help="who in each role used epos, how, and who has not yet",
        description="For SEs, sellers, DevRel and managers (EPOS_MANAGERS): how many used epos since DATE (a day "
        "in EPOS_TIMEZONE; default: the last 4 weeks) to --until, which features, and who has never used it.",
    )
    parser.add_argument("--since", metavar="DATE",
                        help="start of the window, like 2026-10-01 (default: 4 weeks before --until)")
    parser.add_argument("--until", metavar="DATE", help="last day of the window, included whole (default: now)")
    add_json_option(parser, "the report (keys in README › Adoption)")
    parser.set_defaults(handler=show_adoption)
