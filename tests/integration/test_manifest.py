"""manifest.yml declares exactly what the App listens to, with least-privilege scopes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient

from bot import sharing
from bot.slackmock import MockSlack
from bot.wire import SlackWire
from tests.conftest import BOT_TOKEN, SE, answer_to

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
                                                         "files:write", "channels:read", "groups:read", "team:read"]


def test_every_scope_is_explained_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for scope in MANIFEST["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in readme, scope


@pytest.mark.parametrize("command", COMMANDS)
def test_every_declared_command_is_answered(command: str, wire: SlackWire, slack: MockSlack) -> None:
    answer = answer_to(wire.command(command, "help", user_id=SE), slack)
    assert command in answer.params["text"]


def _home_is_published(wire: SlackWire, slack: MockSlack) -> None:
    assert wire.event({"type": "app_home_opened", "user": SE, "tab": "home", "channel": "D0HOME01"}).status == 200
    assert slack.wait_for("views.publish")


def _sharing_is_asked_again(event: str) -> Callable[[SlackWire, MockSlack], None]:
    """epos keeps what conversations.info said; the event makes it ask again, and see the change."""

    def check(wire: SlackWire, slack: MockSlack) -> None:
        client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
        channel = "C0SHAREEV"
        if event == "channel_unshared":
            slack.share_channel(channel, "Acme Robotics")
        before = sharing.sharing(client, channel).external
        if event == "channel_shared":
            slack.share_channel(channel, "Acme Robotics")
        else:
            slack.unshare_channel(channel)
        assert sharing.sharing(client, channel).external is before  # not asked again yet
        assert wire.event({"type": event, "channel": channel, "connected_team_id": "T0EXT0001",
                           "previously_connected_team_id": "T0EXT0001", "event_ts": "1.0"}).status == 200
        deadline = time.monotonic() + 5
        while sharing.sharing(client, channel).external is before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sharing.sharing(client, channel).external is not before
        assert len(slack.calls_to("conversations.info")) >= 2

    return check


EVENT_EFFECTS: dict[str, Callable[[SlackWire, MockSlack], None]] = {
    "app_home_opened": _home_is_published,
    "channel_shared": _sharing_is_asked_again("channel_shared"),
    "channel_unshared": _sharing_is_asked_again("channel_unshared"),
}


@pytest.mark.parametrize("event", MANIFEST["settings"]["event_subscriptions"]["bot_events"])
def test_every_subscribed_event_has_a_listener(event: str, wire: SlackWire, slack: MockSlack) -> None:
    """The catch-all would answer 200 too, so look for the listener's effect."""
    assert event in EVENT_EFFECTS, f"{event} is subscribed in manifest.yml but no test checks its listener"
    EVENT_EFFECTS[event](wire, slack)


def test_no_command_is_registered_that_the_manifest_does_not_declare(wire: SlackWire) -> None:
    assert wire.command("/not-declared", "", user_id=SE).status == 404
