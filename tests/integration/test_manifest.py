"""manifest.yml declares exactly what the App listens to, with least-privilege scopes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient

from bot import doctor, revocation, sharing
from bot.config import Settings
from bot.services import people
from tests.conftest import BOT_TOKEN, SE, answer_to
from tests.support.slack import MockSlack
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

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
    assert MANIFEST["oauth_config"]["scopes"]["bot"] == [
        "commands", "chat:write", "im:write", "mpim:write", "users:read", "usergroups:read", "files:write",
        "channels:read", "groups:read", "team:read", "im:history", "channels:history", "groups:history",
        "links:read", "links:write"]
    # `epos doctor` checks a token against the same list.
    assert list(doctor.BOT_SCOPES) == MANIFEST["oauth_config"]["scopes"]["bot"]


# The scope each Web API method epos calls to check who is asking needs (Slack's method reference).
SCOPE_OF = {"users.info": "users:read", "usergroups.users.list": "usergroups:read"}


def test_the_scopes_cover_checking_who_is_asking(settings: Settings, slack: MockSlack) -> None:
    """A reader named through a user group: epos reads the group and the person, with declared scopes."""
    from bot.app import create_app
    from bot.web import SLACK_PATH, EposWSGI
    from tests.conftest import SIGNING_SECRET
    from tests.support.wire import LoopbackServer

    slack.add_user("U0GREADER")
    slack.add_user_group("S0READERS", ["U0GREADER"])
    people.forget_groups()
    server = LoopbackServer(EposWSGI(create_app(settings.model_copy(update={"epos_readers": ["S0READERS"]})))).start()
    try:
        wire = SlackWire(server.url + SLACK_PATH, SIGNING_SECRET, response_url_base=slack.base_url)
        answer_to(wire.command("/engagement", "list", user_id="U0GREADER"), slack)
    finally:
        server.stop()
        people.forget_groups()
    called = {c.method for c in slack.calls} & set(SCOPE_OF)
    assert called == set(SCOPE_OF)
    assert {SCOPE_OF[method] for method in called} <= set(MANIFEST["oauth_config"]["scopes"]["bot"])


def test_every_scope_is_explained_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for scope in MANIFEST["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in readme, scope


def test_the_readme_lists_the_manifest_scopes() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listed = readme.split("these scopes only:", 1)[1].split("\n2.", 1)[0]
    for scope in MANIFEST["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in listed


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


def _token_is_given_up(event: str) -> Callable[[SlackWire, MockSlack], None]:
    def check(wire: SlackWire, _slack: MockSlack) -> None:
        assert wire.event({"type": event, "tokens": {"bot": ["U0EPOSBOT"]}}).status == 200
        assert eventually(lambda: revocation.revoked() is not None)
    return check


def _link_is_previewed(wire: SlackWire, slack: MockSlack) -> None:
    from tests.assets_helpers import import_sample

    import_sample()
    url = "https://assets.example.com/demos/kubernetes-cluster-health"
    assert wire.event({"type": "link_shared", "channel": "C0DEALS01", "user": SE, "message_ts": "1.000100",
                       "source": "conversations_history", "links": [{"domain": "assets.example.com", "url": url}],
                       "event_ts": "1.000100"}).status == 200
    assert url in slack.wait_for("chat.unfurl")[0].params["unfurls"]


EVENT_EFFECTS: dict[str, Callable[[SlackWire, MockSlack], None]] = {
    "app_home_opened": _home_is_published,
    "tokens_revoked": _token_is_given_up("tokens_revoked"),
    "app_uninstalled": _token_is_given_up("app_uninstalled"),
    "channel_shared": _sharing_is_asked_again("channel_shared"),
    "channel_unshared": _sharing_is_asked_again("channel_unshared"),
    "link_shared": _link_is_previewed,
}


@pytest.mark.parametrize("event", MANIFEST["settings"]["event_subscriptions"]["bot_events"])
def test_every_subscribed_event_has_a_listener(event: str, wire: SlackWire, slack: MockSlack) -> None:
    """The catch-all would answer 200 too, so look for the listener's effect."""
    assert event in EVENT_EFFECTS, f"{event} is subscribed in manifest.yml but no test checks its listener"
    EVENT_EFFECTS[event](wire, slack)


def test_no_command_is_registered_that_the_manifest_does_not_declare(wire: SlackWire) -> None:
    assert wire.command("/not-declared", "", user_id=SE).status == 404


SHORTCUTS = MANIFEST["features"]["shortcuts"]


def test_the_manifest_declares_the_shortcuts_the_app_listens_to() -> None:
    from bot.ids import ShortcutIds

    assert sorted(s["callback_id"] for s in SHORTCUTS) == sorted(ShortcutIds)
    for shortcut in SHORTCUTS:
        assert shortcut["type"] == ("global" if shortcut["callback_id"].startswith("global_") else "message")
        assert shortcut["name"] and shortcut["description"]


@pytest.mark.parametrize("shortcut", SHORTCUTS, ids=lambda s: s["callback_id"])
def test_every_declared_shortcut_is_answered(shortcut: dict, wire: SlackWire, slack: MockSlack) -> None:
    if shortcut["type"] == "global":
        assert wire.global_shortcut(shortcut["callback_id"], user_id=SE).status == 200
        assert slack.wait_for("views.open")[0].params["view"]["callback_id"] == "asset_add"
        return
    assert wire.message_shortcut(shortcut["callback_id"], user_id=SE, text="kubernetes demo").status == 200
    # Someone with no open engagement is answered privately by each: the search's results, or what to do.
    answer = slack.wait_for("response_url", lambda c: c.params.get("_name") == "shortcut")[0].params
    assert answer["response_type"] == "ephemeral" and answer.get("blocks")


def test_epos_try_names_the_shortcuts_as_slack_shows_them() -> None:
    from bot.tryout.conversation import GLOBAL_SHORTCUTS, MESSAGE_SHORTCUTS

    assert {s["name"]: s["callback_id"] for s in SHORTCUTS} == {**MESSAGE_SHORTCUTS, **GLOBAL_SHORTCUTS}


def test_the_unfurl_domains_match_the_setting() -> None:
    """`epos doctor` and the start-up warn when they differ; the shipped pair agrees."""
    assert MANIFEST["features"]["unfurl_domains"] == Settings(_env_file=None).epos_unfurl_domains
