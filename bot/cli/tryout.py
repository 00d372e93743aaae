"""`epos try`: the whole bot in the terminal, against a stand-in for Slack (see bot/tryout)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
DEFAULT_OUTPUT = "try-output"


def default_examples() -> Path:
    """`./examples` when run from a checkout; else the examples beside the installed sources."""
    here = Path("examples")
    if (here / "assets.yaml").is_file():
        return here
    return Path(__file__).resolve().parents[2] / "examples"


def parse_start(text: str, settings: Settings) -> datetime:
    from bot.tryout.session import TEAM_TIMEZONE
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date and time like 2026-11-13T08:30") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(TEAM_TIMEZONE))


def run_try(args: argparse.Namespace, settings: Settings) -> int:
    from bot.tryout.script import run_script
    from bot.tryout.session import TrySession
    from bot.tryout.terminal import color_wanted, interact

    output = Path(args.output)
    examples = Path(args.examples) if args.examples else default_examples()
    try:
        start = parse_start(args.start, settings) if args.start else None
    except argparse.ArgumentTypeError as error:
        print(f"epos try: --start: {error}", file=sys.stderr)
        return EXIT_FAILURE
    script_text = None
    if args.script:
        try:
            script_text = Path(args.script).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            print(f"epos try: {args.script}: no such file", file=sys.stderr)
            return EXIT_FAILURE
        except (OSError, UnicodeDecodeError) as error:
            print(f"epos try: {args.script}: cannot be read ({error})", file=sys.stderr)
            return EXIT_FAILURE
    try:
        session = TrySession(
            output_dir=output,
            examples_dir=examples,
            start=start,
            color=color_wanted(args.no_color) and script_text is None,
            interactive=script_text is None,
            base_settings=settings,
            persona=args.persona,
        )
    except ValueError as error:
        print(f"epos try: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if script_text is None:
        return interact(session)
    try:
        for line in session.open():
            print(line)
        result = run_script(session, script_text, print)
    finally:
        session.close()
    if result.ok:
        print(f"✓ {args.script}: {result.steps} steps, all as expected")
        return EXIT_OK
    return EXIT_FAILURE


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "try",
        help="the whole bot in your terminal, against a stand-in for Slack (no workspace or tokens needed)",
        description="Play epos as an SE, a seller, DevRel, a manager or an admin, on a scratch database "
        "loaded with the sample data. Type :help inside for the commands.",
    )
    parser.add_argument("--script", metavar="FILE", help="run the lines of FILE non-interactively (e.g. examples/tour.epos)")
    parser.add_argument("-o", "--output", metavar="DIR", default=DEFAULT_OUTPUT,
                        help=f"the folder where the log, history and uploaded files go (default: {DEFAULT_OUTPUT}/)")
    parser.add_argument("--examples", metavar="DIR", help="folder with assets.yaml, roster.yaml, engagements.yaml")
    parser.add_argument("--as", dest="persona", default="sam", metavar="NAME", help="who you are at the start (default: sam)")
    parser.add_argument("--start", metavar="YYYY-MM-DDTHH:MM",
                        help="the clock's starting point, in Europe/Berlin unless an offset is given (default 2026-11-13T10:00, a Friday)")
    parser.add_argument("--no-color", action="store_true", help="plain text, no terminal colours")
    parser.set_defaults(handler=run_try)
