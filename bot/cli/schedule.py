"""`epos scheduler`, `epos digest` and `epos nudges`: the scheduled work, run or previewed by hand."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import clock, db
from bot.blocks.text import plural
from bot.config import README_SETTINGS, Settings, require
from bot.errors import InvalidInput
from bot.cli.output import people_names

log = logging.getLogger("epos")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def open_database(settings: Settings) -> None:
    db.upgrade(settings.database_url)
    db.configure(settings.database_url, db.Limits.of(settings))


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
    from bot import telemetry
    from bot.app import make_client
    from bot.cli.core import prepare, stop_on_signals
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
    client = make_client(settings)
    prepare(settings, client)
    telemetry.serve_on(settings.metrics_port)
    scheduler = Scheduler(settings, client)
    if args.once:
        now = at or clock.now()
        result = scheduler.run_tick(now)
        done = ", ".join(f"{name} {count}" for name, count in result.items()) or "no jobs"
        print(f"ticked at {now.astimezone(settings.timezone):%Y-%m-%d %H:%M %Z}: {done}")
        return EXIT_OK
    if at is not None:
        print("epos: --at only goes with --once (a running scheduler follows the real clock)", file=sys.stderr)
        return EXIT_USAGE

    stop = stop_on_signals("stopping after the current tick")
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


# ----- epos digest ----------------------------------------------------------------------------
def run_digest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.blocks import speedup
    from bot.blocks.digest import digest_text
    from bot.jobs.digest import names_for
    from bot.services import digest

    speedup.install()
    now = clock.now()
    tz = settings.timezone
    try:
        week = digest.week_label(digest.parse_week(args.week)) if args.week else digest.previous_week(now, tz)
    except InvalidInput as error:
        print(f"epos: --week {error}", file=sys.stderr)
        return EXIT_USAGE
    posting = not (args.dry_run or args.json)
    if posting:
        if not settings.digest_channel:
            print("epos: DIGEST_CHANNEL is not set; set it to the digest channel's id (like C0123ABCD) to post, "
                  f"or preview with --dry-run (see {README_SETTINGS})", file=sys.stderr)
            return EXIT_USAGE
        require(settings, "SLACK_BOT_TOKEN")
    open_database(settings)
    _, until = digest.week_bounds(week, tz)
    if posting and until > now:
        print(f"epos: {week} is not over yet (it ends {until:%a %-d %b %H:%M} {settings.epos_timezone}); "
              "preview it with --dry-run, or post a finished week", file=sys.stderr)
        return EXIT_FAILURE
    if not posting:
        try:
            figures = digest.compute(week, tz=tz, now=now, managers=settings.epos_managers)
        except InvalidInput as error:
            print(f"epos: --week {error}", file=sys.stderr)
            return EXIT_USAGE
        if args.json:
            print(json.dumps(figures.figures(), indent=2, ensure_ascii=False))
        else:
            # People by name, as the channel post shows them; without a token, by their Slack ids.
            from bot.app import make_client

            client = make_client(settings) if settings.slack_bot_token else None
            print(digest_text(figures, names_for(client, figures)))
        return EXIT_OK
    return _post_digest_now(settings, week, now)


def _post_digest_now(settings: Settings, week: str, now: datetime) -> int:
    from bot.app import make_client
    from bot.jobs.digest import post_week
    from bot.services import claims, digest
    from bot.services.claims import process_owner
    from bot.startup import check_internal_channels

    client = make_client(settings)
    check_internal_channels(settings, client)
    ts = post_week(client, settings, week, now=now, owner=process_owner())
    if ts is not None:
        print(f"posted the {week} digest to {settings.digest_channel}")
        return EXIT_OK
    state = claims.state(digest.JOB, week)
    if state is not None and state.done_at is not None:
        when = state.done_at.astimezone(settings.timezone)
        print(f"the {week} digest was already posted on {when:%a %-d %b %H:%M}; nothing was sent (a week is posted once)")
        return EXIT_OK
    if state is not None and state.last_error:
        print(f"epos: Slack did not take the {week} digest ({state.last_error}); the scheduler retries it, "
              "or run this again once it is fixed", file=sys.stderr)
        return EXIT_FAILURE
    print(f"another epos process is posting the {week} digest right now; nothing was sent from here")
    return EXIT_OK


# ----- epos nudges ----------------------------------------------------------------------------
NUDGE_STATE = {
    "due": "due now",
    "sent": "already nudged today",
    "later": "next nudge {when}",
    "missed": "today's window has passed; next nudge {when}",
    "weekend": "weekend; next nudge {when}",
    "nothing": "nothing to nudge about now",
}


def run_nudges(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import make_client
    from bot.jobs.nudges import send_now
    from bot.notify.zones import Zones
    from bot.services import nudges
    from bot.services.claims import process_owner

    if not args.dry_run:
        require(settings, "SLACK_BOT_TOKEN")
    open_database(settings)
    client = make_client(settings) if settings.slack_bot_token else None
    now = clock.now()
    zone_for = Zones(client, settings.timezone)
    if args.dry_run:
        entries = nudges.plan(now, cooldown_days=settings.nudge_cooldown_days, nudge_at=settings.nudge_at,
                              zone_for=zone_for)
        print(_plan_text(entries, settings))
        return EXIT_OK
    assert client is not None
    run = send_now(client, settings, now, owner=process_owner())
    if not (run.sent or run.failed or run.skipped or run.quiet):
        print("nobody has stale engagements; nothing was sent")
        return EXIT_OK
    name_of = people_names(settings, [*run.sent, *run.skipped, *run.quiet, *run.failed])

    def names(user_ids: Any) -> str:
        return ", ".join(name_of(user_id) for user_id in user_ids)

    if run.sent:
        print(f"nudged {plural(len(run.sent), 'SE')}: {names(run.sent)}")
    if run.skipped:
        print(f"already nudged today, not sent again: {names(run.skipped)}")
    if run.quiet:
        print(f"stale engagements all snoozed or nudged in the last {settings.nudge_cooldown_days} days, "
              f"so not nudged: {names(run.quiet)} (details: epos nudges --dry-run)")
    for se, error in run.failed.items():
        print(f"epos: the DM to {name_of(se)} failed ({error}); the scheduler retries it later today", file=sys.stderr)
    return EXIT_FAILURE if run.failed else EXIT_OK


def _plan_text(entries: list[Any], settings: Settings) -> str:
    from bot.charts import stage_label
    from bot.services import people

    if not entries:
        return ("No stale engagements: nobody would be nudged. An open engagement is stale after "
                + ", ".join(f"{stage_label(s)} {d} days" for s, d in _thresholds())
                + " without a stage change or note.")
    due = sum(1 for e in entries if e.state == "due")
    out = [f"{plural(len(entries), 'SE')} {'has' if len(entries) == 1 else 'have'} stale engagements; {due} would be nudged now "
           f"(NUDGE_TIME {settings.nudge_time} in each SE's timezone, weekdays; cooldown "
           f"{settings.nudge_cooldown_days} days)."]
    name_of = people_names(settings, [entry.nudge.owner_id for entry in entries])
    for entry in entries:
        tz = ZoneInfo(entry.timezone)
        known = people.cached(entry.nudge.owner_id)
        name = name_of(entry.nudge.owner_id)
        if known is None or not known.timezone:
            name += " (Slack timezone unknown, EPOS_TIMEZONE assumed)"
        when = f"{entry.due_at.astimezone(tz):%a %-d %b %H:%M}"
        out.append("")
        out.append(f"{name} · {entry.timezone} · {NUDGE_STATE[entry.state].format(when=when)}")
        for line in entry.nudge.lines:
            out.append(f"  • {line.account} ({line.opportunity}): {stage_label(line.stage)}, "
                       f"idle {line.days_idle} days, limit {line.stale_after_days}")
        for quiet in entry.nudge.quiet:
            line = quiet.line
            reason = (f"snoozed until {quiet.until.astimezone(tz):%a %-d %b}" if quiet.reason == "snoozed"
                      else f"nudged recently; again from {quiet.until.astimezone(tz):%a %-d %b}")
            out.append(f"  – {line.account} ({line.opportunity}): {stage_label(line.stage)}, "
                       f"idle {line.days_idle} days, limit {line.stale_after_days} · {reason}")
    return "\n".join(out)


def _thresholds() -> list[tuple[str, int]]:
    from bot.services import playbooks
    from models.enums import OPEN_STAGES

    return [(stage.value, playbooks.playbook(stage).stale_after_days) for stage in OPEN_STAGES]


def add_commands(commands: Any) -> None:
    nudges = commands.add_parser(
        "nudges",
        help="list who would be nudged about stale engagements, and why; or nudge them now",
        description="Stale engagements (no stage change or note for longer than their stage's playbook allows), "
        "grouped per SE. With --dry-run it lists who would be nudged and why, and sends nothing. Without it, it "
        "DMs every SE with something stale now, whatever the hour; an SE already nudged today is not nudged again.",
    )
    nudges.add_argument("--dry-run", action="store_true", help="list who would be nudged and why; send nothing")
    nudges.set_defaults(handler=run_nudges)

    digest = commands.add_parser(
        "digest",
        help="preview the weekly digest, print its figures, or post it now",
        description="The weekly presales digest (MTTC, outcomes, funnel, stale engagements, DevRel, ESAT, "
        "shared assets, content gaps). Without --dry-run or --json it posts to DIGEST_CHANNEL now; a week "
        "that was already posted (by hand or by the scheduler) is never posted again.",
    )
    digest.add_argument("--week", metavar="YYYY-Www", help="ISO week to report, e.g. 2026-W47 (default: last week)")
    digest.add_argument("--dry-run", action="store_true", help="print the digest as text; post nothing")
    digest.add_argument("--json", action="store_true", help="print the figures as JSON; post nothing")
    digest.set_defaults(handler=run_digest)

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
