"""manifest.yml declares exactly what the App listens to, with least-privilege scopes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import doctor, revocation
from bot.config import Settings
from bot.services import people
from bot.slackmock import MockSlack
from bot.wire import SlackWire
from tests.assets_helpers import eventually
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
    assert MANIFEST["oauth_config"]["scopes"]["bot"] == [
        "commands", "chat:write", "im:write", "mpim:write", "users:read", "usergroups:read", "files:write"]
    # `epos doctor` checks a token against the same list.
    assert list(doctor.BOT_SCOPES) == MANIFEST["oauth_config"]["scopes"]["bot"]


# The scope each Web API method epos calls to check who is asking needs (Slack's method reference).
SCOPE_OF = {"users.info": "users:read", "usergroups.users.list": "usergroups:read"}


def test_the_scopes_cover_checking_who_is_asking(settings: Settings, slack: MockSlack) -> None:
    """A reader named through a user group: epos reads the group and the person, with declared scopes."""
    from bot.app import create_app
    from bot.web import SLACK_PATH, EposWSGI
    from bot.wire import LoopbackServer
    from tests.conftest import SIGNING_SECRET

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


@pytest.mark.parametrize("command", COMMANDS)
def test_every_declared_command_is_answered(command: str, wire: SlackWire, slack: MockSlack) -> None:
    answer = answer_to(wire.command(command, "help", user_id=SE), slack)
    assert command in answer.params["text"]


@pytest.mark.parametrize("event", MANIFEST["settings"]["event_subscriptions"]["bot_events"])
def test_every_subscribed_event_has_a_listener(event: str, wire: SlackWire, slack: MockSlack) -> None:
    """The catch-all would answer 200 too, so look for the listener's effect."""
    payload = {"type": event, "user": SE, "tab": "home", "channel": "D0HOME01", "tokens": {"bot": ["U0EPOSBOT"]}}
    assert wire.event(payload).status == 200
    if event in ("tokens_revoked", "app_uninstalled"):
        assert eventually(lambda: revocation.revoked() is not None)
    else:
        assert slack.wait_for("views.publish")


def test_no_command_is_registered_that_the_manifest_does_not_declare(wire: SlackWire) -> None:
    assert wire.command("/not-declared", "", user_id=SE).status == 404
