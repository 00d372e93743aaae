"""`epos roster import|export` as a person runs them: exit codes, one line per problem, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.services import roster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def environment(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)


def test_import_reports_added_then_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roster", "import", str(EXAMPLES / "roster.yaml")]) == 0
    assert capsys.readouterr().out.strip() == "6 added, 0 updated, 0 unchanged"
    assert main(["roster", "import", str(EXAMPLES / "roster.csv")]) == 0
    assert capsys.readouterr().out.strip() == "0 added, 0 updated, 6 unchanged"


def test_a_bad_file_prints_each_problem_and_imports_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_text("slack_id,name,topics,timezone,work_start,work_end,weekly_capacity\n"
                   "U0GOOD001,Good,apm,UTC,09:00,17:00,3\n"
                   "U0BAD0001,Bad,apm,Nowhere/City,09:00,17:00,3\n", encoding="utf-8")
    assert main(["roster", "import", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{bad}: line 3, field timezone: 'Nowhere/City' is not an IANA timezone like Europe/Berlin"
    assert err[-1] == f"{bad}: nothing imported; fix the 1 problem above and run again"
    assert roster.export_roster() == []


def test_export_writes_what_import_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["roster", "import", str(EXAMPLES / "roster.yaml")])
    out = tmp_path / "out.csv"
    assert main(["roster", "export", "--format", "csv", "-o", str(out)]) == 0
    assert "6 people written to" in capsys.readouterr().out
    assert main(["roster", "import", str(out)]) == 0
    assert capsys.readouterr().out.strip() == "0 added, 0 updated, 6 unchanged"
    assert main(["roster", "export"]) == 0
    assert "slack_id: U0DR1A2B3" in capsys.readouterr().out
