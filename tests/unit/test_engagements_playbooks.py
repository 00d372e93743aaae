"""Stage playbooks: the shipped defaults, a team's override, and a clear line for a bad file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.errors import ConfigError
from bot.services import engagements, playbooks
from models.enums import OPEN_STAGES, AssetType, Stage


@pytest.fixture(autouse=True)
def _defaults_after() -> Iterator[None]:
    yield
    playbooks.configure(None)


def defaults() -> dict:
    return yaml.safe_load(playbooks.DEFAULT_PLAYBOOKS.read_text())


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "team-playbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_every_open_stage_has_a_default_playbook_with_fitting_asset_types() -> None:
    loaded = playbooks.configure(None)
    assert set(loaded) == set(OPEN_STAGES)
    assert playbooks.playbook(Stage.discovery).title == "Discovery"
    assert AssetType.demo in playbooks.playbook(Stage.preparation).asset_types
    assert AssetType.feature_walkthrough in playbooks.playbook(Stage.tech_qa).asset_types
    assert AssetType.proofshop in playbooks.playbook(Stage.sizing).asset_types
    assert all(book.prerequisites and book.calls_to_action and book.deliverables for book in loaded.values())


def test_a_team_override_replaces_the_defaults(tmp_path: Path) -> None:
    data = defaults()
    data["poc"]["stale_after_days"] = 30
    data["poc"]["title"] = "Pilot"
    playbooks.configure(write(tmp_path, data))
    assert playbooks.playbook(Stage.poc).title == "Pilot"
    assert engagements.stale_after(Stage.poc).days == 30


def test_closed_has_no_playbook() -> None:
    with pytest.raises(ValueError):
        playbooks.playbook(Stage.closed)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("sizing"), "field sizing: missing"),
        (lambda d: d.update(closing={}), "field closing: not a stage"),
        (lambda d: d["demo"].update(asset_types=["webinar"]), "field demo.asset_types.0"),
        (lambda d: d["poc"].update(stale_after_days=0), "field poc.stale_after_days"),
        (lambda d: d["discovery"].pop("goal"), "field discovery.goal"),
        (lambda d: d["tech_qa"].update(owner="me"), "field tech_qa.owner"),
        (lambda d: d["preparation"].update(deliverables=["fine", ""]), "field preparation.deliverables"),
    ],
)
def test_a_bad_override_stops_with_one_line_naming_the_file_and_field(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = defaults()
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        playbooks.configure(path)
    message = str(caught.value)
    assert str(path) in message and expected in message
    assert "\n" not in message


def test_unreadable_and_malformed_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        playbooks.configure(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("preparation: [unclosed\n")
    with pytest.raises(ConfigError, match="broken.yaml.*not valid YAML"):
        playbooks.configure(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- preparation\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        playbooks.configure(listed)


def alias_bomb(levels: int = 8) -> str:
    """Each anchor a list of ten aliases of the one before: ten to the power `levels` values in a few lines."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("preparation: " + "[" * 5000 + "]" * 5000 + "\n",
         "line 1: is nested more than 20 levels deep; a playbooks file maps each stage"),
        (alias_bomb(), r"line \d+: the aliases \(\*name\) in this file stand for more than 100,000 values"),
        ("preparation:\n  title: a\x00b\n", r"line 2: is not valid YAML"),
    ],
    ids=["nesting", "alias-bomb", "nul"],
)
def test_a_hostile_file_gets_one_line_and_no_traceback(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=expected) as raised:
        playbooks.configure(path)
    assert str(raised.value).startswith(f"{path}: ") and "\n" not in str(raised.value)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("preparation:\n  title: Pr\u00e9paration\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="latin1.yaml: is not UTF-8 text"):
        playbooks.configure(path)


def test_a_bad_override_stops_epos_at_start_with_exit_code_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    data = defaults()
    data["demo"]["stale_after_days"] = "soon"
    path = write(tmp_path, data)
    monkeypatch.chdir(tmp_path)
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test", "EPOS_PLAYBOOKS": str(path),
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'epos.db'}"}.items():
        monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("epos: ") and str(path) in err and "field demo.stale_after_days" in err
    assert "\n" not in err


def test_a_one_off_process_reads_epos_playbooks_when_nobody_configured_them(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    data = defaults()
    data["sizing"]["stale_after_days"] = 40
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EPOS_PLAYBOOKS", str(write(tmp_path, data)))
    monkeypatch.setattr(playbooks._file, "_active", None)
    assert engagements.stale_after(Stage.sizing).days == 40
