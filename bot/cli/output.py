"""Where an `epos … export` writes: the file given with --output, or standard output without one."""

from __future__ import annotations

import sys
from pathlib import Path

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
