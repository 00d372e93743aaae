"""Log lines: one record is one line whatever a person typed, secrets never printed, and JSON for shippers."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from bot.errors import NotFound
from bot.logs import configure_logging
from handlers.errors import report

FORGED = "note\n2026-12-06 10:00:00,000 ERROR handlers.errors: FORGED-LOG-LINE\r\x1b[2Kgone\u2028x"
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")


@pytest.fixture
def captured() -> Iterator[callable]:  # type: ignore[valid-type]
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()

    def configure(log_format: str) -> io.StringIO:
        configure_logging("INFO", ["my-signing-secret"], log_format)
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        return stream

    yield configure
    root.handlers, root.level = saved_handlers, saved_level


def test_user_text_cannot_forge_a_text_line(captured) -> None:  # type: ignore[no-untyped-def]
    stream = captured("text")
    logging.getLogger("handlers.engagements").warning("could not save the note %r", FORGED)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "FORGED-LOG-LINE" in lines[0]
    assert "\\n2026-12-06" in lines[0] and "\\x1b" in lines[0] and "\\u2028" in lines[0]


def test_a_traceback_is_indented_so_no_line_of_it_passes_for_a_record(captured) -> None:  # type: ignore[no-untyped-def]
    stream = captured("text")
    try:
        raise ValueError(FORGED)
    except ValueError:
        logging.getLogger("bot.jobs").exception("the tick failed with secret my-signing-secret")
    lines = stream.getvalue().splitlines()
    assert [line for line in lines if RECORD_START.match(line)] == [lines[0]]
    assert lines[0].endswith("the tick failed with secret [secret]")
    assert lines[1] == "    Traceback (most recent call last):"
    assert all(line.startswith("    ") for line in lines[1:])


def test_json_format_is_one_object_a_line_with_the_correlation_id(captured) -> None:  # type: ignore[no-untyped-def]
    stream = captured("json")
    report(NotFound("No engagement for Acme"), "slash command")
    try:
        raise RuntimeError("boom xoxb-123-abc")
    except RuntimeError as error:
        apology = report(error, "view_submission")
    logging.getLogger("handlers.engagements").warning("note was %s", FORGED)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    known, unexpected, forged = (json.loads(line) for line in lines)
    assert known["level"] == "INFO" and known["logger"] == "handlers.errors"
    assert known["message"].startswith(f"ref={known['correlation_id']} NotFound")
    # The reference the person is given is the one an operator searches the log for.
    assert unexpected["level"] == "ERROR" and unexpected["correlation_id"] in apology
    assert "RuntimeError: boom [token]" in unexpected["traceback"]
    assert "xoxb-123-abc" not in stream.getvalue()
    assert "FORGED-LOG-LINE" in forged["message"] and "\n" not in forged["message"]
