"""`epos doctor`: check a live installation against what epos needs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli.output import add_json_option
from bot.config import Settings

MARKS = {True: "✓", False: "✗", None: "·"}
EXIT_OK = 0
EXIT_PROBLEMS = 1


def run_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from bot import db, doctor
    from bot.app import make_client

    client = make_client(settings) if settings.slack_bot_token else None
    # No upgrade here: a schema behind the newest is one of the things the doctor reports.
    db.configure(settings.database_url)
    findings = doctor.examine(settings, client)
    if args.json:
        print(json.dumps(doctor.as_json(findings), indent=2))
    else:
        print(report(findings))
    return EXIT_OK if doctor.healthy(findings) else EXIT_PROBLEMS


def report(findings: list[Any]) -> str:
    lines: list[str] = []
    area = None
    for finding in findings:
        if finding.area != area:
            area = finding.area
            lines.append(("" if not lines else "\n") + area)
        lines.append(f"  {MARKS[finding.ok]} {finding.name}: {finding.detail}")
        if finding.ok is False and finding.fix:
            lines.append(f"      fix: {finding.fix}")
    problems = sum(1 for finding in findings if finding.ok is False)
    lines.append("")
    lines.append("All good: epos has what it needs." if not problems else
                 f"{problems} problem{'s' if problems != 1 else ''} to fix (each ✗ above says how).")
    return "\n".join(lines)


def add_commands(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor", help="check this installation: database, token and scopes, channels, people, content, scheduler",
        description="Check a live installation against what epos needs. Exits 1 when anything is wrong.")
    add_json_option(doctor, "the checks")
    doctor.set_defaults(handler=run_doctor)
