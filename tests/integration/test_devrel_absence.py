"""A DevRel person who can no longer come, over signed HTTP: taken off the roster or out of office on the
meeting's day, their asks and meetings go to someone else, and the requester, the seller, the admin and
the person are each told; a close by someone else tells the requester, who may keep the meeting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import clock, db
from bot.app import make_client
from bot.config import Settings
from bot.ids import DevRelIds
from bot.jobs.devrel import run_due_devrel_timers
from models import DevRelRequest, DevRelRequestEvent
from models.enums import RequestState
from tests.conftest import ADMIN, SE, SELLER
from tests.devrel_helpers import (
    HANNAH,
    LENA,
    ROSTER,
    add_engagement,
    button_values,
    dms_to,
    load_roster,
    next_weekday_meeting,
    submit_request,
)
from tests.support.slack import MockSlack
from tests.support.text import message_text
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

ACCOUNT = "Northbeam Logistics"


@pytest.fixture
def meeting() -> Any:
    return next_weekday_meeting(clock.now(), days_ahead=3)


@pytest.fixture
def engagement_id(settings: Settings) -> int:
    load_roster()
    return add_engagement(account=ACCOUNT)


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    yield make_client(settings)


def the_request(request_id: int) -> dict[str, Any]:
    with db.reading() as session:
        row = session.get(DevRelRequest, request_id)
        assert row is not None
        return {"state": row.state, "candidate": row.candidate_id, "assignee": row.assignee_id,
                "remind_at": row.remind_at}


def released_events(request_id: int) -> list[tuple[str | None, str]]:
    with db.reading() as session:
        return [(subject, detail) for subject, detail in session.execute(
            select(DevRelRequestEvent.subject_id, DevRelRequestEvent.detail)
            .where(DevRelRequestEvent.request_id == request_id, DevRelRequestEvent.kind == "released"))]


def lena_accepts(wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any) -> int:
    request_id = submit_request(wire, slack, engagement_id, meeting)
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA)
    assert wire.block_action(DevRelIds.accept, user_id=LENA, value=f"{request_id}:1", channel_id=LENA,
                             message_ts=dms_to(slack, LENA)[-1].ts).status == 200
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == LENA and "You're in the room" in message_text(c.params))
    assert the_request(request_id)["state"] == RequestState.accepted
    return request_id


def notices_to(slack: MockSlack, user_id: str, words: str) -> list[str]:
    return [message_text(m.params) for m in dms_to(slack, user_id) if words in message_text(m.params)]


def test_deactivating_a_person_sends_their_accepted_meeting_on_and_tells_everyone(
        wire: SlackWire, slack: MockSlack, settings: Settings, client: Any, engagement_id: int, meeting: Any) -> None:
    request_id = lena_accepts(wire, slack, engagement_id, meeting)

    assert wire.block_action(DevRelIds.roster_deactivate, user_id=ADMIN, value=LENA).status == 200
    admin_note = slack.wait_for("response_url", lambda c: "went to someone else" in message_text(c.params))[-1]
    assert admin_note.params["text"] == (
        "1 DevRel request that Lena Hoffmann was asked about or due to join went to someone else, because they are "
        "no longer on the DevRel roster. Each requester and seller is told.")

    request = the_request(request_id)
    assert (request["state"], request["candidate"], request["assignee"]) == (RequestState.asking, HANNAH, None)
    assert released_events(request_id) == [(LENA, "no longer on the DevRel roster")]
    requester = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE
                               and "goes to someone else" in message_text(c.params))[-1]
    assert message_text(requester.params).startswith(
        f"Lena Hoffmann is no longer on the DevRel roster, so your DevRel request for *{ACCOUNT}* (")
    assert "Asking *Hannah" in message_text(requester.params)
    seller = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SELLER
                            and "goes to someone else" in message_text(c.params))[-1]
    assert f"so <@{SE}>'s DevRel request for *{ACCOUNT}*" in message_text(seller.params)
    assert slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == HANNAH)
    assert slack.wait_for("chat.update", lambda c: c.params.get("channel") == LENA
                          and "You are no longer on the DevRel roster, so this request" in message_text(c.params))
    # Nothing about the meeting reaches Lena any more: no reminder an hour before.
    run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60))
    assert the_request(request_id)["assignee"] is None
    assert not [m for m in dms_to(slack, LENA) if "starts in" in message_text(m.params)]


def test_out_of_office_from_an_import_sends_on_only_the_asks_on_days_away(
        wire: SlackWire, slack: MockSlack, settings: Settings, client: Any, engagement_id: int, meeting: Any) -> None:
    request_id = submit_request(wire, slack, engagement_id, meeting)
    assert eventually(lambda: the_request(request_id)["candidate"] == LENA)
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA)
    assert eventually(lambda: len(dms_to(slack, LENA)) == 1)
    lena = next(entry for entry in ROSTER if entry.slack_id == LENA)
    day_before = (meeting - timedelta(days=1)).date()
    load_roster([lena.model_copy(update={"out_of_office_until": day_before}),
                 *[entry for entry in ROSTER if entry.slack_id != LENA]])
    assert run_due_devrel_timers(client, settings, now=clock.now()) == 0  # back by the meeting's day

    load_roster([lena.model_copy(update={"out_of_office_until": meeting.date()}),
                 *[entry for entry in ROSTER if entry.slack_id != LENA]])
    assert run_due_devrel_timers(client, settings, now=clock.now()) == 1
    assert run_due_devrel_timers(client, settings, now=clock.now()) == 0  # once
    assert the_request(request_id)["candidate"] == HANNAH
    away = f"out of office until {meeting.strftime('%-d %b %Y')}"
    assert released_events(request_id) == [(LENA, away)]
    assert notices_to(slack, SE, f"Lena Hoffmann is {away}, so your DevRel request")


def test_a_close_by_the_seller_tells_the_requester_who_can_keep_the_meeting(
        wire: SlackWire, slack: MockSlack, settings: Settings, client: Any, engagement_id: int, meeting: Any) -> None:
    request_id = lena_accepts(wire, slack, engagement_id, meeting)
    assert wire.command("/engagement", "close northbeam won", user_id=SELLER, response_name="close").status == 200
    notice = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE
                            and "which cancelled your DevRel meeting" in message_text(c.params))[-1]
    assert message_text(notice.params).startswith(
        f":no_entry_sign: <@{SELLER}> closed *{ACCOUNT}*, which cancelled your DevRel meeting with *Lena Hoffmann* (")
    action_id, value = next((a, v) for a, v in button_values(notice.params).items() if a.startswith(DevRelIds.keep))
    assert wire.block_action(action_id, user_id=SE, value=value, channel_id=SE,
                             message_ts=dms_to(slack, SE)[-1].ts).status == 200
    assert eventually(lambda: the_request(request_id)["state"] == RequestState.accepted)
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA and "kept the" in message_text(c.params))
