"""Slack may deliver the same thing twice (retries, double clicks); epos acts on it once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from slack_bolt import Ack, App

from bot.app import create_app
from bot.config import Settings
from bot.web import SLACK_PATH, EposWSGI
from tests.conftest import SE, SIGNING_SECRET
from tests.support.wire import LoopbackServer, SlackWire, input_value

handled: Counter[str] = Counter()


@pytest.fixture
def probe_wire(settings: Settings) -> Iterator[SlackWire]:
    """The real App with two probe listeners, to watch the de-duplication in front of every listener."""
    handled.clear()
    app: App = create_app(settings)

    @app.action("probe_button")
    def pressed(ack: Ack) -> None:
        ack()
        handled["button"] += 1

    @app.view("probe_view")
    def submitted(ack: Ack, view: dict) -> None:
        value = view["state"]["values"]["field"]["input"]["value"]
        if value == "needs confirming" and handled["warned"] == 0:
            handled["warned"] += 1
            ack(response_action="errors", errors={"field": "Submit again to confirm"})
            return
        ack()
        handled["view"] += 1

    server = LoopbackServer(EposWSGI(app)).start()
    yield SlackWire(server.url + SLACK_PATH, SIGNING_SECRET)
    server.stop()


def test_a_double_click_is_handled_once(probe_wire: SlackWire) -> None:
    first = probe_wire.block_action("probe_button", user_id=SE, action_ts="1700000100.000100")
    second = probe_wire.block_action("probe_button", user_id=SE, action_ts="1700000100.000100")
    third = probe_wire.block_action("probe_button", user_id=SE, action_ts="1700000101.000100")
    assert (first.status, second.status, third.status) == (200, 200, 200)
    assert handled["button"] == 2


def test_the_same_view_submission_is_handled_once(probe_wire: SlackWire) -> None:
    view = {"id": "V0PROBE01", "hash": "h1", "callback_id": "probe_view"}
    values = {"field": {"input": input_value("fine")}}
    assert probe_wire.view_submission(view, values, user_id=SE).status == 200
    assert probe_wire.view_submission(view, values, user_id=SE).status == 200
    assert handled["view"] == 1


def test_a_submission_answered_with_errors_can_be_sent_again(probe_wire: SlackWire) -> None:
    view = {"id": "V0PROBE02", "hash": "h1", "callback_id": "probe_view"}
    values = {"field": {"input": input_value("needs confirming")}}
    warned = probe_wire.view_submission(view, values, user_id=SE)
    assert warned.json == {"response_action": "errors", "errors": {"field": "Submit again to confirm"}}
    confirmed = probe_wire.view_submission(view, values, user_id=SE)
    assert confirmed.status == 200 and handled["view"] == 1
