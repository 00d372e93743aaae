"""`epos try` from the command line: scripted runs, their exit codes and transcripts, and the prompt loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.tryout.script import fill_line, parse_script
from bot.tryout.session import TrySession
from bot.tryout.terminal import interact
from tests.support.tryout import scripted

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_script(tmp_path: Path, text: str, *extra: str) -> int:
    script = tmp_path / "story.epos"
    script.write_text(text, encoding="utf-8")
    return main(["try", "--script", str(script), "--output", str(tmp_path / "out"), "--examples", str(EXAMPLES), *extra])


def test_a_script_that_goes_as_expected_exits_0_with_the_transcript(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_script(tmp_path, """
# find a demo and share it
/asset demo observability
:expect Observability in 15 minutes
:press Share in channel
:expect #deals
""")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "sam (SE)> /asset demo observability" in out
    assert "[1] Share in channel" in out
    assert "✓ seen: Observability in 15 minutes" in out
    assert out.rstrip().endswith("4 steps, all as expected")


def test_a_failed_expectation_stops_the_run_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_script(tmp_path, "/asset demo observability\n\n:expect quantum blockchain\n:who\n")
    out = capsys.readouterr().out
    assert code == 1
    assert "✗ line 3: expected to see 'quantum blockchain'" in out
    assert ":who" not in out


@pytest.mark.parametrize(
    ("script", "error"),
    [
        ("/asset demo\n7777\n", "line 2: there is no button 7777 on screen"),
        (":dance\n", "line 1: unknown command :dance"),
        ("/nosuch\n", "line 1: epos has no /nosuch command"),
        ("  Title: stray\n", "line 1: indented field answers, but no form is open"),
        ("/asset add\n  Title: Only a title\n", "line 2: the form came back with field errors"),
        ("/asset add\n  Budget: 100\n", "line 2: the form 'Add an asset' has no field 'Budget'"),
    ],
)
def test_each_kind_of_failing_step_fails_the_script(tmp_path: Path, capsys: pytest.CaptureFixture[str], script: str,
                                                    error: str) -> None:
    assert run_script(tmp_path, script) == 1
    assert f"✗ {error}" in capsys.readouterr().out


def test_expected_field_errors_do_not_fail_and_the_form_can_be_filled_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_script(tmp_path, """
/asset add
  Title: Alert to root cause, again
  Type: Demo
  Summary: The same story.
  Link: https://assets.example.com/demos/observability-alert-to-root-cause
:expect ! Link:
  Link: https://assets.example.com/demos/alert-to-root-cause-again
:expect Add an asset sent
""")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "epos sent the form back:" in out


def test_missing_script_and_unknown_persona_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["try", "--script", str(tmp_path / "nope.epos")]) == 1
    assert "nope.epos: no such file" in capsys.readouterr().err
    assert run_script(tmp_path, ":who\n", "--as", "nobody") == 1
    assert "'nobody' is not a persona" in capsys.readouterr().err
    assert run_script(tmp_path, ":who\n", "--start", "next tuesday") == 1
    assert "--start" in capsys.readouterr().err


def test_start_option_sets_the_clock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_script(tmp_path, ":time\n:expect Monday 16 November 2026, 08:00\n", "--start", "2026-11-16T08:00") == 0


def test_script_syntax() -> None:
    lines = parse_script("# intro\n\n/asset add\n  Title: A: B\n\t Link:\n:submit\n")
    assert [(line.number, line.text, line.indented) for line in lines] == [
        (3, "/asset add", False), (4, "Title: A: B", True), (5, "Link:", True), (6, ":submit", False)]
    assert fill_line("Title: A: B") == ("Title", "A: B")
    assert fill_line("Link:") == ("Link", "")
    assert fill_line("no separator") is None


def test_the_prompt_loop_reads_until_quit_and_prompts_as_the_current_persona(tmp_path: Path) -> None:
    typed = iter(["/asset demo observability", "1", ":as lena", ":quit", "never read"])
    prompts: list[str] = []
    shown: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    session = TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES, interactive=True)
    assert interact(session, read=read, write=shown.append) == 0
    assert prompts == ["sam (SE)> ", "sam (SE)> ", "sam (SE)> ", "lena (DevRel)> "]
    text = "\n".join(shown)
    assert "Share in channel" in text and "You are now lena (DevRel)" in text


def test_the_prompt_loop_ends_at_end_of_input_and_survives_ctrl_c(tmp_path: Path) -> None:
    events: list[object] = [KeyboardInterrupt(), ":who", EOFError()]
    shown: list[str] = []

    session = TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES, interactive=True)
    assert interact(session, read=scripted(events), write=shown.append) == 0
    assert "  (:quit leaves)" in shown and any("Sam Carter" in line for line in shown)


def test_without_sample_files_it_still_runs_and_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "story.epos"
    script.write_text("/asset demo\n", encoding="utf-8")
    code = main(["try", "--script", str(script), "--output", str(tmp_path / "out"), "--examples", str(tmp_path / "none")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"No sample data found in {tmp_path / 'none'}/; pass --examples DIR" in out


def test_ctrl_c_in_a_form_cancels_the_form(tmp_path: Path) -> None:
    events: list[object] = ["/asset add", KeyboardInterrupt(), ":who", EOFError()]
    shown: list[str] = []

    session = TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES, interactive=True)
    assert interact(session, read=scripted(events), write=shown.append) == 0
    text = "\n".join(shown)
    assert "(Add an asset closed)" in text and "(:quit leaves)" not in text


def test_a_long_wait_shows_each_day_as_it_passes(tmp_path: Path) -> None:
    typed = iter([":wait 3d", ":quit"])
    shown: list[str] = []
    session = TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES, interactive=True)
    assert interact(session, read=lambda _prompt: next(typed), write=shown.append) == 0
    progress = [line for line in shown if line.startswith("⏩ ") and "(waiting until Mon 16 Nov 10:00)" in line]
    assert [line.split(" (")[0] for line in progress] == ["⏩ Sat 14 Nov 00:00", "⏩ Sun 15 Nov 00:00",
                                                          "⏩ Mon 16 Nov 00:00"]
