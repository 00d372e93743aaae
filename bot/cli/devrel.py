"""`epos roster import|export`: the DevRel roster on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot import db
from bot.blocks.text import plural
from bot.cli.output import (add_format_option, add_output_option, export_format, refuse_empty, refuse_import,
                            write_rendered)
from bot.config import Settings
from bot.errors import EposError
from bot.services import roster
from bot.services.importing import ImportInvalid, size_refusal

EXIT_OK = 0
EXIT_FAILURE = 1


def _open_database(settings: Settings) -> None:
    db.upgrade(settings.database_url)
    db.configure(settings.database_url)


def import_roster(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    if refusal := size_refusal(path, settings.import_max_mb):
        print(refusal, file=sys.stderr)
        return EXIT_FAILURE
    if (empty := refuse_empty(path, "roster")) is not None:
        return empty
    try:
        roster.check_roster_file(path)
    except ImportInvalid as invalid:
        return refuse_import(path, [problem.line(str(path)) for problem in invalid.problems], "roster")
    _open_database(settings)
    try:
        result = roster.import_roster_file(path)
    except EposError as refused:
        print(f"{path}: {refused}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{len(result.added)} added, {len(result.updated)} updated, {len(result.unchanged)} unchanged")
    return EXIT_OK


def export_roster(args: argparse.Namespace, settings: Settings) -> int:
    _open_database(settings)
    entries = roster.export_roster()
    rendered = roster.to_csv(entries) if export_format(args) == "csv" else roster.to_yaml(entries)
    return write_rendered(rendered, args.output, written=f"{plural(len(entries), 'person', 'people')} written to {args.output}")


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("roster", help="the DevRel roster: import or export people")
    actions = parser.add_subparsers(dest="roster_command", metavar="ACTION", required=True)

    importing = actions.add_parser(
        "import", help="add or update DevRel people from a YAML or CSV file (all or nothing)",
        description="Upserts people by slack_id. The file is checked whole first; on any problem nothing is written "
                    "and each problem is printed with its item (YAML) or line (CSV) and field.",
    )
    importing.add_argument("file", metavar="FILE", help="a .yaml/.yml or .csv file (see examples/roster.yaml)")
    importing.set_defaults(handler=import_roster)

    exporting = actions.add_parser("export", help="print the roster as YAML (or CSV) that import reads back")
    add_format_option(exporting)
    add_output_option(exporting)
    exporting.set_defaults(handler=export_roster)
