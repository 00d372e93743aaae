"""The shipped tour runs from start to end: the whole story, checked by its own `:expect` lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "examples" / "tour.epos"


def test_the_tour_runs_green_and_tells_the_whole_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out"
    code = main(["try", "--script", str(TOUR), "--output", str(output), "--examples", str(ROOT / "examples")])
    transcript = capsys.readouterr().out
    assert code == 0, transcript[-3000:]
    # An SE finds a demo and shares it in the channel.
    assert "sam (SE)> /asset demo observability" in transcript
    assert "@sam shared an asset" in transcript
    # Opens an engagement through the form, and moves it on.
    assert "Opened Acme Robotics" in transcript
    # The business challenge is picked from the challenge map, and the card walks on to its needs.
    assert "Business challenge (from the map): Incidents take hours to resolve and engineers burn out" in transcript
    assert "Preparation → Discovery" in transcript and "Discovery → Demo" in transcript
    # Asks for DevRel: the first person declines, the next accepts.
    assert "Asked Lena Hoffmann" in transcript
    assert "Lena Hoffmann declined your DevRel request for Acme Robotics. Asking Hannah Okafor" in transcript
    assert "You're in the room for Acme Robotics" in transcript
    # Time passes: a nudge, the digest with its chart saved as a PNG, the reminder.
    assert "One of your engagements has gone quiet" in transcript
    assert "Weekly presales digest · 2026-W46" in transcript
    [chart] = sorted((output / "files").glob("*.png"))
    assert f"→ {chart}]" in transcript and chart.read_bytes().startswith(b"\x89PNG")
    assert "starts in 60 minutes" in transcript
    assert transcript.rstrip().endswith("steps, all as expected")


def test_a_tour_line_that_no_longer_holds_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "tour.epos"
    broken.write_text(TOUR.read_text(encoding="utf-8").replace(":expect Asked Lena Hoffmann", ":expect Asked Marcus Reed"),
                      encoding="utf-8")
    code = main(["try", "--script", str(broken), "--output", str(tmp_path / "out"), "--examples", str(ROOT / "examples")])
    out = capsys.readouterr().out
    assert code == 1
    assert "✗ line" in out and "Asked Marcus Reed" in out
