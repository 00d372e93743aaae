"""What every `epos … import` does with the file itself: a size limit, and a summary of counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import db
from bot.cli import main
from bot.config import load_settings
from models import Asset, DevRelPerson, Engagement
from tests.assets_helpers import write_catalogue_csv

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEADERS = {
    "assets": "title,type,summary,url,topics,products,owner,status\n",
    "engagements": "account,opportunity,owner,seller,focus,opened_at,history\n",
    "roster": "slack_id,name,topics,timezone,work_start,work_end,weekly_capacity\n",
}
TABLES = {"assets": Asset, "engagements": Engagement, "roster": DevRelPerson}


@pytest.fixture(autouse=True)
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env


def rows_in(table: type) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_the_import_limit_is_a_setting_of_100_mb_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(_env_file=None).import_max_mb == 100
    monkeypatch.setenv("IMPORT_MAX_MB", "2")
    assert load_settings(_env_file=None).import_max_mb == 2


@pytest.mark.parametrize("kind", ["assets", "engagements", "roster"])
def test_a_file_over_the_limit_is_refused_in_one_line_and_nothing_is_written(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMPORT_MAX_MB", "1")
    big = tmp_path / f"{kind}.csv"
    big.write_text(HEADERS[kind] + "# padding\n" * 150_000, encoding="utf-8")  # 1.4 MB
    assert main([kind, "import", str(big)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{big}: is 1 MB, more than the import limit of 1 MB; split it into smaller files, or raise IMPORT_MAX_MB"
    ]
    assert captured.out == "" and rows_in(TABLES[kind]) == 0


def test_a_file_under_the_limit_is_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IMPORT_MAX_MB", "1")
    path = write_catalogue_csv(tmp_path / "assets.csv", 3000)
    assert path.stat().st_size <= 1024 * 1024
    assert main(["assets", "import", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "3000 added, 0 updated, 0 unchanged"


def test_summaries_are_counts_never_a_list_of_what_was_imported(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roster", "import", str(EXAMPLES / "roster.yaml")]) == 0
    assert capsys.readouterr().out.splitlines() == ["6 added, 0 updated, 0 unchanged"]
    assert main(["engagements", "import", str(EXAMPLES / "engagements.yaml")]) == 0
    assert main(["engagements", "import", str(EXAMPLES / "engagements.yaml")]) == 0
    assert capsys.readouterr().out.splitlines() == ["12 imported, 0 skipped (already there)",
                                                    "0 imported, 12 skipped (already there)"]
    assert main(["assets", "import", str(EXAMPLES / "assets.csv")]) == 0
    assert capsys.readouterr().out.splitlines() == ["5 added, 0 updated, 0 unchanged"]


def test_the_sample_catalogue_is_imported_with_the_admin_as_every_owner(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assets", "import", str(EXAMPLES / "assets.yaml"), "--owner", "U0ADMIN01"]) == 0
    assert capsys.readouterr().out.strip() == "40 added, 0 updated, 0 unchanged"
    with db.reading() as session:
        owners = set(session.scalars(select(Asset.owner_id)))
    assert owners == {"U0ADMIN01"}


def test_an_owner_that_is_not_a_member_id_is_refused_before_anything_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["assets", "import", str(EXAMPLES / "assets.yaml"), "--owner", "ada"])
    assert usage.value.code == 2
    assert "argument --owner: 'ada' is not a Slack member id like U0123ABCD" in capsys.readouterr().err
    assert rows_in(Asset) == 0


@pytest.mark.parametrize(("kind", "sample", "problems", "hint"), [
    ("assets", "roster.yaml", 72, "This looks like a roster file: use `epos roster import`."),
    ("engagements", "assets.yaml", 687, "This looks like an asset file: use `epos assets import`."),
    ("roster", "engagements.yaml", 198, "This looks like an engagement file: use `epos engagements import`."),
])
def test_a_file_of_another_kind_shows_ten_problems_counts_the_rest_and_names_its_command(
        kind: str, sample: str, problems: int, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / sample
    assert main([kind, "import", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 13 and all(line.startswith(f"{path}: item 1, field ") for line in lines[:10])
    assert lines[10:] == [f"{path}: and {problems - 10} more problems",
                          f"{path}: nothing imported; fix the {problems} problems and run again", hint]
    assert rows_in(TABLES[kind]) == 0


def test_a_csv_of_another_kind_names_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / "roster.csv"
    assert main(["assets", "import", str(path)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "This looks like a roster file: use `epos roster import`."


def test_ten_problems_or_fewer_are_all_shown_with_no_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "assets.yaml"
    path.write_text("- title: A\n  type: demo\n  owner: U0123ABCD\n" * 3, encoding="utf-8")
    assert main(["assets", "import", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: item {n}, field url: is required" for n in (1, 2, 3)
    ] + [f"{path}: nothing imported; fix the 3 problems above and run again"]


@pytest.mark.parametrize("kind", ["assets", "engagements", "roster"])
@pytest.mark.parametrize("content", ["", "\n  \n", "\ufeff"])
@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
def test_an_empty_file_says_it_is_empty(kind: str, content: str, suffix: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{kind}{suffix}"
    path.write_text(content, encoding="utf-8")
    assert main([kind, "import", str(path)]) == 1
    name = {"assets": "an asset file", "engagements": "an engagement file", "roster": "a roster file"}[kind]
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: is empty; nothing was imported (examples/{kind}.yaml shows what goes in {name})"]


@pytest.mark.parametrize("kind", ["assets", "engagements", "roster"])
def test_a_csv_with_semicolons_between_columns_gets_a_hint(kind: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{kind}.csv"
    path.write_text(HEADERS[kind].replace(",", ";"), encoding="utf-8")
    assert main([kind, "import", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "This file seems to use ; between columns; epos reads commas."
    assert lines[0].startswith(f"{path}: line 1: ")
    assert rows_in(TABLES[kind]) == 0


def test_a_missing_engagement_field_is_worded_as_in_the_other_importers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "engagements.yaml"
    path.write_text("- account: Acme\n  opportunity: Q4 renewal\n  owner: U0123ABCD\n  focus: observability\n"
                    "  opened_at: 2026-08-03T09:00:00Z\n  history:\n    - stage: preparation\n"
                    "      at: 2026-08-03T09:15:00Z\n", encoding="utf-8")
    assert main(["engagements", "import", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: item 1, field seller: is required",
        f"{path}: nothing imported; fix the 1 problem above and run again",
    ]


@pytest.mark.parametrize("kind", ["assets", "engagements", "roster"])
def test_a_csv_column_no_kind_has_is_one_line_about_the_header(kind: str, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{kind}.csv"
    cells = ",".join(["x"] * HEADERS[kind].count(","))
    path.write_text(HEADERS[kind].rstrip("\n") + ",team\n" + f"{cells},x,platform\n" * 3, encoding="utf-8")
    assert main([kind, "import", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"{path}: line 1: unknown column 'team'; the columns are ")
    assert [line for line in lines if "team" in line] == lines[:1]  # said once, not again on every row
    assert rows_in(TABLES[kind]) == 0
