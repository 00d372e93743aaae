"""`epos assets search`: the slash command's ranking, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import db
from bot.cli import main
from bot.services import assets
from models.assets import SearchMiss


@pytest.fixture
def cli(catalogue: None, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI as an admin runs it: the database in its environment, in a folder of its own."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)


def test_json_lists_title_type_url_and_score_in_the_slash_commands_order(
    cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assets", "search", "demo", "observability", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    expected = assets.search("demo observability")
    assert [f["title"] for f in found] == [i.card.title for i in expected.items]
    assert [f["score"] for f in found] == [i.score for i in expected.items]
    assert all(f["type"] == "demo" and f["url"].startswith("https://") for f in found)


def test_the_table_is_numbered_and_says_when_there_is_more(cli: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assets", "search", "observability", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["#", "score", "type", "title", "url"]
    assert [line.split()[0] for line in lines[1:4]] == ["1", "2", "3"]
    assert "Observability in 15 minutes: from alert to root cause" in lines[1]
    assert lines[-1] == "(3 of 19; use --limit to see more)"


def test_no_match_says_so_with_suggestions_and_exits_0(cli: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assets", "search", "workshop", "obsrvblty"]) == 0  # too far off to match, close enough to suggest
    assert capsys.readouterr().out.splitlines() == ["No assets match “workshop obsrvblty”.", "Did you mean: observability?"]
    assert main(["assets", "search", "quantum", "blockchain", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(SearchMiss)) == 0


def test_a_corrected_typo_is_said_and_json_lists_parts(cli: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assets", "search", "demo", "obervability", "--limit", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Showing results for “observability” (you typed “obervability”)"
    assert main(["assets", "search", "observability", "fundamentals", "workshop", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)[0]
    assert [part["label"] for part in found["parts"]] == ["Student notebooks", "Instructor deck"]
