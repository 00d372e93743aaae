"""manifest.yml declares exactly what the App listens to, with least-privilege scopes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.slackmock import MockSlack
from bot.wire import SlackWire
from tests.conftest import SE, answer_to

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
COMMANDS = [c["command"] for c in MANIFEST["features"]["slash_commands"]]


def test_manifest_declares_the_three_commands_with_usage_hints() -> None:
    assert sorted(COMMANDS) == ["/asset", "/devrel", "/engagement"]
    for command in MANIFEST["features"]["slash_commands"]:
        assert command["description"] and command["usage_hint"]


def test_manifest_turns_on_what_epos_uses() -> None:
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["features"]["bot_user"]["display_name"] == "epos"
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["oauth_config"]["scopes"]["bot"] == ["commands", "chat:write", "im:write", "mpim:write", "users:read",
                                                         "files:write", "im:history", "channels:history",
                                                         "groups:history"]


def test_the_readme_lists_the_manifest_scopes() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listed = readme.split("these scopes only:", 1)[1].split("\n2.", 1)[0]
    for scope in MANIFEST["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in listed


@pytest.mark.parametrize("command", COMMANDS)
def test_every_declared_command_is_answered(command: str, wire: SlackWire, slack: MockSlack) -> None:
    answer = answer_to(wire.command(command, "help", user_id=SE), slack)
    assert command in answer.params["text"]


@pytest.mark.parametrize("event", MANIFEST["settings"]["event_subscriptions"]["bot_events"])
def test_every_subscribed_event_has_a_listener(event: str, wire: SlackWire, slack: MockSlack) -> None:
    """The catch-all would answer 200 too, so look for the listener's effect: a Slack call."""
    assert wire.event({"type": event, "user": SE, "tab": "home", "channel": "D0HOME01"}).status == 200
    assert slack.wait_for("views.publish")


def test_no_command_is_registered_that_the_manifest_does_not_declare(wire: SlackWire) -> None:
    assert wire.command("/not-declared", "", user_id=SE).status == 404
