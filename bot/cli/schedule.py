"""`epos scheduler`, `epos digest` and `epos nudges`: the scheduled work, run or previewed by hand."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime
from types import FrameType
from typing import Any

from bot import clock, db
from bot.config import README_SETTINGS, Settings, require
from bot.errors import InvalidInput

log = logging.getLogger("epos")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def open_database(settings: Settings) -> None:
    db.upgrade(settings.database_url)
    db.configure(settings.database_url)


def parse_at(text: str, settings: Settings) -> datetime:
    """An ISO date-time for `--at`; without an offset it is read in EPOS_TIMEZONE."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"--at {text!r} is not a date-time like 2026-11-23T09:00 or 2026-11-23T09:00+01:00",
                           field="at") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.timezone)
    return moment


# ----- epos scheduler -------------------------------------------------------------------------
def run_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import make_client
    from bot.cli.core import prepare
    from bot.scheduler import Scheduler

    if args.status:
        open_database(settings)
        return print_status(settings)
    require(settings, "SLACK_BOT_TOKEN")
    try:
        at = parse_at(args.at, settings) if args.at else None
    except InvalidInput as error:
        print(f"epos: {error}", file=sys.stderr)
        return EXIT_USAGE
    prepare(settings)
    scheduler = Scheduler(settings, make_client(settings))
    if args.once:
        now = at or clock.now()
        result = scheduler.run_tick(now)
        done = ", ".join(f"{name} {count}" for name, count in result.items()) or "no jobs"
        print(f"ticked at {now.astimezone(settings.timezone):%Y-%m-%d %H:%M %Z}: {done}")
        return EXIT_OK
    if at is not None:
        print("epos: --at only goes with --once (a running scheduler follows the real clock)", file=sys.stderr)
        return EXIT_USAGE

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping after the current tick", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler.start()
    log.info("epos scheduler is running; stop it with Ctrl-C or SIGTERM")
    while not stop.wait(timeout=3600):
        pass
    scheduler.shutdown(wait=True)
    return EXIT_OK


def print_status(settings: Settings) -> int:
    from bot.services import claims

    rows = claims.recent(limit=20)
    if not rows:
        print("no scheduled work has run yet")
        return EXIT_OK
    tz = settings.timezone
    for row in rows:
        if row.done_at is not None:
            state = f"done {row.done_at.astimezone(tz):%Y-%m-%d %H:%M}"
        else:
            state = f"pending (attempt {row.attempts}, retry after {row.lease_until.astimezone(tz):%H:%M})"
            if row.last_error:
                state += f", last error: {row.last_error}"
        print(f"{row.job:<13} {row.period:<24} {state}")
    return EXIT_OK


def add_commands(commands: Any) -> None:
    scheduler = commands.add_parser(
        "scheduler",
        help="run the scheduler as its own process (nudges, weekly digest, reminders)",
        description="Tick once a minute and do whatever is due: stale-engagement nudges, the weekly digest, "
        "DevRel timers and ESAT reminders. Safe beside `epos run`/`epos serve` and other replicas: every "
        f"post is claimed in the database, so it goes out once. Settings: {README_SETTINGS}.",
    )
    scheduler.add_argument("--once", action="store_true", help="run one tick now and exit")
    scheduler.add_argument("--at", metavar="DATETIME",
                           help="with --once: tick as if it were this time (ISO, e.g. 2026-11-23T09:00; EPOS_TIMEZONE unless an offset is given)")
    scheduler.add_argument("--status", action="store_true", help="show the latest scheduled posts and pending retries")
    scheduler.set_defaults(handler=run_scheduler)
