"""`epos engagements import|export` and `epos stats`: engagements and their figures on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot import clock, db
from bot.blocks.text import plural
from bot.cli import pilots as pilots_cli
from bot.cli.output import (
    add_format_option,
    add_json_option,
    add_output_option,
    export_format,
    run_import,
    write_rendered,
)
from bot.config import Settings
from bot.errors import Conflict
from bot.services import challenges, engagements, metrics
from bot.services.deliverable_figures import deliverable_figures
from models.enums import OPEN_STAGES, Outcome, Stage
from models.schemas.engagements import ChallengeFigures, Figures, TeamMetrics

EXIT_OK = 0
EXIT_FAILURE = 1
DEFAULT_WEEKS = 12


def _open_database(settings: Settings) -> None:
    db.upgrade(settings.database_url)
    db.configure(settings.database_url)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_FAILURE


# ----- import / export -----------------------------------------------------------------------------------
def import_engagements(args: argparse.Namespace, settings: Settings) -> int:
    def load(fmt: Literal["yaml", "csv"]) -> str:
        _open_database(settings)
        report = engagements.import_file(path, fmt)
        return f"{report.imported} imported, {report.skipped} skipped (already there)"

    path = Path(args.file)
    return run_import(path, settings.import_max_mb, "engagements", load, refused=(Conflict,))


def export_engagements(args: argparse.Namespace, settings: Settings) -> int:
    _open_database(settings)
    records = engagements.export_records()
    return write_rendered(engagements.render_export(records, export_format(args)), args.output,
                          written=f"{plural(len(records), 'engagement')} written to {args.output}")


# ----- stats -----------------------------------------------------------------------------------------------
def _moment(text: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """`2026-10-01` (a day in EPOS_TIMEZONE; an --until day is included whole) or an ISO date-time."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-10-01") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    start = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(0), tzinfo=zone)
    return start


def _figures(figures: Figures) -> dict[str, Any]:
    return {"mean": _round(figures.mean), "median": _round(figures.median), "count": figures.count}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def as_json(figures: TeamMetrics) -> dict[str, Any]:
    """The figures under the keys `epos stats --json` promises (README › Engagements › Figures)."""
    data: dict[str, Any] = {
        "window": {"since": figures.since.isoformat(), "until": figures.until.isoformat(), "owner": figures.owner_id},
        "closed": dict(figures.closed),
        "win_rate": _round(figures.win_rate),
        "mttc_days": _figures(figures.mttc_days),
    }
    for outcome in Outcome:
        data[f"mttc_days_{outcome.value}"] = _figures(figures.mttc_by_outcome[outcome.value])
    data["stage_dwell_days_median"] = {k: _round(v) for k, v in figures.stage_dwell_days_median.items()}
    data["stage_conversion"] = {k: _round(v) for k, v in figures.stage_conversion.items()}
    data["open_by_stage"] = dict(figures.open_by_stage)
    data["esat"] = {"mean": _round(figures.esat.mean), "count": figures.esat.count}
    return data


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def as_text(figures: TeamMetrics, zone: ZoneInfo) -> str:
    since = figures.since.astimezone(zone)
    until = figures.until.astimezone(zone)
    who = f" for {figures.owner_id}" if figures.owner_id else " for the team"
    closed = figures.closed
    won = figures.mttc_by_outcome["won"]
    lines = [
        f"Engagement figures{who}, {since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} ({zone.key})",
        f"Closed:      {figures.closed_total} ({closed['won']} won, {closed['lost']} lost, "
        f"{closed['no_decision']} no decision), win rate {_share(figures.win_rate)}",
        f"MTTC:        mean {_days(figures.mttc_days.mean)}, median {_days(figures.mttc_days.median)}",
        f"MTTC (won):  mean {_days(won.mean)}, median {_days(won.median)}",
        "ESAT:        " + (f"{figures.esat.mean:.2f} from {plural(figures.esat.count, 'rating')}" if figures.esat.count
                            else "no ratings"),
        "",
        f"{'stage':<15}{'median dwell':>14}{'moved on':>10}{'open':>6}",
    ]
    slowest = figures.slowest_stage
    for stage in OPEN_STAGES:
        mark = "  slowest" if stage.value == slowest else ""
        lines.append(
            f"{Stage(stage).label:<15}{_days(figures.stage_dwell_days_median[stage.value]):>14}"
            f"{_share(figures.stage_conversion[stage.value]):>10}{figures.open_by_stage[stage.value]:>6}{mark}"
        )
    return "\n".join(lines)


def show_stats(args: argparse.Namespace, settings: Settings) -> int:
    if args.pilot:
        # The pilot's own dates make its window: a window or an owner given too would be quietly ignored.
        ignored = [flag for flag, value in (("--since", args.since), ("--until", args.until), ("--owner", args.owner))
                   if value]
        if ignored:
            return _fail(f"epos stats: {' and '.join(ignored)} cannot go with --pilot, whose dates make the window "
                         "(README › Pilot and rollout)")
        return pilots_cli.show_comparison(args, settings)
    zone = settings.timezone
    try:
        until = _moment(args.until, zone, end_of_day=True) if args.until else clock.now()
        since = _moment(args.since, zone, end_of_day=False) if args.since else until - timedelta(weeks=DEFAULT_WEEKS)
    except argparse.ArgumentTypeError as error:
        return _fail(f"epos stats: {error}")
    if until <= since:
        return _fail("epos stats: --until must be after --since")
    if args.owner and not engagements.SLACK_USER.match(args.owner):
        return _fail(f"epos stats: --owner {args.owner!r} is not a Slack user id like U0123ABCD")
    _open_database(settings)
    figures = metrics.team_metrics(since, until, owner_id=args.owner)
    if args.json:
        data = as_json(figures)
        data["interactions"] = {bucket: {"closed": f.closed, "win_rate": _round(f.win_rate),
                                         "mttc_days_median": _round(f.mttc_days_median)}
                                for bucket, f in metrics.interaction_figures(since, until).items()}
        data["deliverables"] = deliverable_figures(since, until, owner_id=args.owner).as_json()
        data["by_challenge"] = by_challenge_json(metrics.challenge_figures(since, until))
        print(json.dumps(data, indent=2))
    else:
        print(as_text(figures, zone))
        print(by_challenge_text(metrics.challenge_figures(since, until)))
    return EXIT_OK


def by_challenge_json(figures: dict[str, ChallengeFigures]) -> dict[str, Any]:
    """Per challenge id: its words and focus area as the map has them, closes by outcome, and win rate and
    MTTC (null below metrics.MIN_CLOSED_FOR_RATES closes)."""
    chart = challenges.current()
    data: dict[str, Any] = {}
    for challenge_id, figure in figures.items():
        challenge = chart.challenge(challenge_id)
        focus = next((key for key, area in chart.areas.items() if challenge in area.challenges), None)
        data[challenge_id] = {
            "challenge": challenge.text if challenge else None, "focus": focus, "closed": dict(figure.closed),
            "win_rate": _round(figure.win_rate),
            "mttc_days": _figures(figure.mttc_days) if figure.mttc_days is not None else None,
        }
    return data


def by_challenge_text(figures: dict[str, ChallengeFigures]) -> str:
    if not figures:
        return "\nBy business challenge: no engagement closed in these dates had one picked from the map."
    chart = challenges.current()
    lines = ["", f"{'business challenge':<58}{'closed':>7}{'win rate':>10}{'median MTTC':>13}"]
    for challenge_id, figure in figures.items():
        challenge = chart.challenge(challenge_id)
        name = challenge.text if challenge else challenge_id
        median = figure.mttc_days.median if figure.mttc_days is not None else None
        lines.append(f"{name[:57]:<58}{figure.closed_total:>7}{_share(figure.win_rate):>10}{_days(median):>13}")
    lines.append(f"Win rate and MTTC show once {metrics.MIN_CLOSED_FOR_RATES} engagements with a challenge have closed.")
    return "\n".join(lines)


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("engagements", help="engagements: import from a CRM export, export")
    actions = parser.add_subparsers(dest="engagements_command", metavar="ACTION", required=True)

    importing = actions.add_parser(
        "import",
        help="add engagements with their stage history from a YAML or CSV file",
        description="Add engagements from a YAML list (see examples/engagements.yaml) or a CSV file with the "
        "columns " + ",".join(engagements.EXPORT_FIELDS) + " (history in CSV: "
        "'preparation@2026-08-03T09:15:00Z; discovery@2026-08-07T14:00:00Z'). Every row is checked first; "
        "if any is wrong, nothing is written. An engagement whose account and opportunity already exist "
        "is skipped, so the same file can be imported twice.",
    )
    importing.add_argument("file", metavar="FILE", help="a .yaml/.yml or .csv file")
    importing.set_defaults(handler=import_engagements)

    exporting = actions.add_parser("export", help="write every engagement in the import format")
    add_format_option(exporting)
    add_output_option(exporting)
    exporting.set_defaults(handler=export_engagements)

    stats = commands.add_parser(
        "stats",
        help="MTTC, dwell per stage, conversion, open counts and ESAT",
        description="Engagement figures for a window (default: the last 12 weeks). DATE is a day in "
        "EPOS_TIMEZONE; --until includes that whole day. An engagement counts in the window that holds its "
        "closed_at.",
    )
    stats.add_argument("--since", metavar="DATE", help="start of the window (default: 12 weeks before --until)")
    stats.add_argument("--until", metavar="DATE", help="last day of the window (default: now)")
    stats.add_argument("--owner", metavar="USER_ID", help="one owner SE's figures (a Slack user id)")
    add_json_option(stats, "the figures (keys in README › Engagements)")
    stats.add_argument("--pilot", metavar="NAME", help="compare a pilot's engagements with a baseline instead")
    # Checked by the comparison, so a wrong word is the usual one line naming the field.
    stats.add_argument("--baseline", metavar="concurrent|before", default="concurrent",
                       help="with --pilot: everyone else in the same dates (concurrent), or the members just before "
                            "(before); default: concurrent")
    stats.set_defaults(handler=show_stats)
