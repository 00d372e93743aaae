"""Where an `epos … export` writes: the file given with -o/--output, or standard output without one; and
the options every command spells the same way."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1


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
    """`--format yaml|csv`, as every export takes it."""
    parser.add_argument("--format", choices=("yaml", "csv"), default="yaml", help="yaml or csv (default: yaml)")


def add_json_option(parser: Any, what: str) -> None:
    """`--json`: print `what` as JSON instead of text."""
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON, for machines")
