"""How DevRel requests end, over signed HTTP: closing the engagement cancels the asks and meetings (with "Keep
the meeting" for an accepted one, also offered to a requester someone else's close told), an assignee can
hand an accepted meeting back, and a person taken off the roster or out of office on a meeting's day no
longer holds its ask or meeting: it goes to someone else, and the requester, the seller, the admin and the
person are each told."""

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
from models import AuditEntry, DevRelRequest, DevRelRequestEvent
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
from tests.support.slack import Call, MockSlack
from tests.support.text import message_text
from tests.support.waiting import eventually
from tests.support.wire import SlackWire, input_value

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
                "remind_at": row.remind_at, "escalate_at": row.escalate_at, "asked": list(row.asked_ids)}


def event_kinds(request_id: int) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(DevRelRequestEvent.kind).where(DevRelRequestEvent.request_id == request_id)
                                    .order_by(DevRelRequestEvent.id)))


def audit_actions(request_id: int) -> list[tuple[str, str]]:
    with db.reading() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.actor_id)
                               .where(AuditEntry.entity == "devrel_request", AuditEntry.entity_id == str(request_id))
                               .order_by(AuditEntry.id)).all()
    return [(action, actor) for action, actor in rows]


def reminders_to(slack: MockSlack, user_id: str) -> list[Any]:
    return [m for m in dms_to(slack, user_id) if "starts in" in message_text(m.params)]


def ask_lena(wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any) -> int:
    request_id = submit_request(wire, slack, engagement_id, meeting)
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE)  # the requester's card
    return request_id


def lena_accepts(wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any) -> int:
    request_id = ask_lena(wire, slack, engagement_id, meeting)
    ask = dms_to(slack, LENA)[-1]
    assert wire.block_action(DevRelIds.accept, user_id=LENA, value=f"{request_id}:1", channel_id=LENA,
                             message_ts=ask.ts).status == 200
    slack.wait_for("conversations.open")
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == SE and "is in the room" in message_text(c.params))
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == LENA and "You're in the room" in message_text(c.params))
    assert the_request(request_id)["state"] == RequestState.accepted
    return request_id


def homes_redrawn(slack: MockSlack, before: int, people: int) -> None:
    """Wait for the last step of a change, the Homes it redraws, so nothing runs on past the test."""
    slack.wait_for("views.publish", count=before + people)


def close_northbeam(wire: SlackWire, slack: MockSlack, *, user_id: str = SE) -> Call:
    """Close as `user_id`; the answer, once the Homes (the SE's, the seller's, Lena's) are redrawn."""
    before = len(slack.calls_to("views.publish"))
    assert wire.command("/engagement", "close northbeam won", user_id=user_id, response_name="close").status == 200
    answer = slack.wait_for("response_url", lambda c: c.params.get("_name") == "close")[-1]
    homes_redrawn(slack, before, 3)
    return answer


def keep_button(answer: Call) -> tuple[str, str]:
    found = [(action_id, value) for action_id, value in button_values(answer.params).items()
             if action_id.startswith(DevRelIds.keep)]
    assert len(found) == 1, button_values(answer.params)
    return found[0]


def test_closing_cancels_the_accepted_meeting_tells_lena_and_no_reminder_follows(
        wire: SlackWire, slack: MockSlack, settings: Settings, client: Any, engagement_id: int, meeting: Any) -> None:
    request_id = lena_accepts(wire, slack, engagement_id, meeting)
    homes_before = len(slack.calls_to("views.publish"))

    answer = close_northbeam(wire, slack)
    text = message_text(answer.params)
    assert "The DevRel meeting with *Lena Hoffmann* on <!date^" in text
    assert "is cancelled, and Lena Hoffmann is told. If it still happens, press *Keep the meeting*." in text
    assert keep_button(answer)[0] == f"{DevRelIds.keep}:0"

    told = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA and "closed" in message_text(c.params))
    notice = message_text(told[-1].params)
    assert f"<@{SE}> closed *{ACCOUNT}*, so your DevRel meeting with *{ACCOUNT}* (" in notice
    assert "(Europe/Berlin)) is cancelled, and you won't be reminded of it. Nothing more to do." in notice
    state = the_request(request_id)
    assert state["state"] == RequestState.cancelled and state["remind_at"] is None
    assert event_kinds(request_id)[-1] == "cancelled"
    assert audit_actions(request_id)[-1] == ("cancelled", SE)

    # Lena's message and the SE's card are redrawn; Lena's and the SE's Homes no longer show the meeting.
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == LENA
                   and f"<@{SE}> closed *{ACCOUNT}*, which cancelled this request" in message_text(c.params))
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == SE and "Cancelled: you closed" in message_text(c.params))
    homes = {c.params["user_id"]: c.params["view"] for c in slack.calls_to("views.publish")[homes_before:]}
    assert {SE, SELLER, LENA} <= set(homes)
    assert "Lena Hoffmann" not in message_text(homes[SE]) and ACCOUNT not in message_text(homes[LENA])

    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60)) == 0
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=30)) == 0
    assert reminders_to(slack, LENA) == []


def test_keep_the_meeting_puts_it_back_and_the_reminder_comes(
        wire: SlackWire, slack: MockSlack, settings: Settings, client: Any, engagement_id: int, meeting: Any) -> None:
    request_id = lena_accepts(wire, slack, engagement_id, meeting)
    action_id, value = keep_button(close_northbeam(wire, slack))
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA and "closed" in message_text(c.params))

    homes_before = len(slack.calls_to("views.publish"))
    assert wire.block_action(action_id, user_id=SE, value=value, response_name="keep").status == 200
    kept = slack.wait_for("response_url", lambda c: c.params.get("_name") == "keep")[-1].params
    homes_redrawn(slack, homes_before, 3)
    assert f"The *{ACCOUNT}* meeting (" in kept["text"]
    assert ") is on again: Lena Hoffmann is told and is reminded an hour before." in kept["text"]
    state = the_request(request_id)
    assert state["state"] == RequestState.accepted and state["assignee"] == LENA
    assert state["remind_at"] == meeting - timedelta(hours=1)
    told = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA and "after all" in message_text(c.params))
    assert f"<@{SE}> kept the *{ACCOUNT}* meeting after all: you're in the room again (" in message_text(told[-1].params)
    assert event_kinds(request_id)[-2:] == ["cancelled", "restored"]
    assert audit_actions(request_id)[-1] == ("restored", SE)

    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60)) == 1
    assert len(reminders_to(slack, LENA)) == 1

    # A second press changes nothing, and says so.
    assert wire.block_action(action_id, user_id=SE, value=value, response_name="again").status == 200
    again = slack.wait_for("response_url", lambda c: c.params.get("_name") == "again")[-1].params
    assert again["text"] == "This meeting is already on; nothing changed."


def test_keep_the_meeting_is_refused_to_someone_outside_the_deal(
        wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any) -> None:
    request_id = lena_accepts(wire, slack, engagement_id, meeting)
    action_id, value = keep_button(close_northbeam(wire, slack))
    assert wire.block_action(action_id, user_id=HANNAH, value=value, response_name="stranger").status == 200
    refusal = slack.wait_for("response_url", lambda c: c.params.get("_name") == "stranger")[-1].params
    assert refusal["text"] == (f"Only <@{SE}>, the seller <@{SELLER}> or a presales manager can keep this meeting.")
    assert the_request(request_id)["state"] == RequestState.cancelled


def test_reopening_brings_nothing_back(wire: SlackWire, slack: MockSlack, settings: Settings, client: Any,
                                       engagement_id: int, meeting: Any) -> None:
    request_id = lena_accepts(wire, slack, engagement_id, meeting)
    answer = close_northbeam(wire, slack)
    reopen = button_values(answer.params)["engagement_undo"]
    homes_before = len(slack.calls_to("views.publish"))
    assert wire.block_action("engagement_undo", user_id=SE, value=reopen, response_name="reopen").status == 200
    reopened = slack.wait_for("response_url", lambda c: c.params.get("_name") == "reopen")[-1]
    homes_redrawn(slack, homes_before, 2)
    assert the_request(request_id)["state"] == RequestState.cancelled
    assert ("The DevRel request its close cancelled stays cancelled; if the meeting still happens, ask again with "
            "`/devrel`.") in message_text(reopened.params)
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60)) == 0
    assert reminders_to(slack, LENA) == []


def test_closing_cancels_a_pending_ask_and_nobody_else_is_asked(
        wire: SlackWire, slack: MockSlack, settings: Settings, client: Any, engagement_id: int, meeting: Any) -> None:
    request_id = ask_lena(wire, slack, engagement_id, meeting)
    escalate_at = the_request(request_id)["escalate_at"]

    answer = close_northbeam(wire, slack, user_id=SELLER)
    assert "The DevRel request for the meeting on <!date^" in message_text(answer.params)
    assert "is cancelled, and Lena Hoffmann, who was asked, is told." in message_text(answer.params)
    assert not [a for a in button_values(answer.params) if a.startswith(DevRelIds.keep)]
    told = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA and "closed" in message_text(c.params))
    assert (f"<@{SELLER}> closed *{ACCOUNT}*, so the DevRel request for the *{ACCOUNT}* meeting ("
            in message_text(told[-1].params))
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == LENA and "cancelled this request" in message_text(c.params))
    assert button_values(dms_to(slack, LENA)[0].params) == {}

    assert run_due_devrel_timers(client, settings, now=escalate_at) == 0
    assert dms_to(slack, HANNAH) == []
    assert the_request(request_id)["state"] == RequestState.cancelled
    assert audit_actions(request_id)[-1] == ("cancelled", SELLER)


def hand_back_message(slack: MockSlack) -> Any:
    return next(m for m in reversed(dms_to(slack, LENA)) if DevRelIds.hand_back in button_values(m.params))


def test_the_assignee_hands_back_with_a_reason_and_the_request_is_asked_again(
        wire: SlackWire, slack: MockSlack, settings: Settings, client: Any, engagement_id: int, meeting: Any) -> None:
    request_id = lena_accepts(wire, slack, engagement_id, meeting)
    message = hand_back_message(slack)
    value = button_values(message.params)[DevRelIds.hand_back]
    assert wire.block_action(DevRelIds.hand_back, user_id=LENA, value=value, channel_id=LENA,
                             message_ts=message.ts).status == 200
    form = slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == DevRelIds.hand_back_modal)[-1]
    view = form.params["view"]

    empty = wire.view_submission(view, {DevRelIds.hand_back_block: {DevRelIds.hand_back_input: input_value("  ")}},
                                 user_id=LENA)
    assert empty.json["errors"] == {DevRelIds.hand_back_block: "Say why you hand it back; the requester reads it."}
    assert the_request(request_id)["state"] == RequestState.accepted

    reason = {DevRelIds.hand_back_block: {DevRelIds.hand_back_input: input_value("Called into an incident review")}}
    homes_before = len(slack.calls_to("views.publish"))
    assert wire.view_submission(view, reason, user_id=LENA).status == 200
    homes_redrawn(slack, homes_before, 2)  # Lena's and the SE's
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == HANNAH)
    state = the_request(request_id)
    assert (state["state"], state["candidate"], state["assignee"]) == (RequestState.asking, HANNAH, None)
    assert state["asked"] == [LENA, HANNAH]
    notice = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE and "handed back" in message_text(c.params))
    text = message_text(notice[-1].params)
    assert f"Lena Hoffmann handed back your DevRel request for *{ACCOUNT}* (" in text
    assert "): Called into an incident review. Asking *Hannah Okafor*" in text
    to_seller = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SELLER
                               and "handed back" in message_text(c.params))[-1]
    assert f"Lena Hoffmann handed back <@{SE}>'s DevRel request for *{ACCOUNT}* (" in message_text(to_seller.params)
    slack.wait_for("chat.update", lambda c: c.params.get("ts") == message.ts and "You handed this request" in message_text(c.params))
    assert event_kinds(request_id)[-2:] == ["handed_back", "asked"]
    assert audit_actions(request_id)[-2] == ("handed_back", LENA)
    # Lena is no longer reminded of it.
    run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60))
    assert reminders_to(slack, LENA) == []


def test_only_the_assignee_can_hand_back(wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any) -> None:
    request_id = lena_accepts(wire, slack, engagement_id, meeting)
    message = hand_back_message(slack)
    value = button_values(message.params)[DevRelIds.hand_back]
    assert wire.block_action(DevRelIds.hand_back, user_id=HANNAH, value=value, channel_id=LENA,
                             message_ts=message.ts, response_name="other").status == 200
    refusal = slack.wait_for("response_url", lambda c: c.params.get("_name") == "other")[-1].params
    assert refusal["text"] == "Only the DevRel person who took this request can hand it back."
    assert the_request(request_id)["assignee"] == LENA


def test_a_handed_back_request_may_be_asked_of_someone_who_declined_it_before(
        wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any) -> None:
    request_id = ask_lena(wire, slack, engagement_id, meeting)
    ask = dms_to(slack, LENA)[-1]
    assert wire.block_action(DevRelIds.decline, user_id=LENA, value=f"{request_id}:1", channel_id=LENA,
                             message_ts=ask.ts).status == 200
    decline_form = slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == DevRelIds.decline_modal)
    assert wire.view_submission(decline_form[-1].params["view"], {}, user_id=LENA).status == 200
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == HANNAH)
    hannahs_ask = dms_to(slack, HANNAH)[-1]
    assert wire.block_action(DevRelIds.accept, user_id=HANNAH, value=f"{request_id}:2", channel_id=HANNAH,
                             message_ts=hannahs_ask.ts).status == 200
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == HANNAH and "You're in the room" in message_text(c.params))
    value = button_values(dms_to(slack, HANNAH)[-1].params)[DevRelIds.hand_back]
    assert wire.block_action(DevRelIds.hand_back, user_id=HANNAH, value=value, channel_id=HANNAH,
                             message_ts=hannahs_ask.ts).status == 200
    form = slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == DevRelIds.hand_back_modal)[-1]
    reason = {DevRelIds.hand_back_block: {DevRelIds.hand_back_input: input_value("Off sick")}}
    asks_before = len(dms_to(slack, LENA))
    homes_before = len(slack.calls_to("views.publish"))
    assert wire.view_submission(form.params["view"], reason, user_id=HANNAH).status == 200
    homes_redrawn(slack, homes_before, 2)

    # As a new request would be: Lena, the best placed, is asked again; Hannah is not.
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA, count=asks_before + 1)
    state = the_request(request_id)
    assert (state["state"], state["candidate"], state["asked"]) == (RequestState.asking, LENA, [HANNAH, LENA])
    assert set(button_values(dms_to(slack, LENA)[-1].params)) == {DevRelIds.accept, DevRelIds.decline}


def released_events(request_id: int) -> list[tuple[str | None, str]]:
    with db.reading() as session:
        return [(subject, detail) for subject, detail in session.execute(
            select(DevRelRequestEvent.subject_id, DevRelRequestEvent.detail)
            .where(DevRelRequestEvent.request_id == request_id, DevRelRequestEvent.kind == "released"))]


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
