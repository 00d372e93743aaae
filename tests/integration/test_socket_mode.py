"""Socket Mode, as `epos run` connects: the real App behind Bolt's Socket Mode client, talking to a loopback
Socket Mode server the tests own (hello, envelopes, acks, refresh and reconnect), its WebClient on the
mock Slack. Commands, buttons, forms, events and the App Home; redeliveries; other workspaces; a stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlalchemy import func, select

from bot import db
from bot.app import create_app
from bot.config import Settings
from bot.socket_mode import SocketModeRunner
from models import ProcessedDelivery, SearchMiss
from tests.assets_helpers import (
    ask,
    asset_by_title,
    asset_by_url,
    blocks_of,
    card_titles,
    form_values,
    import_sample,
)
from tests.conftest import ADMIN, SE, SELLER, answer_to
from tests.reliability_helpers import first_delivery_fails
from tests.support.slack import MockSlack
from tests.support.socket_mode import NOT_ACKNOWLEDGED, SocketModeServer, SocketModeWire
from tests.support.text import all_text
from tests.support.waiting import eventually

APP_TOKEN = "xapp-1-A0EPOS001-0000-test"
SE_DEMO = "Observability in 15 minutes: from alert to root cause"
HOME_EVENT = {"type": "app_home_opened", "user": SE, "channel": "D0HOME01", "tab": "home", "event_ts": "1700000000.1"}
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"}


def misses(query: str) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(SearchMiss).where(SearchMiss.query == query)) or 0)


def help_text(wire: SocketModeWire, slack: MockSlack) -> str:
    return str(answer_to(wire.command("/asset", "help", user_id=SE), slack).params["text"])


@pytest.fixture
def socket_server(slack: MockSlack) -> Iterator[SocketModeServer]:
    with SocketModeServer() as server:
        yield server.attach(slack)


@pytest.fixture
def runner(settings: Settings, socket_server: SocketModeServer) -> Iterator[SocketModeRunner]:
    import_sample()
    # A short check interval, so that a dropped connection is noticed within seconds.
    running = SocketModeRunner(create_app(settings), APP_TOKEN, ping_interval=1)
    running.connect()
    socket_server.wait_connected()
    yield running
    running.stop(grace=10)


@pytest.fixture
def socket_wire(runner: SocketModeRunner, socket_server: SocketModeServer, slack: MockSlack) -> SocketModeWire:
    return SocketModeWire(socket_server, response_url_base=slack.base_url)


def test_the_app_opens_its_connection_through_apps_connections_open(socket_wire: SocketModeWire, slack: MockSlack,
                                                                    socket_server: SocketModeServer) -> None:
    assert [c.method for c in slack.calls_to("apps.connections.open")] == ["apps.connections.open"]
    assert (socket_server.opened, socket_server.sessions, socket_server.connected) == (1, 1, 1)


def test_a_command_is_acknowledged_with_its_answer_and_records_the_gap(socket_wire: SocketModeWire) -> None:
    answer = ask(socket_wire, "quantum blockchain", user_id=SE)
    assert "No assets match *quantum blockchain*." in all_text(blocks_of(answer))
    assert answer.params["response_type"] == "ephemeral"
    assert misses("quantum blockchain") == 1


def test_a_search_is_answered_in_its_ack(socket_wire: SocketModeWire) -> None:
    answer = ask(socket_wire, "demo observability", user_id=SE)
    assert card_titles(blocks_of(answer))[0] == SE_DEMO


def test_a_redelivered_command_is_answered_and_recorded_once(socket_wire: SocketModeWire, slack: MockSlack) -> None:
    fields = socket_wire.command_fields("/asset", "quantum blockchain", user_id=SE, response_name="gap")
    first = socket_wire.post_form(fields)
    again = socket_wire.post_form(fields, headers=RETRY)
    assert (first.status, again.status) == (200, 200), "each delivery is acknowledged"
    assert first.message and "No assets match" in first.message["text"]
    assert again.message is None, "the redelivery was answered a second time"
    # A later search is recorded; by then a second handling of the first would have been too.
    assert ask(socket_wire, "quantum entanglement", user_id=SE)
    assert (misses("quantum blockchain"), misses("quantum entanglement")) == (1, 1)
    assert [c for c in slack.responses if c.params["_name"] == "gap"] == []


def test_a_redelivered_event_publishes_the_home_once(socket_wire: SocketModeWire, slack: MockSlack) -> None:
    first = socket_wire.event(HOME_EVENT, event_id="Ev0SOCKET01")
    home = slack.wait_for("views.publish", lambda c: c.params["user_id"] == SE)[0].params["view"]
    assert eventually(lambda: handled("event:Ev0SOCKET01"))
    again = socket_wire.event(HOME_EVENT, event_id="Ev0SOCKET01", headers=RETRY)
    assert (first.status, again.status) == (200, 200)
    assert home["type"] == "home" and home["blocks"]
    assert socket_wire.event({**HOME_EVENT, "user": SELLER}, event_id="Ev0SOCKET02").status == 200
    slack.wait_for("views.publish", lambda c: c.params["user_id"] == SELLER)
    assert [c.params["user_id"] for c in slack.calls_to("views.publish")].count(SE) == 1


def handled(key: str) -> bool:
    with db.reading() as session:
        return session.scalar(select(ProcessedDelivery.done_at).where(ProcessedDelivery.key == key)) is not None


def test_an_event_sent_again_while_its_first_delivery_is_handled_is_left_unacknowledged(
    socket_wire: SocketModeWire, monkeypatch: pytest.MonkeyPatch
) -> None:
    fails = first_delivery_fails(monkeypatch)
    shared = {"type": "channel_shared", "channel": "C0SHARED1", "connected_team_id": "T0OTHER", "event_ts": "1.0"}
    assert socket_wire.event(shared, event_id="Ev0SOCKET09").status == 200
    assert fails.running.wait(5)
    # Left unacknowledged, the envelope is one Slack delivers again later.
    assert socket_wire.event(shared, event_id="Ev0SOCKET09", headers=RETRY, timeout=1).status == NOT_ACKNOWLEDGED
    fails.may_fail.set()
    assert eventually(lambda: not delivery_claimed("event:Ev0SOCKET09"))
    later = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "timeout"}
    assert socket_wire.event(shared, event_id="Ev0SOCKET09", headers=later).status == 200
    assert eventually(lambda: fails.handled == ["C0SHARED1"])


def delivery_claimed(key: str) -> bool:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(ProcessedDelivery)
                              .where(ProcessedDelivery.key == key)) == 1


def test_a_button_is_acknowledged_and_acted_on(socket_wire: SocketModeWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    pressed = socket_wire.block_action("asset_useful", user_id=SE, value=str(row.id), response_name="vote")
    assert pressed.status == 200
    reply = slack.wait_for("response_url", lambda c: c.params["_name"] == "vote")[0]
    assert "Thanks, you marked" in reply.params["text"]
    assert asset_by_title(SE_DEMO).useful_count == row.useful_count + 1


def test_a_form_is_answered_with_field_errors_then_saved(socket_wire: SocketModeWire, slack: MockSlack) -> None:
    assert socket_wire.command("/asset", "add", user_id=ADMIN).status == 200
    opened = slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == "asset_add")[0].answer
    assert opened is not None
    view = opened["view"]
    refused = socket_wire.view_submission(view, form_values(url="ftp://files.example.com/demo.zip"), user_id=ADMIN)
    assert refused.status == 200 and refused.json["response_action"] == "errors"
    assert "http:// or https://" in refused.json["errors"]["asset_url"]
    saved = socket_wire.view_submission(view, form_values(), user_id=ADMIN)
    assert saved.status == 200 and not saved.body
    row = asset_by_url("https://assets.example.com/demos/otel-slow-checkout")
    assert row is not None and row.status == "published"


def test_a_request_for_another_workspace_is_acknowledged_empty_and_logged(
    socket_wire: SocketModeWire, socket_server: SocketModeServer, slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="handlers.middleware")
    foreign = SocketModeWire(socket_server, response_url_base=slack.base_url, team_id="T0OTHER99")
    command = foreign.command("/asset", "quantum blockchain", user_id=SE)
    event = foreign.event(HOME_EVENT, event_id="Ev0FOREIGN1")
    assert (command.status, command.body, event.status, event.body) == (200, b"", 200, b"")
    refused = [r.getMessage() for r in caplog.records if "another installation" in r.getMessage()]
    assert len(refused) == 2 and all("team=T0OTHER99" in message for message in refused)
    assert misses("quantum blockchain") == 0
    assert slack.responses == [] and slack.calls_to("views.publish") == []


def test_a_refresh_moves_to_a_new_connection_and_envelopes_keep_flowing(
    socket_wire: SocketModeWire, socket_server: SocketModeServer, slack: MockSlack
) -> None:
    socket_server.refresh()
    socket_server.wait_connected(sessions=2)
    assert socket_server.opened == 2, "a refresh asks apps.connections.open for a new address"
    assert "How to find field assets" in help_text(socket_wire, slack)


@pytest.mark.parametrize("how", ["closed", "dropped"])
def test_a_lost_connection_is_opened_again(how: str, socket_wire: SocketModeWire, socket_server: SocketModeServer,
                                           slack: MockSlack) -> None:
    if how == "closed":
        socket_server.close_connection()
    else:
        socket_server.drop_connection()
    # Bolt notices a close at once; a silent drop after a few failed pings.
    socket_server.wait_connected(sessions=2, timeout=30)
    assert socket_server.opened == 2
    assert "How to find field assets" in help_text(socket_wire, slack)


def test_a_stop_finishes_acknowledged_work_and_takes_no_new_envelopes(
    runner: SocketModeRunner, socket_wire: SocketModeWire, socket_server: SocketModeServer, slack: MockSlack
) -> None:
    slack.fail("views.publish", delay=2)
    assert socket_wire.event(HOME_EVENT, event_id="Ev0STOP0001").status == 200
    unfinished: list[int] = []
    stopping = threading.Thread(target=lambda: unfinished.append(runner.stop(grace=20)))
    stopping.start()
    assert eventually(lambda: runner.stopping)
    late = socket_wire.event_while_stopping({**HOME_EVENT, "user": SELLER}, event_id="Ev0STOP0002")
    stopping.join(timeout=30)
    assert unfinished == [0], "the stop returned before the acknowledged work was done"
    assert [c.params["user_id"] for c in slack.calls_to("views.publish")] == [SE]
    assert late is None or late.status == NOT_ACKNOWLEDGED, "an envelope that came during the stop was taken"
    assert eventually(lambda: socket_server.connected == 0), "the stopped app kept its connection"
    assert socket_server.opened == 1, "the stopped app connected again"


def test_an_envelope_that_comes_once_a_stop_has_begun_is_left_for_slack_to_deliver_again(
        runner: SocketModeRunner, caplog: pytest.LogCaptureFixture) -> None:
    assert runner.stop(grace=5) == 0
    handled: list[SocketModeRequest] = []
    runner._handler.handle = lambda _client, request: handled.append(request)  # type: ignore[method-assign]
    caplog.set_level(logging.INFO, logger="bot.socket_mode")
    runner._handle(runner._handler.client, SocketModeRequest(type="events_api", envelope_id="Ev0LATE", payload={}))
    assert handled == [] and "left an envelope (events_api) for Slack to deliver again" in caplog.text


def test_a_stop_reports_work_still_unfinished_when_the_grace_runs_out(runner: SocketModeRunner,
                                                                      socket_wire: SocketModeWire,
                                                                      slack: MockSlack) -> None:
    slack.fail("views.publish", delay=5)
    assert socket_wire.event(HOME_EVENT, event_id="Ev0STOP0003").status == 200
    assert runner.stop(grace=0.5) == 1
    slack.wait_for("views.publish", timeout=10)  # the cut-off work ends before the next test
