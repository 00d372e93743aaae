"""`epos pilot create|add|remove|end|list` and `epos stats --pilot`: pilots on the command line."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from bot import clock, db
from bot.cli.output import add_json_option, people_names
from bot.config import Settings
from bot.blocks.text import plural
from bot.errors import InvalidInput
from bot.services import cohorts, pilots
from models.schemas.pilots import Comparison, GroupFigures, PilotOut

EXIT_OK = 0
EXIT_FAILURE = 1


def _open_database(settings: Settings) -> None:
    db.upgrade(settings.database_url)
    db.configure(settings.database_url)


def _day(field: str, text: str | None) -> date | None:
    """A day given on the command line; a bad one is the usual one line naming the field, as a form's is."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date like 2026-10-01", field=field) from None


def _today(settings: Settings) -> date:
    return clock.now().astimezone(settings.timezone).date()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def pilot_json(pilot: PilotOut) -> dict[str, Any]:
    return {"name": pilot.name, "start": pilot.start_on.isoformat(),
            "end": pilot.end_on.isoformat() if pilot.end_on else None, "members": pilot.current_members}


def group_json(group: GroupFigures) -> dict[str, Any]:
    return {
        "engagements": group.engagements,
        "closed": dict(group.closed),
        "mttc_days": {"mean": _round(group.mttc_days.mean), "median": _round(group.mttc_days.median)},
        "win_rate": _round(group.win_rate),
        "stage_dwell_days_median": {stage: _round(days) for stage, days in group.stage_dwell_days_median.items()},
        "esat": {"mean": _round(group.esat.mean), "count": group.esat.count},
    }


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """The keys `epos stats --pilot NAME --json` promises (README › Pilot and rollout)."""
    def difference(d: Any) -> dict[str, Any]:
        return {"value": d.value, "ci95": list(d.ci95) if d.ci95 else None}
    return {
        "pilot": pilot_json(comparison.pilot),
        "baseline_kind": comparison.baseline_kind,
        "pilot_group": group_json(comparison.pilot_group),
        "baseline_group": group_json(comparison.baseline_group),
        "difference": {"mttc_days_median": difference(comparison.mttc_days_median),
                       "win_rate": difference(comparison.win_rate)},
        "verdict": comparison.verdict,
    }


def comparison_text(comparison: Comparison, members: str) -> str:
    """`members`: the pilot's current members, named as `epos pilot list` names them."""
    def row(label: str, group: GroupFigures) -> str:
        closed = group.closed
        win = "—" if group.win_rate is None else f"{group.win_rate:.0%}"
        median = "—" if group.mttc_days.median is None else f"{group.mttc_days.median:.1f} d"
        return (f"{label:<10}{group.engagements:>12}{closed['won']:>5}{closed['lost']:>6}{closed['no_decision']:>13}"
                f"{median:>13}{win:>10}")
    def interval(d: Any, fmt: str, unit: str = "") -> str:
        if d.value is None or d.ci95 is None:
            return "— (no closes to compare)"
        return (f"{format(d.value, fmt)}{unit} (95% interval {format(d.ci95[0], fmt)} to "
                f"{format(d.ci95[1], fmt)}{unit})")
    p = comparison.pilot
    return "\n".join([
        f"Pilot {p.name}: {p.start_on:%Y-%m-%d} – {p.end_on:%Y-%m-%d}" if p.end_on
        else f"Pilot {p.name}: since {p.start_on:%Y-%m-%d}, still running",
        f"Members: {members}; baseline: {comparison.baseline_kind}",
        "",
        f"{'group':<10}{'engagements':>12}{'won':>5}{'lost':>6}{'no decision':>13}{'median MTTC':>13}{'win rate':>10}",
        row("pilot", comparison.pilot_group),
        row("baseline", comparison.baseline_group),
        "",
        f"MTTC median, pilot minus baseline: {interval(comparison.mttc_days_median, '+.1f', ' days')}",
        f"Win rate, pilot minus baseline:    {interval(comparison.win_rate, '+.0%')}",
        f"Verdict: {comparison.verdict}",
    ])


def show_comparison(args: argparse.Namespace, settings: Settings) -> int:
    """`epos stats --pilot NAME`."""
    _open_database(settings)
    comparison = cohorts.compare(args.pilot, baseline=args.baseline, tz=settings.timezone)
    print(json.dumps(comparison_json(comparison), indent=2) if args.json
          else comparison_text(comparison, _names(settings, comparison.pilot.current_members)))
    return EXIT_OK


def _members_of(args: argparse.Namespace) -> list[str]:
    if args.members and args.members_file:
        raise InvalidInput("members: give --members or --members-file, not both")
    if args.members_file:
        try:
            return Path(args.members_file).read_text(encoding="utf-8-sig").split()
        except OSError as error:
            raise InvalidInput(f"members: {args.members_file} cannot be read ({error.strerror or error})") from None
    return (args.members or "").split(",")


def _names(settings: Settings, user_ids: list[str]) -> str:
    name_of = people_names(settings, user_ids)
    return ", ".join(name_of(user_id) for user_id in user_ids) or "none"


def create(args: argparse.Namespace, settings: Settings) -> int:
    members, start = _members_of(args), _day("start", args.start)
    assert start is not None  # --start is required
    _open_database(settings)
    pilot = pilots.create(pilots.CLI_ACTOR, args.name, start, members)
    print(f"Pilot {pilot.name} created: from {pilot.start_on:%Y-%m-%d}, {plural(len(pilot.current_members), 'member')}.")
    return EXIT_OK


def add(args: argparse.Namespace, settings: Settings) -> int:
    on = _day("on", args.on)
    _open_database(settings)
    pilot = pilots.add_members(pilots.CLI_ACTOR, args.name, args.members, on=on or _today(settings))
    print(f"Pilot {pilot.name}: members now {_names(settings, pilot.current_members)}.")
    return EXIT_OK


def remove(args: argparse.Namespace, settings: Settings) -> int:
    on = _day("on", args.on)
    _open_database(settings)
    pilot = pilots.remove_members(pilots.CLI_ACTOR, args.name, args.members, on=on or _today(settings))
    print(f"Pilot {pilot.name}: members now {_names(settings, pilot.current_members)}.")
    return EXIT_OK


def end(args: argparse.Namespace, settings: Settings) -> int:
    on = _day("end", args.on)
    assert on is not None  # --on is required
    _open_database(settings)
    pilot = pilots.end(pilots.CLI_ACTOR, args.name, on)
    print(f"Pilot {pilot.name} ends on {pilot.end_on:%Y-%m-%d}.")
    return EXIT_OK


def list_all(args: argparse.Namespace, settings: Settings) -> int:
    _open_database(settings)
    found = pilots.list_pilots()
    if args.json:
        print(json.dumps([pilot_json(pilot) for pilot in found], indent=2))
    elif not found:
        print("No pilots yet. Start one with `epos pilot create NAME --start YYYY-MM-DD --members U1,U2`.")
    for pilot in [] if args.json else found:
        until = f"to {pilot.end_on:%Y-%m-%d}" if pilot.end_on else "running"
        print(f"{pilot.name}: from {pilot.start_on:%Y-%m-%d} {until}; members {_names(settings, pilot.current_members)}")
    return EXIT_OK


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("pilot", help="pilots: a group of SEs trying the guided path, compared with the rest")
    actions = parser.add_subparsers(dest="pilot_command", metavar="ACTION", required=True)

    creating = actions.add_parser("create", help="start a pilot with its members")
    creating.add_argument("name", metavar="NAME", help="the pilot's name, e.g. \"Q3 guided path\"")
    creating.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first day (EPOS_TIMEZONE)")
    creating.add_argument("--members", metavar="U1,U2", help="Slack user ids of the SEs, comma-separated")
    creating.add_argument("--members-file", metavar="FILE", help="a file with one Slack user id per line")
    creating.set_defaults(handler=create)

    for verb, handler, help_text in (("add", add, "add SEs to a pilot (they count from --on, default today)"),
                                     ("remove", remove, "take SEs out of a pilot (from --on, default today)")):
        changing = actions.add_parser(verb, help=help_text)
        changing.add_argument("name", metavar="NAME", help="the pilot's name")
        changing.add_argument("members", metavar="USER_ID", nargs="+", help="Slack user ids of the SEs")
        changing.add_argument("--on", metavar="YYYY-MM-DD", help="the day it counts from (default: today)")
        changing.set_defaults(handler=handler)

    ending = actions.add_parser("end", help="set the pilot's last day")
    ending.add_argument("name", metavar="NAME", help="the pilot's name")
    ending.add_argument("--on", required=True, metavar="YYYY-MM-DD", help="the pilot's last day")
    ending.set_defaults(handler=end)

    listing = actions.add_parser("list", help="every pilot with its dates and members")
    add_json_option(listing, "the pilots")
    listing.set_defaults(handler=list_all)
