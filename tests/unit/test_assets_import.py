"""`epos assets import/export`: whole files validated first, upserts keyed by url, round trips."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot import clock, db
from bot.cli import main
from bot.services import asset_import, assets
from bot.services.importing import WRITE_BATCH
from models import AuditEntry
from models.assets import Asset, AssetImportChange
from tests.assets_helpers import (
    SAMPLE_CSV,
    SAMPLE_YAML,
    asset_by_url,
    asset_count,
    import_sample,
    write_catalogue_csv,
)


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI reads settings from the environment; point it at this test's database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return tmp_path


def good_item(**overrides: object) -> dict[str, object]:
    item: dict[str, object] = {
        "title": "Alert noise reduction walkthrough",
        "type": "feature_walkthrough",
        "summary": "Groups related alerts.",
        "url": "https://assets.example.com/walkthroughs/alert-noise",
        "topics": ["alerting", "observability"],
        "products": ["Observability"],
        "depth": "medium",
        "scope": "narrow",
        "interactivity": "hands-on",
        "cycle": "mid",
        "owner": "U0A1B2C3D",
    }
    item.update(overrides)
    return item


def write_yaml(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump(items, sort_keys=False), encoding="utf-8")
    return path


def test_sample_catalogue_imports_cleanly_with_its_statuses(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assets", "import", str(SAMPLE_YAML)]) == 0
    assert capsys.readouterr().out.strip() == "40 added, 0 updated, 0 unchanged"
    with db.reading() as session:
        statuses = [row.status for row in session.scalars(select(Asset))]
    assert len(statuses) == 40
    assert statuses.count("draft") == 2 and statuses.count("archived") == 1


def test_importing_the_same_file_twice_changes_nothing(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assets", "import", str(SAMPLE_YAML)]) == 0
    first = asset_by_url("https://assets.example.com/demos/observability-alert-to-root-cause")
    capsys.readouterr()
    clock.advance(timedelta(days=1))
    assert main(["assets", "import", str(SAMPLE_YAML)]) == 0
    assert capsys.readouterr().out.strip() == "0 added, 0 updated, 40 unchanged"
    again = asset_by_url("https://assets.example.com/demos/observability-alert-to-root-cause")
    assert first is not None and again is not None
    assert again.updated_at == first.updated_at
    assert asset_count() == 40


def test_changed_rows_are_updated_by_url_and_audited(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_sample()
    items = yaml.safe_load(SAMPLE_YAML.read_text(encoding="utf-8"))
    items[0]["title"] = "Observability in 10 minutes"
    items[1]["status"] = "archived"
    items.append(good_item())
    clock.advance(timedelta(hours=1))
    path = write_yaml(cli_env / "changed.yaml", items)
    assert main(["assets", "import", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "1 added, 2 updated, 38 unchanged"
    renamed = asset_by_url(items[0]["url"])
    assert renamed is not None and renamed.title == "Observability in 10 minutes"
    assert renamed.updated_at > renamed.created_at
    archived = asset_by_url(items[1]["url"])
    assert archived is not None and archived.status == "archived"
    with db.reading() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.entity == "asset"))]
    assert actions.count("updated") == 2 and actions.count("imported") == 41


def every_title(query: str) -> list[str]:
    """The titles of every published asset a search finds, page after page."""
    titles: list[str] = []
    while page := assets.search(query, limit=assets.MAX_PAGE_SIZE, offset=len(titles)).items:
        titles += [item.card.title for item in page]
    return titles


def test_a_reimport_changing_many_assets_shows_every_change_at_once_and_audits_each(database_url: str,
                                                                                       tmp_path: Path) -> None:
    count = 2 * WRITE_BATCH + 50
    first = write_catalogue_csv(tmp_path / "first.csv", count)
    assets.import_file(first, "csv")
    shown = every_title("bulkstuff")  # their cards now kept by this process
    assert len(shown) == count and all(title.startswith("Bulk generated asset") for title in shown)
    changed = tmp_path / "changed.csv"
    changed.write_text(first.read_text(encoding="utf-8").replace("Bulk generated", "Bulk regenerated")
                       .replace("/bulk/7,bulkstuff;observability,Observability,U0A1B2C3D,published",
                                "/bulk/7,bulkstuff;observability,Observability,U0A1B2C3D,archived"), encoding="utf-8")
    clock.advance(timedelta(hours=1))
    report = assets.import_file(changed, "csv")
    assert (report.added, report.updated, report.unchanged) == (0, count, 0)
    assert sorted(every_title("bulkstuff")) == sorted(f"Bulk regenerated asset {n}" for n in range(count) if n != 7)
    with db.reading() as session:
        ids = {row.url: row.id for row in session.scalars(select(Asset))}
        audited = {entry.entity_id: entry.detail for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "asset", AuditEntry.action == "updated"))}
    assert len(audited) == count
    assert audited[str(ids["https://assets.example.com/bulk/3"])] == {
        "changed": ["title"], "before": {"title": "Bulk generated asset 3"}, "source": "import"}
    assert audited[str(ids["https://assets.example.com/bulk/7"])] == {
        "changed": ["title", "status"], "before": {"title": "Bulk generated asset 7", "status": "published"},
        "source": "import"}


def staged_changes() -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(AssetImportChange)) or 0


def test_the_changes_of_an_import_stopped_just_after_going_live_are_cleared_by_the_next(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_catalogue_csv(tmp_path / "first.csv", 30)
    assets.import_file(first, "csv")
    changed = tmp_path / "changed.csv"
    changed.write_text(first.read_text(encoding="utf-8").replace("Bulk generated", "Bulk regenerated"),
                       encoding="utf-8")
    # As if the process were killed the moment the import went live, before it deleted its applied changes.
    with monkeypatch.context() as stopped:
        stopped.setattr(asset_import, "_forget_changes", lambda _import_id: None)
        assert assets.import_file(changed, "csv").updated == 30
    assert staged_changes() == 30
    assert sorted(every_title("bulkstuff")) == sorted(f"Bulk regenerated asset {n}" for n in range(30))
    # The next import, even one that changes nothing, clears them; nothing is applied twice.
    assert assets.import_file(changed, "csv").unchanged == 30
    assert staged_changes() == 0
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "updated")) == 30


def test_a_bad_row_names_item_and_field_and_nothing_is_written(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = [good_item(), good_item(url="https://assets.example.com/x", type="webinar"), good_item(url="ftp://files/y")]
    path = write_yaml(cli_env / "bad.yaml", items)
    assert main(["assets", "import", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{path}: item 2, field type: 'webinar' is not one of demo, feature_walkthrough, proofshop, workshop"
    assert err[1].startswith(f"{path}: item 3, field url: the link must start with http:// or https://")
    assert "nothing imported" in err[-1]
    assert asset_count() == 0


def test_missing_fields_and_unknown_fields_are_named(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    item = good_item(tittle="typo")
    del item["owner"]
    path = write_yaml(cli_env / "fields.yaml", [item])
    assert main(["assets", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "item 1, field owner: is required" in err
    assert "item 1, field tittle: is not a field we know" in err
    assert asset_count() == 0


def test_duplicate_urls_within_a_file_are_an_error(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_yaml(cli_env / "dupes.yaml", [good_item(), good_item(title="Another"), good_item(url="https://a.example.com/b")])
    assert main(["assets", "import", str(path)]) == 1
    assert f"{path}: item 2, field url: the same link as item 1" in capsys.readouterr().err
    assert asset_count() == 0


def test_common_spellings_are_accepted_where_unambiguous(database_url: str) -> None:
    records = assets.parse_catalogue(
        yaml.safe_dump([good_item(type="Feature Walkthrough", interactivity="hands on", depth="Medium", cycle=None)]),
        "yaml",
    )
    assert assets.import_records(records).added == 1
    row = asset_by_url("https://assets.example.com/walkthroughs/alert-noise")
    assert row is not None
    # An axis left out takes what the type usually is.
    assert (row.type, row.interactivity, row.depth, row.cycle, row.status) == (
        "feature_walkthrough", "hands-on", "medium", "mid", "published")


def test_csv_problems_name_the_line_even_after_a_multiline_cell(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cli_env / "bad.csv"
    path.write_text(
        "title,type,summary,url,topics,products,depth,scope,interactivity,cycle,owner,status\n"
        'Good one,demo,"two\nlines",https://a.example.com/1,observability;logging,Observability,low,broad,presentation,early,U0A1B2C3D,\n'
        "Bad depth,demo,,https://a.example.com/2,,,deep,broad,presentation,early,U0A1B2C3D,published\n",
        encoding="utf-8",
    )
    assert main(["assets", "import", str(path)]) == 1
    assert f"{path}: line 4, field depth: 'deep' is not one of low, medium, high" in capsys.readouterr().err
    assert asset_count() == 0


def test_csv_import_splits_topics_on_semicolons(database_url: str) -> None:
    records = assets.parse_catalogue(SAMPLE_CSV.read_text(encoding="utf-8"), "csv")
    assets.import_records(records)
    row = asset_by_url("https://assets.example.com/demos/observability-alert-to-root-cause")
    assert row is not None and row.topics == ["observability", "apm", "logging", "root cause analysis"]


def test_unreadable_or_broken_files_get_one_clear_line(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = cli_env / "broken.yaml"
    broken.write_text("- title: [unclosed\n  type: demo\n", encoding="utf-8")
    assert main(["assets", "import", str(broken)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"{broken}: line ") and "is not valid YAML" in err[0]
    assert main(["assets", "import", str(cli_env / "missing.yaml")]) == 1
    assert capsys.readouterr().err.strip() == f"{cli_env / 'missing.yaml'}: no such file"
    assert main(["assets", "import", str(cli_env / "assets.txt")]) == 1
    assert "use a .yaml, .yml or .csv file" in capsys.readouterr().err
    not_a_list = write_yaml(cli_env / "map.yaml", {"title": "x"})  # type: ignore[arg-type]
    assert main(["assets", "import", str(not_a_list)]) == 1
    assert "must be a list of assets" in capsys.readouterr().err
    assert asset_count() == 0


def test_values_python_cannot_hold_get_one_line_each_naming_item_and_field(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [good_item(summary="LONG"), good_item(url="https://a.example.com/2", title="DAY"),
             good_item(url="https://a.example.com/3", topics=["BYTES"])]
    text = yaml.safe_dump(items, sort_keys=False, width=10**6)
    path = cli_env / "odd.yaml"
    path.write_text(text.replace("LONG", "1" * 4301).replace("DAY", "2026-02-30").replace("BYTES", "!!binary AGE="),
                    encoding="utf-8")
    assert main(["assets", "import", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: item 1, field summary: is a number of 4,301 digits, too long to read; put it in quotes if it is text",
        f"{path}: item 2, field title: '2026-02-30' is not a real date; write one like 2026-08-03, "
        "or put it in quotes if it is text",
        f"{path}: item 3, field topics: is binary data (!!binary), which an import file cannot hold; "
        "write the value as text",
        f"{path}: nothing imported; fix the 3 problems above and run again",
    ]
    assert asset_count() == 0


def test_python_m_bot_refuses_a_file_nested_past_the_recursion_limit_in_one_line(
    cli_env: Path, database_url: str
) -> None:
    path = cli_env / "deep.yaml"
    text = yaml.safe_dump([good_item(topics=["DEEP"])], sort_keys=False)
    path.write_text(text.replace("DEEP", "[" * 5000 + "]" * 5000), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "bot", "assets", "import", str(path)], env=env, cwd=cli_env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    line = next(number for number, text in enumerate(path.read_text().splitlines(), start=1) if "[[" in text)
    assert done.stderr.splitlines() == [
        f"{path}: line {line}: is nested more than 20 levels deep; an import file is a list of items, "
        "each a set of `field: value` pairs"]
    assert asset_count() == 0


def test_csv_with_unknown_columns_is_refused(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cli_env / "columns.csv"
    path.write_text("title,kind,url,owner\nA,demo,https://a.example.com,U0A1B2C3D\n", encoding="utf-8")
    assert main(["assets", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "line 1: unknown column 'kind'; missing column type" in err
    assert asset_count() == 0


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_export_reimports_to_the_same_catalogue(fmt: str, cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_sample()
    before = assets.export_records()
    out = cli_env / f"export.{fmt}"
    assert main(["assets", "export", "--format", fmt, "--output", str(out)]) == 0
    records = assets.parse_catalogue(out.read_text(encoding="utf-8"), fmt)  # type: ignore[arg-type]
    assert [r.model_dump(by_alias=True) for r in records] == [
        assets.AssetRecord.model_validate(item).model_dump(by_alias=True) for item in before
    ]
    assert assets.import_records(records).model_dump() == {"added": 0, "updated": 0, "unchanged": 40}


def test_an_asset_without_a_summary_goes_out_and_back_in_as_csv(cli_env: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = cli_env / "bare.csv"
    path.write_text("title,type,summary,url,topics,owner\n"
                    "Bare demo,Demo,,https://assets.example.com/bare,observability,U0A1B2C3D\n", encoding="utf-8")
    assert main(["assets", "import", str(path)]) == 0
    assert asset_by_url("https://assets.example.com/bare").summary == ""
    out = cli_env / "export.csv"
    assert main(["assets", "export", "--format", "csv", "--output", str(out)]) == 0
    capsys.readouterr()
    assert main(["assets", "import", str(out)]) == 0
    assert "1 unchanged" in capsys.readouterr().out


def test_an_export_to_a_csv_file_is_csv_and_one_to_another_file_yaml(cli_env: Path) -> None:
    import_sample()
    assert main(["assets", "export", "-o", str(cli_env / "catalogue.csv")]) == 0
    assert main(["assets", "export", "-o", str(cli_env / "catalogue.txt")]) == 0
    assert main(["assets", "export", "--format", "yaml", "-o", str(cli_env / "asked.csv")]) == 0
    assert (cli_env / "catalogue.csv").read_text(encoding="utf-8").startswith(",".join(assets.EXPORT_FIELDS))
    assert len(yaml.safe_load((cli_env / "catalogue.txt").read_text(encoding="utf-8"))) == 40
    assert len(yaml.safe_load((cli_env / "asked.csv").read_text(encoding="utf-8"))) == 40


def test_export_prints_yaml_to_stdout_by_default(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_sample()
    capsys.readouterr()
    assert main(["assets", "export"]) == 0
    exported = yaml.safe_load(capsys.readouterr().out)
    assert len(exported) == 40
    assert list(exported[0]) == list(assets.EXPORT_FIELDS)
    assert exported[0]["owner"] == "U0A1B2C3D"
