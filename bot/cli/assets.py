"""`epos assets import|export|search|report`: the central catalogue on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from bot import clock, db
from bot.blocks import asset_outcomes as outcome_text
from bot.blocks.assets import corrected_text, topic_text
from bot.blocks.text import plural
from bot.cli.output import (
    add_format_option,
    add_json_option,
    add_output_option,
    day_window,
    export_format,
    people_names,
    run_import,
    write_rendered,
)
from bot.config import SLACK_USER_ID, Settings
from bot.services import asset_due, asset_outcomes, asset_review, assets
from models.enums import ASSET_TYPE_LABELS

EXIT_OK = 0
EXIT_FAILURE = 1


def _open_database(settings: Settings) -> None:
    db.upgrade(settings.database_url)
    db.configure(settings.database_url)


def import_catalogue(args: argparse.Namespace, settings: Settings) -> int:
    def load(fmt: Literal["yaml", "csv"]) -> str:
        _open_database(settings)
        report = assets.import_file(path, fmt, owner_id=args.owner)
        return f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged"

    path = Path(args.file)
    return run_import(path, settings.import_max_mb, "assets", load,
                      summary=lambda invalid: any(problem.field for problem in invalid.problems)
                      or len(invalid.problems) > 1)


def export_catalogue(args: argparse.Namespace, settings: Settings) -> int:
    _open_database(settings)
    records = assets.export_records()
    return write_rendered(assets.render_export(records, export_format(args)), args.output,
                          written=f"{plural(len(records), 'asset')} written to {args.output}")


def _row(number: int, item: Any) -> list[str]:
    card = item.card
    return [str(number), f"{item.score:.1f}", ASSET_TYPE_LABELS[card.type], card.title, card.url]


def search_catalogue(args: argparse.Namespace, settings: Settings) -> int:
    _open_database(settings)
    query = " ".join(args.query)
    page = assets.search(query, limit=args.limit)
    if args.json:
        print(json.dumps([
            {
                "id": item.card.id,
                "title": item.card.title,
                "type": item.card.type.value,
                "url": item.card.url,
                "score": item.score,
                "summary": item.card.summary,
                "topics": item.card.topics,
                "products": item.card.products,
                "owner": item.card.owner_id,
                "parts": [part.model_dump() for part in item.card.parts],
                "partner": item.card.partner_id,
            }
            for item in page.items
        ], indent=2, ensure_ascii=False))
        return EXIT_OK
    if page.corrections:
        print(f"Showing results for “{corrected_text(page)}” (you typed “{topic_text(page)}”)")
    if not page.items:
        if not page.understood:
            print(f"No asset type or topic in “{query}”; try: epos assets search demo observability")
            return EXIT_OK
        print(f"No assets match “{query}”.")
        if page.suggestions:
            print("Did you mean: " + ", ".join(page.suggestions) + "?")
        return EXIT_OK
    rows = [["#", "score", "type", "title", "url"]] + [_row(n, item) for n, item in enumerate(page.items, start=1)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip())
    if page.total > len(page.items):
        print(f"({len(page.items)} of {page.total}; use --limit to see more)")
    return EXIT_OK


REPORT_WINDOW = timedelta(weeks=12)


def report_outcomes(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.timezone
    try:
        since, until = day_window(args.since, args.until, zone, clock.now(), REPORT_WINDOW)
    except ValueError as error:
        print(f"epos assets report: {error}", file=sys.stderr)
        return EXIT_FAILURE
    _open_database(settings)
    report = asset_outcomes.report(since.astimezone(zone), until.astimezone(zone))
    name_of = people_names(settings, report.people)
    rendered = (json.dumps(report.as_json(name_of), indent=2, ensure_ascii=False) + "\n" if args.json
                else outcome_text.report_text(report, zone, name_of))
    return write_rendered(rendered, args.output,
                          written=f"{plural(len(report.assets), 'asset')} written to {args.output}")


def due_reviews(args: argparse.Namespace, settings: Settings) -> int:
    """`epos assets due`: published assets whose review is overdue, longest overdue first."""
    _open_database(settings)
    asset_due.configure(settings.review_days())
    items = asset_review.overdue()
    name_of = people_names(settings, {item.verifier_id for item in items})
    records = [
        {
            "id": item.id,
            "title": item.title,
            "url": item.url,
            "verifier_id": item.verifier_id,
            "verifier": name_of(item.verifier_id),
            "due": item.due_at.astimezone(settings.timezone).date().isoformat(),
            "days_overdue": item.days_overdue,
        }
        for item in items
    ]
    if args.json:
        rendered = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    elif not records:
        rendered = "No asset is overdue for review.\n"
    else:
        rows = [["due", "overdue", "verifier", "title", "url"]] + [
            [r["due"], plural(r["days_overdue"], "day"), r["verifier"], r["title"], r["url"]] for r in records
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip()
                 for row in rows]
        rendered = "\n".join(lines) + f"\n{plural(len(records), 'asset')} overdue for review.\n"
    return write_rendered(rendered, args.output,
                          written=f"{plural(len(records), 'overdue asset')} written to {args.output}")


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= assets.MAX_PAGE_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 1 and {assets.MAX_PAGE_SIZE}")
    return value


def _user_id(text: str) -> str:
    if not SLACK_USER_ID.match(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Slack member id like U0123ABCD")
    return text.strip()


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("assets", help="the asset catalogue: import, export, search, report, due reviews")
    actions = parser.add_subparsers(dest="assets_command", metavar="ACTION", required=True)

    importing = actions.add_parser(
        "import",
        help="add or update assets from a YAML or CSV file (keyed by url)",
        description="Add or update assets from a YAML list or a CSV file with the columns "
        "title,type,summary,url,topics,products,depth,scope,interactivity,cycle,owner,status,customer_facing,"
        "parts,partner,verifier,review_every_days,verified_at (topics and products separated by ';' in CSV; "
        "parts one 'Label: link' per line). Every row is checked first; if any is wrong, nothing is written.",
    )
    importing.add_argument("file", metavar="FILE", help="a .yaml/.yml or .csv file")
    importing.add_argument("--owner", metavar="USER_ID", type=_user_id,
                           help="make this Slack member (U0123ABCD) the owner of every asset, whatever the file says; "
                                "for the sample catalogue in a real workspace")
    importing.set_defaults(handler=import_catalogue)

    exporting = actions.add_parser("export", help="write the whole catalogue in the import format")
    add_format_option(exporting)
    add_output_option(exporting)
    exporting.set_defaults(handler=export_catalogue)

    searching = actions.add_parser("search", help="search published assets as /asset does")
    searching.add_argument("query", nargs="+", metavar="QUERY", help="e.g. demo observability")
    add_json_option(searching, "the results (title, type, url, score, …)")
    searching.add_argument("--limit", metavar="N", type=_limit, default=assets.PAGE_SIZE,
                           help=f"how many results, 1 to {assets.MAX_PAGE_SIZE} (default: {assets.PAGE_SIZE})")
    searching.set_defaults(handler=search_catalogue)

    reporting = actions.add_parser(
        "report",
        help="which assets were used in which engagements, and how those went",
        description="Each asset shared into an engagement while it was open, for the engagements that closed "
        "from --since to --until (days in EPOS_TIMEZONE; default: the last 12 weeks) or were still open and got "
        "it in that time: their stage when it was first shared, won, lost and open counts, win rate and median "
        "time to close against the team's, and how many SEs shared it. Rates need at least "
        f"{outcome_text.MIN_FOR_RATES} closed engagements. Practice engagements never count.",
    )
    reporting.add_argument("--since", metavar="DATE",
                           help="first day of the window, like 2026-10-01 (default: 12 weeks before --until)")
    reporting.add_argument("--until", metavar="DATE", help="last day of the window, included whole (default: now)")
    add_output_option(reporting)
    add_json_option(reporting, "the report (keys in README › Assets in engagements)")
    reporting.set_defaults(handler=report_outcomes)
    due = actions.add_parser(
        "due", help="list published assets whose review is overdue",
        description="Published assets whose review is overdue (one review interval since they were last "
        "verified: the asset's own, else ASSET_REVIEW_DAYS for its type), longest overdue first, with their "
        "verifier, due date (in EPOS_TIMEZONE) and days overdue.",
    )
    add_json_option(due, "the overdue assets (title, url, verifier, due date, days overdue)")
    add_output_option(due)
    due.set_defaults(handler=due_reviews)
