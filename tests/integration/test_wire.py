"""The HTTP edge: only signed requests from our installation get in, health, and unhandled events."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from sqlalchemy import func, select

from bot import db
from models import ProcessedDelivery
from tests.support.waiting import eventually
from tests.conftest import SE, SIGNING_SECRET
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire, sign


def deliveries_recorded() -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(ProcessedDelivery)) or 0


def deliveries_handled() -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(ProcessedDelivery)
                              .where(ProcessedDelivery.done_at.is_not(None))) or 0


def home_opened() -> dict:
    return {"type": "app_home_opened", "user": SE, "channel": "D0HOME01", "tab": "home", "event_ts": "1.2"}


def envelope(event_id: str = "Ev0001") -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T0EPOS001", "api_app_id": "A0EPOS001",
                       "event_id": event_id, "event": home_opened()}).encode()


@pytest.mark.parametrize(
    "case",
    ["tampered body", "tampered signature", "timestamp 301 s old", "timestamp 301 s ahead", "no timestamp", "non-numeric timestamp", "no signature"],
)
def test_unsigned_or_stale_requests_get_401_and_change_nothing(case: str, wire: SlackWire, slack: MockSlack) -> None:
    body = envelope()
    now = int(time.time())
    timestamp, signature = str(now), sign(SIGNING_SECRET, str(now), body)
    headers: dict[str, str] = {}
    if case == "tampered body":
        body = body.replace(b"Ev0001", b"Ev0002")
    elif case == "tampered signature":
        signature = signature[:-4] + "0000"
    elif case.startswith("timestamp"):
        timestamp = str(now - 301 if "old" in case else now + 301)
        signature = sign(SIGNING_SECRET, timestamp, body)
    elif case == "no timestamp":
        timestamp = ""
    elif case == "non-numeric timestamp":
        timestamp = "12ab"
    elif case == "no signature":
        signature = ""
    slack.clear()
    response = wire.post(body, content_type="application/json", timestamp=timestamp, signature=signature, headers=headers)
    assert response.status == 401
    assert deliveries_recorded() == 0
    assert [c.method for c in slack.calls] == []


def test_signed_event_without_listener_gets_200_not_404(wire: SlackWire) -> None:
    assert wire.post_event(json.loads(envelope())).status == 200


def test_same_event_delivered_twice_is_handled_once(wire: SlackWire) -> None:
    first = wire.post_event(json.loads(envelope("EvSAME")))
    assert eventually(lambda: deliveries_handled() == 1)
    retry = wire.post_event(json.loads(envelope("EvSAME")), headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert (first.status, retry.status) == (200, 200)
    assert deliveries_recorded() == 1


def test_request_for_another_workspace_is_refused(wire: SlackWire) -> None:
    foreign = json.loads(envelope("EvFOREIGN"))
    foreign["team_id"] = "T0OTHER99"
    assert wire.post_event(foreign).status == 403
    assert deliveries_recorded() == 0


def test_health_answers_when_the_database_does(server) -> None:  # type: ignore[no-untyped-def]
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"ok": True, "database": "up", "slack": "token accepted"}


def test_request_for_another_app_is_refused_when_the_app_id_is_known(settings, slack: MockSlack) -> None:  # type: ignore[no-untyped-def]
    from bot.app import create_app
    from bot.web import SLACK_PATH, EposWSGI
    from tests.support.wire import LoopbackServer

    pinned = settings.model_copy(update={"slack_app_id": "A0EPOS001"})
    server = LoopbackServer(EposWSGI(create_app(pinned))).start()
    try:
        pinned_wire = SlackWire(server.url + SLACK_PATH, SIGNING_SECRET)
        ours = json.loads(envelope("EvOURS"))
        theirs = json.loads(envelope("EvTHEIRS"))
        theirs["api_app_id"] = "A0SOMEONE"
        assert pinned_wire.post_event(ours).status == 200
        assert pinned_wire.post_event(theirs).status == 403
    finally:
        server.stop()
    assert deliveries_recorded() == 1


def test_request_from_another_enterprise_org_is_refused(settings, slack: MockSlack) -> None:  # type: ignore[no-untyped-def]
    from bot.app import create_app
    from bot.web import SLACK_PATH, EposWSGI
    from tests.support.wire import LoopbackServer

    slack.enterprise_id = "E0OURORG1"
    server = LoopbackServer(EposWSGI(create_app(settings))).start()
    try:
        grid_wire = SlackWire(server.url + SLACK_PATH, SIGNING_SECRET)
        ours = json.loads(envelope("EvOURORG"))
        ours["enterprise_id"] = "E0OURORG1"
        theirs = json.loads(envelope("EvTHEIRORG"))
        theirs["enterprise_id"] = "E0THEIRS1"
        slack.clear()
        assert grid_wire.post_event(theirs).status == 403
        assert grid_wire.post_event(ours).status == 200
    finally:
        server.stop()
    assert deliveries_recorded() == 1


def test_request_without_any_workspace_is_refused(wire: SlackWire) -> None:
    anonymous = json.loads(envelope("EvNOTEAM"))
    del anonymous["team_id"]
    assert wire.post_event(anonymous).status == 403
