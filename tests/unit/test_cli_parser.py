"""The command line as one tool: every sub-command's options have help, files are FILE, the same flag means
the same thing everywhere, and a mistake is answered with the usage of the command it was made in."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, main

# Options that name a file, by their dest; `epos try --output` is a folder (DIR), said in its help.
FILE_DESTS = {"file", "output", "members_file", "script"}
FOLDER_OPTIONS = {("epos try", "--output")}


def commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser under `parser`, itself included (epos, epos assets, epos assets export, …)."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from commands(sub)


def arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [action for action in parser._actions
            if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))]


def every_argument() -> list[tuple[str, argparse.Action]]:
    return [(parser.prog, action) for parser in commands(build_parser()) for action in arguments(parser)]


def name_of(action: argparse.Action) -> str:
    return action.option_strings[-1] if action.option_strings else action.dest


def test_the_walk_sees_every_command() -> None:
    progs = {parser.prog for parser in commands(build_parser())}
    assert {"epos assets export", "epos roster import", "epos serve", "epos run", "epos db upgrade",
            "epos pilot create", "epos try"} <= progs
    assert len(every_argument()) > 40


def test_every_option_and_argument_has_help_text() -> None:
    missing = [f"{prog} {name_of(action)}" for prog, action in every_argument() if not (action.help or "").strip()]
    assert missing == []


def test_every_default_is_said_in_the_help() -> None:
    unsaid = [f"{prog} {name_of(action)}" for prog, action in every_argument()
              if action.default not in (None, False, argparse.SUPPRESS) and "default" not in (action.help or "")]
    assert unsaid == []


def test_every_file_argument_is_named_FILE() -> None:
    misnamed = [f"{prog} {name_of(action)} ({action.metavar})" for prog, action in every_argument()
                if action.dest in FILE_DESTS and (prog, name_of(action)) not in FOLDER_OPTIONS
                and action.metavar != "FILE"]
    assert misnamed == []


def test_the_same_flag_is_spelled_the_same_everywhere() -> None:
    spellings: dict[str, set[tuple[str, ...]]] = {}
    for _prog, action in every_argument():
        if action.option_strings:
            spellings.setdefault(action.option_strings[-1], set()).add(tuple(action.option_strings))
    assert {flag: forms for flag, forms in spellings.items() if len(forms) > 1} == {}
    exports = [parser for parser in commands(build_parser()) if parser.prog.endswith(" export")]
    assert {parser.prog for parser in exports} == {"epos assets export", "epos engagements export",
                                                  "epos roster export"}
    for parser in exports:
        assert [tuple(action.option_strings) for action in arguments(parser)] == [("--format",), ("-o", "--output")]
    jsons = [action for _prog, action in every_argument() if action.dest == "json"]
    assert all(action.help.startswith("print ") and "JSON" in action.help for action in jsons)


@pytest.mark.parametrize("kind", ["assets", "engagements", "roster"])
def test_every_export_takes_dash_o(kind: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    assert main([kind, "export", "-o", "out.yaml"]) == 0
    assert (tmp_path / "out.yaml").is_file()
    noun = {"assets": "0 assets", "engagements": "0 engagements", "roster": "0 people"}[kind]
    assert capsys.readouterr().out == f"{noun} written to out.yaml\n"


def test_a_mistake_is_answered_with_the_usage_of_its_own_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["assets", "search", "demo", "--output", "x.yaml"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "usage: epos assets search [-h] [--json] [--limit N] QUERY [QUERY ...]",
        "epos assets search: error: unrecognized arguments: --output x.yaml",
    ]


def test_run_and_serve_say_what_they_need(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    run_help = " ".join(capsys.readouterr().out.split())
    assert "Needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, with connections:write)" in run_help
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    serve_help = " ".join(capsys.readouterr().out.split())
    assert "Needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_SIGNING_SECRET" in serve_help
    assert "--port PORT the port to listen on; 0 picks a free one, which is logged (default: 3000)" in serve_help
    assert "--host HOST the address to listen on;" in serve_help and "(default: 0.0.0.0, every interface)" in serve_help
