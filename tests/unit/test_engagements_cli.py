"""`epos engagements import|export` and `epos stats` on the command line.

`epos stats --json` on examples/engagements.yaml, window 2026-08-01 – 2026-11-30 (UTC), by hand:

MTTC (closed_at − opened_at, days), the five closed engagements:
  Northbeam  08-03 09:15 → 10-02 16:45 = 60 d 7.5 h  = 60.3125   won
  Bluefin    08-10 08:30 → 10-20 17:00 = 71 d 8.5 h  = 71.354167 won
  Helios     08-17 10:00 → 10-05 12:00 = 49 d 2 h    = 49.083333 lost
  Orbital    08-25 07:45 → 10-28 09:00 = 64 d 1.25 h = 64.052083 no decision
  Kestrel    09-01 11:00 → 11-06 18:00 = 66 d 7 h    = 66.291667 won
  all: mean 311.09375 / 5 = 62.21875, median 64.052083; won: mean 197.958333 / 3 = 65.986111, median 66.291667
Median dwell in preparation (every completed stint; Maple Grid started in discovery, Summit is still in it):
  3.1875 (Bluefin), 3.208333 (Kestrel), 4.197917 (Northbeam), 4.208333 (Helios), 4.208333 (Granite),
  6.083333 (Lumen), 7.0625 (Polaris), 7.239583 (Orbital), 7.291667 (Quartz), 8.145833 (Tidewater)
  → ten stints, median (4.208333 + 6.083333) / 2 = 5.145833
Median dwell in POC: 8.1875 (Granite, back to discovery), 18.104167 (Bluefin), 21.083333 (Northbeam),
  21.229167 (Kestrel), 26.125 (Helios, closed lost), 28.208333 (Lumen) → (21.083333 + 21.229167) / 2 = 21.15625
Open at the end of the window: Summit preparation; Tidewater discovery; Granite, Quartz demo; Polaris,
  Maple Grid POC; Lumen sizing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import db
from bot.cli import main
from bot.services import engagements
from models import Engagement, StageChange
from tests.engagements_helpers import SE_ACTOR, move, open_engagement

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "engagements.yaml"


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EPOS_TIMEZONE", "UTC")
    return database_url


def count(model: type) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_examples_import_once_and_again_change_nothing(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engagements", "import", str(EXAMPLES)]) == 0
    assert "12 imported, 0 skipped" in capsys.readouterr().out
    changes = count(StageChange)
    assert main(["engagements", "import", str(EXAMPLES)]) == 0
    assert "0 imported, 12 skipped" in capsys.readouterr().out
    assert (count(Engagement), count(StageChange)) == (12, changes)


def test_stats_json_on_the_imported_examples_matches_the_hand_computation(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["engagements", "import", str(EXAMPLES)]) == 0
    capsys.readouterr()
    assert main(["stats", "--since", "2026-08-01", "--until", "2026-11-30", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)

    assert figures["window"]["since"].startswith("2026-08-01T00:00") and figures["window"]["until"].startswith("2026-12-01T00:00")
    assert figures["closed"] == {"won": 3, "lost": 1, "no_decision": 1}
    assert figures["win_rate"] == pytest.approx(0.6)
    assert figures["mttc_days"]["mean"] == pytest.approx(62.21875, abs=1e-4)
    assert figures["mttc_days"]["median"] == pytest.approx(64.052083, abs=1e-4)
    assert figures["mttc_days_won"]["mean"] == pytest.approx(65.986111, abs=1e-4)
    assert figures["mttc_days_won"]["median"] == pytest.approx(66.291667, abs=1e-4)
    assert figures["stage_dwell_days_median"]["preparation"] == pytest.approx(5.145833, abs=1e-4)
    assert figures["stage_dwell_days_median"]["poc"] == pytest.approx(21.15625, abs=1e-4)
    assert figures["open_by_stage"] == {"preparation": 1, "discovery": 1, "demo": 2, "poc": 2, "tech_qa": 0, "sizing": 1}
    assert figures["esat"] == {"mean": None, "count": 0}
    assert set(figures) >= {"closed", "mttc_days", "mttc_days_won", "stage_dwell_days_median", "open_by_stage", "esat"}
    # An import ticks no checklist: every close left its deliverables undone.
    deliverables = figures["deliverables"]
    assert deliverables["completed"] == {"closed": 0, "won": 0, "win_rate": None, "mttc_days_median": None}
    assert deliverables["not_completed"]["closed"] == 5 and deliverables["not_completed"]["win_rate"] == pytest.approx(0.6)
    assert deliverables["not_completed"]["mttc_days_median"] == pytest.approx(64.052083, abs=1e-4)
    assert deliverables["by_stage"]["preparation"]["all_done"] == 0 and deliverables["min_count"] == 5


def test_stats_for_one_owner_and_as_text(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engagements", "import", str(EXAMPLES)]) == 0
    capsys.readouterr()
    assert main(["stats", "--since", "2026-08-01", "--until", "2026-11-30", "--owner", "U0A1B2C3D", "--json"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert mine["closed"] == {"won": 2, "lost": 0, "no_decision": 0}  # Northbeam and Kestrel
    assert main(["stats", "--since", "2026-08-01", "--until", "2026-11-30"]) == 0
    text = capsys.readouterr().out
    assert "3 won, 1 lost, 1 no decision" in text and "slowest" in text


@pytest.mark.parametrize("argv", [["stats", "--since", "yesterday"], ["stats", "--since", "2026-10-01", "--until", "2026-09-01"],
                                  ["stats", "--owner", "bob"]])
def test_bad_stats_arguments_are_one_clear_line(cli_env: str, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("epos stats:") and "\n" not in err


def test_a_bad_file_lists_every_problem_with_item_and_field_and_writes_nothing(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "crm.yaml"
    bad.write_text(
        """
- account: Good Co
  opportunity: Fine
  owner: U0A1B2C3D
  seller: U0S1A2B3C
  focus: observability
  opened_at: "2026-09-01T10:00:00Z"
  history: [{stage: preparation, at: "2026-09-01T10:00:00Z"}]
- account: Bad Co
  opportunity: Broken
  owner: bob
  seller: U0S1A2B3C
  focus: security
  opened_at: "2026-09-01T10:00:00Z"
  history:
    - {stage: preparation, at: "2026-09-01T10:00:00Z"}
    - {stage: demo, at: "2026-08-30T10:00:00Z"}
    - {stage: warp, at: "2026-09-05T10:00:00Z"}
  closed_at: "2026-09-10T10:00:00Z"
- account: Good Co
  opportunity: fine
  owner: U0A1B2C3D
  seller: U0S1A2B3C
  focus: observability
  opened_at: "2026-09-02"
  history: [{stage: discovery, at: "2026-09-03"}]
  outcome: won
""")
    assert main(["engagements", "import", str(bad)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert f"{bad}: item 2, field owner: is not a Slack user id like U0123ABCD" in lines
    assert any(line.startswith(f"{bad}: item 2, field history.3.stage:") for line in lines)
    assert f"{bad}: item 3, field history.1.at: the first entry is the starting stage, so its `at` must equal opened_at" in lines
    assert any(line.startswith(f"{bad}: item 3, field closed_at: closed_at and outcome go together") for line in lines)
    assert f"{bad}: item 3, field opportunity: repeats the account and opportunity of item 1" in lines
    assert lines[-1].endswith("nothing imported; fix the 5 problems above and run again")
    assert count(Engagement) == 0


def test_history_out_of_order_and_closed_with_outcome_missing_are_named(cli_env: str, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "crm.yaml"
    bad.write_text(
        """
- account: Order Co
  opportunity: Out of order
  owner: U0A1B2C3D
  seller: U0S1A2B3C
  focus: observability
  opened_at: "2026-09-01T10:00:00Z"
  history:
    - {stage: preparation, at: "2026-09-01T10:00:00Z"}
    - {stage: demo, at: "2026-08-30T10:00:00Z"}
  closed_at: "2026-09-10T10:00:00Z"
""")
    assert main(["engagements", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "item 1, field history.2.at: is before entry 1" in err
    assert "item 1, field outcome: closed_at and outcome go together" in err


def test_csv_problems_name_the_line(cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "crm.csv"
    bad.write_text(
        "account,opportunity,owner,seller,focus,opened_at,history,closed_at,outcome\n"
        "Good Co,Fine,U0A1B2C3D,U0S1A2B3C,security,2026-09-01T10:00:00Z,preparation@2026-09-01T10:00:00Z,,\n"
        "Bad Co,Broken,U0A1B2C3D,U0S1A2B3C,security,2026-09-01T10:00:00Z,preparation 2026-09-01,,\n"
        "Worse Co,Broken,U0A1B2C3D,U0S1A2B3C,security,2026-09-01T10:00:00Z,preparation@2026-09-01T10:00:00Z,2026-09-04,tie\n"
    )
    assert main(["engagements", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: line 3, field history.1: 'preparation 2026-09-01' is not STAGE@DATE-TIME" in err
    assert f"{bad}: line 4, field outcome: use won, lost or no_decision" in err
    assert count(Engagement) == 0


def test_a_number_too_long_for_python_is_one_line_naming_item_and_field(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "crm.yaml"
    bad.write_text(EXAMPLES.read_text(encoding="utf-8").replace("focus: observability", "focus: " + "7" * 5000, 1))
    assert main(["engagements", "import", str(bad)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{bad}: item 1, field focus: is a number of 5,000 digits, too long to read; put it in quotes if it is text",
        f"{bad}: nothing imported; fix the 1 problem above and run again",
    ]
    assert count(Engagement) == 0


def test_unknown_csv_columns_and_unreadable_files(cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("account,opportunity,owner,seller,focus,opened_at,history,stage\n")
    assert main(["engagements", "import", str(odd)]) == 1
    assert "unknown column 'stage'" in capsys.readouterr().err
    assert main(["engagements", "import", str(tmp_path / "missing.yaml")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["engagements", "import", str(tmp_path / "notes.txt")]) == 1
    assert "use a .yaml, .yml or .csv file" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_export_then_import_gives_back_the_same_engagements(cli_env: str, tmp_path: Path, fmt: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engagements", "import", str(EXAMPLES)]) == 0
    # A change taken back by undo is not part of the standing history.
    acme = open_engagement("Acme", "2026-11-01")
    slip = move(acme, engagements.Stage.demo, "2026-11-02")
    engagements.undo(SE_ACTOR, slip.change_id)
    out = tmp_path / f"export.{fmt}"
    assert main(["engagements", "export", "--format", fmt, "--output", str(out)]) == 0
    exported = engagements.export_records()
    acme_export = next(r for r in exported if r["account"] == "Acme")
    assert [h["stage"] for h in acme_export["history"]] == ["preparation"]

    with db.transaction() as session:
        for model in (StageChange, Engagement):
            session.execute(model.__table__.delete())
    capsys.readouterr()
    assert main(["engagements", "import", str(out)]) == 0
    assert "13 imported" in capsys.readouterr().out
    assert engagements.export_records() == exported
