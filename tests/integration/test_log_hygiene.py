"""Nothing unverified reaches the log, and no person's text can forge a log line, in either log format."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.conftest import SE, answer_to
from tests.integration.test_serve_process import served  # noqa: F401 - the real `epos serve` fixture
from tests.support.slack import MockSlack

FORGED = "FORGED-LOG-LINE"
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")


@pytest.mark.parametrize("served", ["text", "json"], indirect=True)
@pytest.mark.usefixtures("served")
def test_unverified_bodies_stay_out_and_typed_newlines_forge_nothing(
    request: pytest.FixtureRequest, slack: MockSlack
) -> None:
    wire, log_path = request.getfixturevalue("served")
    time.sleep(0.5)
    before = log_path.stat().st_size
    # 900 kB that nobody signed: refused, and not one byte of it is logged.
    unsigned = (f"payload=\n2026-12-06 10:00:00,000 ERROR handlers.errors: {FORGED}\n" + "x" * 900_000).encode()
    assert wire.post(unsigned, content_type="application/x-www-form-urlencoded", signature="v0=bad").status == 401
    time.sleep(0.5)
    assert log_path.stat().st_size - before < 2_000, "an unverified body reached the log"

    # Signed, with a newline that would start a forged ERROR line if it were printed as it is.
    typed = f"zzz\n2026-12-06 10:00:00,000 ERROR handlers.errors: {FORGED}"
    answer_to(wire.command("/asset", typed, user_id=SE), slack)
    time.sleep(0.5)
    lines = log_path.read_text().splitlines()
    assert lines
    if request.node.callspec.params["served"] == "json":
        # Every line, gunicorn's own included, is one JSON object.
        records = [json.loads(line) for line in lines]
        assert all(set(record) >= {"time", "level", "logger", "message"} for record in records)
        assert any(record["logger"] == "gunicorn.error" for record in records)
    else:
        # Every line is a record of its own, or an indented line of a traceback.
        assert all(RECORD_START.match(line) or line.startswith("    ") for line in lines), lines
    assert not any(line.startswith("2026-12-06 10:00:00,000 ERROR handlers.errors") for line in lines)
