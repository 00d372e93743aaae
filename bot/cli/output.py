"""Where an `epos … export` writes: the file given with -o/--output, or standard output without one; and
the options every command spells the same way."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from bot.blocks.text import plural
from bot.services.importing import NOT_UTF8, ImportInvalid, empty_refusal, file_hints, size_refusal

EXIT_OK = 0
EXIT_FAILURE = 1
# How many of a refused import file's problems are printed; the rest are counted.
SHOWN_PROBLEMS = 10
IMPORT_FORMATS: dict[str, Literal["yaml", "csv"]] = {".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}


def write_rendered(rendered: str, output: str | None, *, written: str | None = None) -> int:
    """Write `rendered` to `output` (then print `written`, if given) or to standard output; the exit code.
    A file that cannot be written is one line on standard error."""
    if not output:
        sys.stdout.write(rendered)
        return EXIT_OK
    try:
        Path(output).write_text(rendered, encoding="utf-8")
    except OSError as error:
        print(f"{output}: cannot be written ({error.strerror or error})", file=sys.stderr)
        return EXIT_FAILURE
    if written:
        print(written)
    return EXIT_OK


def add_output_option(parser: Any) -> None:
    """`-o/--output FILE`, as every export takes it."""
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def add_format_option(parser: Any) -> None:
    """`--format yaml|csv`, as every export takes it; read it with `export_format`."""
    parser.add_argument("--format", choices=("yaml", "csv"),
                        help="yaml or csv (default: the --output file's extension, else yaml)")


def export_format(args: Any) -> Literal["yaml", "csv"]:
    """The format asked for, else the one the output file's name says (`-o team.csv` is CSV), else YAML."""
    if args.format:
        return args.format  # type: ignore[no-any-return]
    suffix = Path(args.output).suffix.lower() if args.output else ""
    return "csv" if suffix == ".csv" else "yaml"


def add_json_option(parser: Any, what: str) -> None:
    """`--json`: print `what` as JSON instead of text."""
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON, for machines")


def refuse_import(path: Path, problems: list[str], kind: str, *, summary: bool = True) -> int:
    """Print why an import file was refused on standard error: its first SHOWN_PROBLEMS problems, how many
    more there are, what to do (with `summary`), and what the file seems to be instead; the exit code."""
    for problem in problems[:SHOWN_PROBLEMS]:
        print(problem, file=sys.stderr)
    hidden = len(problems) - SHOWN_PROBLEMS
    if hidden > 0:
        print(f"{path}: and {plural(hidden, 'more problem')}", file=sys.stderr)
    if summary:
        where = "" if hidden > 0 else " above"
        print(f"{path}: nothing imported; fix the {plural(len(problems), 'problem')}{where} and run again",
              file=sys.stderr)
    for hint in file_hints(path, kind):
        print(hint, file=sys.stderr)
    return EXIT_FAILURE


def run_import(path: Path, limit_mb: int, kind: str, load: Callable[[Literal["yaml", "csv"]], str], *,
               summary: Callable[[ImportInvalid], bool] = lambda _invalid: True,
               refused: tuple[type[Exception], ...] = ()) -> int:
    """An `epos … import FILE`: the file refused with one line (format, size, empty, missing, unreadable, not
    UTF-8, or any of `refused`) or its problems; else `load(format)` opens the database, imports, and says
    what it did in the line printed. The exit code."""
    fmt = IMPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        return _fail(f"{path}: use a .yaml, .yml or .csv file (the format is taken from the extension)")
    if refusal := size_refusal(path, limit_mb):
        return _fail(refusal)
    if (empty := refuse_empty(path, kind)) is not None:
        return empty
    try:
        done = load(fmt)
    except FileNotFoundError:
        return _fail(f"{path}: no such file")
    except UnicodeDecodeError:
        return _fail(f"{path}: {NOT_UTF8}")
    except OSError as error:
        return _fail(f"{path}: cannot be read ({error.strerror or error})")
    except ImportInvalid as invalid:
        return refuse_import(path, [problem.line(str(path)) for problem in invalid.problems], kind,
                             summary=summary(invalid))
    except refused as error:
        return _fail(f"{path}: {error}")
    print(done)
    return EXIT_OK


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_FAILURE


def refuse_empty(path: Path, kind: str) -> int | None:
    """EXIT_FAILURE, having said so, when the import file is empty; None otherwise."""
    refusal = empty_refusal(path, kind)
    if refusal is None:
        return None
    print(refusal, file=sys.stderr)
    return EXIT_FAILURE


def people_names(settings: Any, user_ids: Any) -> Any:
    """`name_of(user_id)` for what a command prints: names as Slack shows them (`users.info`, cached), the
    Slack id only for someone Slack cannot name (no `SLACK_BOT_TOKEN`, a user it does not know)."""
    from bot import slack_people
    from bot.app import make_client

    client = make_client(settings) if settings.slack_bot_token else None
    directory = slack_people.Directory(client)
    directory.prefetch(list(user_ids))

    def name_of(user_id: str) -> str:
        return directory.person(user_id).name or user_id

    return name_of


def _day(flag: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{flag} {value!r} is not a date; write it like 2026-10-01") from None


def day_window(since: str | None, until: str | None, zone: Any, now: datetime,
               default: timedelta) -> tuple[datetime, datetime]:
    """The window of `--since DATE --until DATE`, days in EPOS_TIMEZONE: from the start of the --since day
    (default: `default` before the end) to the end of the --until day, included whole (default: now), and
    never past now. A ValueError says what is wrong with either."""
    end = now if until is None else min(now, datetime.combine(_day("--until", until) + timedelta(days=1), time(0),
                                                              tzinfo=zone))
    if since is None:
        return end - default, end
    day = _day("--since", since)
    start = datetime.combine(day, time(0), tzinfo=zone)
    if start > now:
        raise ValueError(f"--since {day.isoformat()} is in the future; pick today or an earlier day")
    if start >= end:
        raise ValueError("--until must be after --since")
    return start, end
