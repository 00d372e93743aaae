"""What `epos try` sends is what Slack sends: the payloads a listener receives for presses, selects,
confirmations and App Home buttons, and what the person sees afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, Option, OverflowMenuElement, StaticSelectElement

from bot.tryout.session import TrySession
from bot.tryout.workspace import CHANNEL, EPHEMERAL

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAM = "U0A1B2C3D"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[TrySession]:
    with TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES) as opened:
        opened.open()
        yield opened


class Received:
    """Bodies a test listener got, by action id."""

    def __init__(self) -> None:
        self.bodies: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def listen(self, session: TrySession, action_id: str, reply: str = "") -> None:
        @session.app.action(action_id)
        def record(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
            ack()
            with self.lock:
                self.bodies[action_id] = body
            if reply:
                respond(text=reply, replace_original=True)


def place_message(session: TrySession, *, kind: str, blocks: list[Any]) -> None:
    """A message from epos in #deals, as the App would have posted it."""
    audience = frozenset({SAM}) if kind == EPHEMERAL else None
    post = session.workspace.add_post(kind=kind, channel_id="C0DEALS01", ts="1763000000.000100",
                                      params={"text": "Pick", "blocks": [b.to_dict() for b in blocks]},
                                      audience=audience)
    session.screen = type(session.screen)()
    session._render_post(post, session.screen)


def test_a_button_in_a_channel_message_sends_the_message_and_its_container(session: TrySession) -> None:
    received = Received()
    received.listen(session, "try_go", reply="Done *here*")
    place_message(session, kind=CHANNEL, blocks=[ActionsBlock(block_id="acts", elements=[
        ButtonElement(text="Go", action_id="try_go", value="42", style="primary")])])
    shown = session.handle("1")
    assert shown.error is None
    body = received.bodies["try_go"]
    assert body["type"] == "block_actions" and body["user"]["id"] == SAM and body["team"]["id"] == "T0EPOS001"
    assert body["container"] == {"type": "message", "message_ts": "1763000000.000100", "channel_id": "C0DEALS01",
                                 "is_ephemeral": False}
    assert body["channel"] == {"id": "C0DEALS01", "name": "deals"}
    assert body["message"]["ts"] == "1763000000.000100" and body["message"]["blocks"][0]["block_id"] == "acts"
    [action] = body["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == ("try_go", "acts", "42", "button")
    assert body["response_url"].startswith(session.slack.base_url)  # type: ignore[union-attr]
    assert body["trigger_id"]
    # The reply replaced the message, as replace_original does in Slack.
    assert "updated" in shown.text and "Done here" in shown.text


def test_an_ephemeral_message_carries_no_message_object(session: TrySession) -> None:
    received = Received()
    received.listen(session, "try_go")
    place_message(session, kind=EPHEMERAL, blocks=[ActionsBlock(elements=[ButtonElement(text="Go", action_id="try_go")])])
    assert session.handle(":press go").error is None
    body = received.bodies["try_go"]
    assert body["container"]["is_ephemeral"] is True
    assert "message" not in body


def test_select_and_overflow_in_a_message_send_the_chosen_option(session: TrySession) -> None:
    received = Received()
    received.listen(session, "try_stage")
    received.listen(session, "try_more")
    stage = StaticSelectElement(action_id="try_stage", placeholder="Stage",
                                options=[Option(text="Discovery", value="discovery"), Option(text="Demo", value="demo")])
    more = OverflowMenuElement(action_id="try_more", options=[Option(text="Snooze", value="snooze")])
    place_message(session, kind=CHANNEL, blocks=[ActionsBlock(block_id="b", elements=[stage, more])])
    assert "is a static_select" in (session.handle("1").error or "")
    assert "say what to choose" in (session.handle(":select 1").error or "")
    assert "not an option" in (session.handle(":select 1 closed").error or "")
    assert session.handle(":select 1 dem").error is None
    assert session.handle(":select 2 1").error is None
    stage_action = received.bodies["try_stage"]["actions"][0]
    assert stage_action["type"] == "static_select"
    assert stage_action["selected_option"] == {"text": {"type": "plain_text", "text": "Demo", "emoji": True}, "value": "demo"}
    assert received.bodies["try_stage"]["state"]["values"]["b"]["try_stage"]["selected_option"]["value"] == "demo"
    assert received.bodies["try_more"]["actions"][0]["selected_option"]["value"] == "snooze"


def test_a_confirmation_is_asked_first_and_no_sends_nothing(session: TrySession) -> None:
    session.handle("/asset demo observability")
    asked = session.handle(":press Archive")
    assert "Archive this asset?" in asked.text and session.prompt() == "Confirm? yes/no> "
    calls = len(session.slack.calls)  # type: ignore[union-attr]
    assert session.handle("no").text == "Nothing was sent."
    assert len(session.slack.calls) == calls  # type: ignore[union-attr]
    session.handle(":press Archive")
    done = session.handle("yes")
    assert done.error is None and "Archived Observability in 15 minutes" in done.text


def test_an_app_home_button_opens_its_form(session: TrySession) -> None:
    home = session.handle(":home")
    assert "App Home of sam" in home.text and "Polaris Telecom" in home.text
    opened = session.handle(":press New engagement")
    assert opened.error is None and "┌ New engagement" in opened.text
    assert session.form_open


def test_a_nudge_button_updates_the_dm(session: TrySession) -> None:
    session.handle(":wait 3h")
    nudge = session.handle(":dm")
    assert "has gone quiet" in nudge.text
    snoozed = session.handle(":press Snooze 7 days")
    assert snoozed.error is None
    assert "updated" in snoozed.text and "Snoozed until" in snoozed.text


def test_ack_text_of_a_slash_command_is_shown_as_an_ephemeral_reply(session: TrySession) -> None:
    @session.app.command("/tryping")
    def ping(ack: Ack, client: WebClient) -> None:
        ack("pong <!channel> &lt;b&gt;")

    shown = session.handle("/tryping")
    assert shown.error is None
    assert "only visible to you" in shown.text and "pong @channel <b>" in shown.text
