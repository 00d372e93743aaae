"""`epos try` posts a person's message, previews the catalogue link in it, and uses shortcuts on it."""

from __future__ import annotations

from pathlib import Path

from bot.tryout.session import TrySession
from tests.support.tryout import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LINK = "https://assets.example.com/demos/kubernetes-cluster-health"


def test_a_pasted_link_is_previewed_and_a_message_shortcut_answers(tmp_path: Path) -> None:
    with TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES) as session:
        session.open()
        shown = run(session, f":say Have a look at {LINK} before Tuesday")
        assert "#1 · #deals · sam wrote" in shown
        assert "│ Kubernetes cluster health at a glance" in shown and "👍 Useful" in shown
        found = run(session, ":shortcut 1 find assets")
        assert "only visible to you" in found and "Share in channel" in found
        form = run(session, ":shortcut 1 add to an engagement")
        assert "Add to an engagement" in form and "From a Slack message: https://" in form
        run(session, ":cancel")
        assert "there is no message #99" in (session.handle(":shortcut 99 find assets").error or "")
        assert "uses a shortcut on message #N" in (session.handle(":shortcut 1 nope").error or "")
