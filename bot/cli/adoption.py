"""`epos adoption`: who in each role used epos in a window, how, and who has not used it yet."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import clock, db
from bot.blocks import adoption as text
from bot.cli.output import add_json_option, day_window
from bot.config import Settings
from bot.services import adoption
from models.schemas.adoption import Adoption

DEFAULT_WINDOW = timedelta(weeks=4)


def _as_text(report: Adoption, name_of: Any, zone: ZoneInfo) -> str:
    since, until = report.since.astimezone(zone), report.until.astimezone(zone)
    head = f"Adoption of epos, {since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} ({zone.key})"
    return "\n".join([head, *text.text_lines(report, name_of)])


def show_adoption(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.timezone
    now = clock.now()
    try:
        since, until = day_window(args.since, args.until, zone, now, DEFAULT_WINDOW)
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
