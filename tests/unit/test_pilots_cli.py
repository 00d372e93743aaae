"""`epos pilot …` and `epos stats --pilot` on the command line (the figures: tests/unit/test_pilots_cohorts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import clock
from bot.cli import main
from bot.services import people
from tests.conftest import SE
from tests.engagements_helpers import utc
from tests.unit.test_engagements_cli import cli_env  # noqa: F401 - the fixture
from tests.unit.test_pilots_cohorts import LATE, NAME, OTHER, fixture  # noqa: F401 - the fixture


def test_create_add_remove_end_and_list(cli_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:  # noqa: F811
    clock.set_now(utc("2026-09-15"))
    members = tmp_path / "members.txt"
    members.write_text(f"{SE}\n{LATE}\n", encoding="utf-8")

    assert main(["pilot", "create", "Spring", "--start", "2026-09-01", "--members-file", str(members)]) == 0
    assert "Pilot Spring created: from 2026-09-01, 2 members." in capsys.readouterr().out
    assert main(["pilot", "add", "Spring", OTHER]) == 0
    assert main(["pilot", "remove", "Spring", LATE, "--on", "2026-09-10"]) == 0
    assert main(["pilot", "end", "Spring", "--on", "2026-09-30"]) == 0
    capsys.readouterr()

    assert main(["pilot", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "Spring", "start": "2026-09-01", "end": "2026-09-30", "members": [SE, OTHER]}]
    people.remember(SE, name="Dana Reyes", timezone="Europe/Berlin")
    assert main(["pilot", "list"]) == 0
    # Named as Slack names them; only someone Slack cannot name shows as their id.
    assert capsys.readouterr().out == f"Spring: from 2026-09-01 to 2026-09-30; members Dana Reyes, {OTHER}\n"


def test_bad_input_is_one_line_naming_the_field(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert main(["pilot", "create", "Spring", "--start", "2026-09-01", "--members", "U0A1B2C3D,bob"]) == 1
    assert capsys.readouterr().err == "epos: members: 'bob' is not a Slack user id like U0123ABCD\n"
    assert main(["pilot", "end", "Nowhere", "--on", "2026-09-30"]) == 1
    assert capsys.readouterr().err == "epos: name: there is no pilot called 'Nowhere' (pilots: none yet)\n"
    assert main(["pilot", "list"]) == 0
    assert "No pilots yet" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "line"), [
    (["pilot", "create", "Spring", "--start", "1 Sept", "--members", "U0A1B2C3D"],
     "start: '1 Sept' is not a date like 2026-10-01"),
    (["pilot", "add", "Spring", "U0A1B2C3D", "--on", "tomorrow"], "on: 'tomorrow' is not a date like 2026-10-01"),
    (["pilot", "remove", "Spring", "U0A1B2C3D", "--on", "2026-13-01"],
     "on: '2026-13-01' is not a date like 2026-10-01"),
    (["pilot", "end", "Spring", "--on", "30.09.2026"], "end: '30.09.2026' is not a date like 2026-10-01"),
    (["stats", "--pilot", "Spring", "--baseline", "last year"], "baseline: use concurrent or before, not 'last year'"),
])
def test_a_bad_date_or_baseline_is_one_line_naming_the_field(cli_env: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                                              argv: list[str], line: str) -> None:
    assert main(["pilot", "create", "Spring", "--start", "2026-09-01", "--members", "U0A1B2C3D"]) == 0
    capsys.readouterr()

    assert main(argv) == 1

    assert capsys.readouterr().err == f"epos: {line}\n"
    assert main(["pilot", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["end"] is None


def test_the_text_says_why_there_is_no_difference_yet(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert main(["pilot", "create", "Spring", "--start", "2026-09-01", "--members", "U0A1B2C3D"]) == 0
    capsys.readouterr()

    assert main(["stats", "--pilot", "Spring"]) == 0

    text = capsys.readouterr().out
    assert "MTTC median, pilot minus baseline: — (no closes to compare)\n" in text
    assert "— days" not in text


def test_stats_for_a_pilot_as_json(cli_env: str, fixture: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    clock.set_now(utc("2026-10-01"))

    assert main(["stats", "--pilot", NAME, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert data["pilot"] == {"name": NAME, "start": "2026-09-01", "end": None, "members": [SE, LATE]}
    assert data["baseline_kind"] == "concurrent"
    assert data["pilot_group"]["engagements"] == 5
    assert data["pilot_group"]["closed"] == {"won": 2, "lost": 2, "no_decision": 0}
    assert data["pilot_group"]["mttc_days"] == {"mean": 12.5, "median": 13.0}
    assert data["pilot_group"]["win_rate"] == 0.5
    assert data["pilot_group"]["stage_dwell_days_median"]["preparation"] == 16.0
    assert data["pilot_group"]["esat"] == {"mean": 3.0, "count": 2}
    assert data["baseline_group"]["mttc_days"] == {"mean": 15.0, "median": 15.0}
    assert data["difference"]["mttc_days_median"]["value"] == -2.0
    low, high = data["difference"]["mttc_days_median"]["ci95"]
    assert low <= -2.0 <= high
    assert set(data["difference"]["win_rate"]) == {"value", "ci95"}
    assert data["verdict"] == "too few closes"

    people.remember(SE, name="Dana Reyes", timezone="Europe/Berlin")
    assert main(["stats", "--pilot", NAME, "--baseline", "before"]) == 0
    text = capsys.readouterr().out
    assert "baseline: before" in text and "Verdict: too few closes" in text
    # Named as `epos pilot list` names them; only someone Slack cannot name shows as their id.
    assert f"Members: Dana Reyes, {LATE}; baseline: before" in text


def test_a_window_or_owner_given_with_a_pilot_is_refused_not_ignored(cli_env: str,  # noqa: F811
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pilot", "create", "Spring", "--start", "2026-09-01", "--members", "U0A1B2C3D"]) == 0
    capsys.readouterr()

    assert main(["stats", "--pilot", "Spring", "--since", "2026-10-01", "--owner", "U0A1B2C3D", "--json"]) == 1

    captured = capsys.readouterr()
    assert captured.err == ("epos stats: --since and --owner cannot go with --pilot, whose dates make the window "
                            "(README › Pilot and rollout)\n")
    assert captured.out == ""
