"""`epos adoption`: the figures of the hand-computed fixture (tests/unit/test_adoption.py) on the command
line, as JSON and as text; --since; a bad date is one line naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import clock
from bot.cli import main
from bot.services import people
from tests.conftest import MANAGER, SE, SELLER, STRANGER
from tests.devrel_helpers import LENA, MARCUS
from tests.engagements_helpers import utc
from tests.unit.test_adoption import MANAGER_2, SE_2, SELLER_2, hand_computed


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EPOS_TIMEZONE", "UTC")
    monkeypatch.setenv("EPOS_MANAGERS", f"{MANAGER},{MANAGER_2}")
    clock.set_now(utc("2026-11-15 00:00"))
    return database_url


def test_json_gives_each_role_its_people_uses_features_and_who_has_not_used_it(
        cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    hand_computed()
    people.remember(SE, name="Sam Carter", timezone="Europe/Berlin")

    assert main(["adoption", "--since", "2026-11-01", "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    # Until now (the clock runs on from the moment it was set).
    assert data["window"]["since"] == "2026-11-01T00:00:00+00:00"
    assert data["window"]["until"].startswith("2026-11-15T00:00")
    assert list(data["roles"]) == ["se", "seller", "devrel", "manager", "other"]
    assert data["roles"]["se"] == {
        "people": 3, "used": 1, "features": {"open": 1, "stage_change": 1, "devrel_request": 1},
        "users": [{"user_id": SE, "name": "Sam Carter", "features": ["open", "stage_change", "devrel_request"]}],
        "not_yet": [{"user_id": SE_2, "name": SE_2}],
    }
    assert data["roles"]["seller"]["features"] == {"search": 1, "note": 1}
    assert data["roles"]["seller"]["not_yet"] == [{"user_id": SELLER_2, "name": SELLER_2}]
    # The roster's names, without asking Slack.
    assert data["roles"]["devrel"]["users"][0] == {"user_id": LENA, "name": "Lena Hoffmann",
                                                   "features": ["share", "devrel_answer"]}
    assert data["roles"]["devrel"]["not_yet"] == [{"user_id": MARCUS, "name": "Marcus Reed"}]
    assert (data["roles"]["manager"]["used"], data["roles"]["manager"]["people"]) == (1, 2)
    assert data["roles"]["other"]["users"][0]["user_id"] == STRANGER
    assert SELLER in [u["user_id"] for u in data["roles"]["seller"]["users"]]


def test_since_narrows_the_window(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    hand_computed()

    assert main(["adoption", "--since", "2026-11-09", "--json"]) == 0

    roles = json.loads(capsys.readouterr().out)["roles"]
    # Only the manager's look at the figures (10 Nov) and the stranger's search (12 Nov) are that late.
    assert [(role, figures["used"]) for role, figures in roles.items()] == [
        ("se", 0), ("seller", 0), ("devrel", 0), ("manager", 1), ("other", 1)]


def test_the_text_reads_aloud_with_names(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    hand_computed()

    assert main(["adoption", "--since", "2026-11-01"]) == 0

    out = capsys.readouterr().out
    assert "Adoption of epos, 2026-11-01 00:00 – 2026-11-15 00:00 (UTC)" in out
    assert ("SEs: 1 of 3 used epos; 1 opened an engagement, 1 logged a stage change, 1 requested DevRel. "
            f"Not yet: {SE_2}.") in out
    assert "DevRel: 1 of 2 used epos; 1 shared an asset, 1 answered a DevRel ask. Not yet: Marcus Reed." in out
    assert "Others: 1 person in no role used epos; 1 searched for assets." in out
    assert "(s)" not in out


@pytest.mark.parametrize(("since", "message"), [
    ("2026-13-01", "epos adoption: --since '2026-13-01' is not a date; write it like 2026-10-01\n"),
    ("last week", "epos adoption: --since 'last week' is not a date; write it like 2026-10-01\n"),
    ("2026-12-01", "epos adoption: --since 2026-12-01 is in the future; pick today or an earlier day\n"),
])
def test_a_bad_since_is_one_line_naming_the_field(cli_env: str, capsys: pytest.CaptureFixture[str], since: str,
                                                  message: str) -> None:
    assert main(["adoption", "--since", since]) == 1
    captured = capsys.readouterr()
    assert captured.err == message and captured.out == ""


def test_until_ends_the_window_with_that_whole_day(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    hand_computed()

    assert main(["adoption", "--since", "2026-11-01", "--until", "2026-11-09"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Adoption of epos, 2026-11-01 00:00 – 2026-11-10 00:00 (UTC)"
    assert main(["adoption", "--until", "2026-11-09", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["window"] == {"since": "2026-10-13T00:00:00+00:00",
                                                            "until": "2026-11-10T00:00:00+00:00"}


def test_an_until_before_since_is_one_line(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adoption", "--since", "2026-11-09", "--until", "2026-11-01"]) == 1
    assert capsys.readouterr().err == "epos adoption: --until must be after --since\n"
