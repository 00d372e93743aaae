"""`/devrel` over signed HTTP: from the form to an accepted, notified and reminded meeting, and every branch."""

from __future__ import annotations

import threading
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
from bot.services import devrel, engagements
from bot.services.actors import Actor
from models import DevRelRequest, DevRelRequestEvent, DevRelRequestMessage
from models.enums import RequestState
from tests.conftest import SE, SELLER, STRANGER
from tests.devrel_helpers import (
    HANNAH,
    LENA,
    MARCUS,
    ROSTER,
    WEI,
    add_engagement,
    button_values,
    dms_to,
    load_roster,
    next_weekday_meeting,
    open_request_form,
    request_values,
    submit_request,
)
from tests.support.slack import MockSlack
from tests.support.text import message_text
from tests.support.waiting import eventually
from tests.support.wire import SlackWire, input_value


@pytest.fixture
def meeting() -> Any:
    return next_weekday_meeting(clock.now(), days_ahead=3)


@pytest.fixture
def engagement_id(settings: Settings) -> int:
    load_roster()
    return add_engagement()


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    yield make_client(settings)


def the_request(request_id: int | None = None) -> dict[str, Any]:
    """The only request, or the one with `request_id`."""
    with db.reading() as session:
        row = session.scalars(select(DevRelRequest)).one() if request_id is None else session.get(DevRelRequest, request_id)
        assert row is not None
        return {"id": row.id, "state": row.state, "version": row.version, "candidate": row.candidate_id,
                "assignee": row.assignee_id, "asked": list(row.asked_ids), "escalate_at": row.escalate_at,
                "remind_at": row.remind_at, "meeting": row.meeting_start, "reminded_at": row.reminded_at}


def event_kinds(request_id: int | None = None) -> list[str]:
    query = select(DevRelRequestEvent.kind).order_by(DevRelRequestEvent.id)
    if request_id is not None:
        query = query.where(DevRelRequestEvent.request_id == request_id)
    with db.reading() as session:
        return list(session.scalars(query).all())


def request_devrel(wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any) -> dict[str, Any]:
    request = the_request(submit_request(wire, slack, engagement_id, meeting))
    # The ask goes out after the form's ack, and is remembered just after Slack has it; timers run before
    # then would take it for a lost one and send it again.
    if request.get("candidate"):
        slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == request["candidate"])
        assert eventually(lambda: ask_remembered(request["id"], request["candidate"]))
    return request


def ask_remembered(request_id: int, person: str) -> bool:
    with db.reading() as session:
        return session.scalar(select(DevRelRequestMessage.id).where(
            DevRelRequestMessage.request_id == request_id, DevRelRequestMessage.audience == "ask",
            DevRelRequestMessage.recipient_id == person).limit(1)) is not None


def click(wire: SlackWire, slack: MockSlack, action: DevRelIds, user_id: str, *, channel: str, value: str,
          action_ts: str | None = None) -> int:
    """Press a button on the newest message in `channel`, as `user_id`."""
    message = dms_to(slack, channel)[-1]
    return wire.block_action(action, user_id=user_id, value=value, channel_id=channel, message_ts=message.ts,
                             action_ts=action_ts).status


def test_request_opens_a_prefilled_form_and_asks_the_best_placed_person(wire: SlackWire, slack: MockSlack,
                                                                        engagement_id: int, meeting: Any) -> None:
    view = open_request_form(wire, slack, "northbeam")
    engagement_block = next(b for b in view["blocks"] if b.get("block_id") == DevRelIds.engagement_block)
    assert engagement_block["element"]["initial_option"]["value"] == str(engagement_id)
    # The form opens at once; the requester's timezone (users.info) follows by views.update.
    assert "In your Slack timezone." in message_text({"blocks": view["blocks"]})
    reserve = next(b for b in view["blocks"] if b.get("block_id") == DevRelIds.reserve_block)
    assert reserve["hint"]["text"] == ("Seen by you, the seller and the DevRel person who takes the request, once they "
                                       "have taken it; people asked before that don't see it. They won't bring it up "
                                       "unless you do.")
    updated = slack.wait_for("views.update")[-1].params
    assert "In your timezone (Europe/Berlin)." in message_text({"blocks": updated["view"]["blocks"]})
    # (The first users.info, before the form, checks who is asking; see test_audience_actor.py.)
    assert slack.calls_to("users.info")[-1].at > slack.calls_to("views.open")[0].at

    request = request_devrel(wire, slack, engagement_id, meeting)
    assert request["state"] == RequestState.asking and request["candidate"] == LENA and request["asked"] == [LENA]
    assert request["meeting"] == meeting
    ask = dms_to(slack, LENA)[-1].params
    assert button_values(ask) == {DevRelIds.accept: f"{request['id']}:1", DevRelIds.decline: f"{request['id']}:1"}
    text = message_text(ask)
    assert "The seller drives the meeting" in text and "Can traces follow a request across Kafka?" in text
    # What the seller holds in reserve is for whoever accepts, not for everyone asked.
    assert "A free extension of the PoC" not in text and "you see it once you accept" in text
    assert "(Europe/Berlin)" in text and "Technical Q&A" in text
    card = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE)[-1].params
    assert "Asked *Lena Hoffmann* — observability, 0/4 meetings this week." in message_text(card)
    assert DevRelIds.cancel in button_values(card)

    def audiences() -> list[str]:
        with db.reading() as session:
            return sorted(session.scalars(select(DevRelRequestMessage.audience)).all())

    assert eventually(lambda: audiences() == ["ask", "requester"]), audiences()
    assert event_kinds() == ["requested", "asked"]


def test_no_open_engagements_gets_a_pointer_to_engagement_new_not_an_empty_form(wire: SlackWire, slack: MockSlack,
                                                                                  settings: Settings) -> None:
    assert wire.command("/devrel", "acme", user_id=STRANGER).status == 200
    reply = slack.wait_for("response_url")[-1].params
    assert "/engagement new" in reply["text"] and reply["response_type"] == "ephemeral"
    assert slack.calls_to("views.open") == []


@pytest.mark.parametrize(
    ("change", "block", "words"),
    [
        ({"meeting": -timedelta(days=4)}, DevRelIds.date_block, "already passed"),
        ({"link": "meet.example.com/abc"}, DevRelIds.link_block, "https://"),
        ({"engagement": None}, DevRelIds.engagement_block, "Pick the engagement"),
    ],
)
def test_form_errors_are_shown_on_their_fields_and_nothing_is_written(wire: SlackWire, slack: MockSlack, engagement_id: int,
                                                                      meeting: Any, change: dict, block: str, words: str) -> None:
    view = open_request_form(wire, slack)
    values = request_values(None if "engagement" in change else engagement_id, meeting + change.get("meeting", timedelta(0)),
                            link=change.get("link", "https://meet.example.com/abc"))
    response = wire.view_submission(view, values, user_id=SE)
    assert response.status == 200
    assert response.json["response_action"] == "errors" and words in response.json["errors"][block]
    with db.reading() as session:
        assert session.scalars(select(DevRelRequest)).all() == []
    assert [c for c in slack.calls_to("chat.postMessage")] == []


def test_decline_asks_the_next_candidate_and_tells_the_requester(wire: SlackWire, slack: MockSlack, engagement_id: int,
                                                                 meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    value = f"{request['id']}:1"
    assert click(wire, slack, DevRelIds.decline, LENA, channel=LENA, value=value) == 200
    decline_form = slack.wait_for("views.open", count=2)[-1].params["view"]
    assert decline_form["callback_id"] == DevRelIds.decline_modal
    values = {DevRelIds.reason_block: {DevRelIds.reason_input: input_value("Customer workshop all afternoon")}}
    assert wire.view_submission(decline_form, values, user_id=LENA).status == 200

    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == HANNAH)
    assert the_request()["candidate"] == HANNAH and the_request()["asked"] == [LENA, HANNAH]
    notice = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE and "declined" in message_text(c.params))
    text = message_text(notice[-1].params)
    assert "Lena Hoffmann declined" in text and "Customer workshop all afternoon" in text and "Asking *Hannah Okafor*" in text
    # Lena's ask is redrawn without buttons.
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == LENA)
    assert button_values(dms_to(slack, LENA)[-1].params) == {}
    assert "You declined" in message_text(dms_to(slack, LENA)[-1].params)
    assert event_kinds()[-2:] == ["declined", "asked"]


def test_no_answer_in_time_asks_the_next_candidate(wire: SlackWire, slack: MockSlack, settings: Settings, client: Any,
                                                   engagement_id: int, meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    assert run_due_devrel_timers(client, settings, now=request["escalate_at"] - timedelta(seconds=1)) == 0
    assert run_due_devrel_timers(client, settings, now=request["escalate_at"]) == 1
    assert run_due_devrel_timers(client, settings, now=request["escalate_at"]) == 0
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == HANNAH)
    assert the_request()["candidate"] == HANNAH
    assert len([m for m in dms_to(slack, HANNAH)]) == 1
    notice = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE and "in time" in message_text(c.params))
    assert "Lena Hoffmann did not answer" in message_text(notice[-1].params)
    assert event_kinds()[-2:] == ["escalated", "asked"]


def test_exhaustion_posts_to_the_lead_channel_where_a_roster_member_takes_it(wire: SlackWire, slack: MockSlack,
                                                                             settings: Settings, client: Any,
                                                                             engagement_id: int, meeting: Any) -> None:
    request_devrel(wire, slack, engagement_id, meeting)
    for _ in (LENA, HANNAH, MARCUS):
        run_due_devrel_timers(client, settings, now=the_request()["escalate_at"])
    assert the_request()["state"] == RequestState.in_channel
    post = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "C0DEVREL1")[-1].params
    value = button_values(post)[DevRelIds.take]
    assert "A free extension of the PoC" not in message_text(post)

    assert click(wire, slack, DevRelIds.take, STRANGER, channel="C0DEVREL1", value=value) == 200
    refusal = slack.wait_for("response_url")[-1].params
    assert "Only active members of the DevRel roster" in refusal["text"] and refusal["response_type"] == "ephemeral"
    assert the_request()["state"] == RequestState.in_channel

    assert click(wire, slack, DevRelIds.take, WEI, channel="C0DEVREL1", value=value) == 200
    slack.wait_for("conversations.open")
    assert the_request()["state"] == RequestState.accepted and the_request()["assignee"] == WEI
    assert "A free extension of the PoC" in message_text(slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == WEI)[-1].params)
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == "C0DEVREL1")
    assert button_values(dms_to(slack, "C0DEVREL1")[-1].params) == {}
    assert event_kinds()[-1] == "assigned"


def test_without_a_lead_channel_the_requester_hears_nobody_is_available(wire: SlackWire, slack: MockSlack,
                                                                        settings: Settings, engagement_id: int,
                                                                        meeting: Any) -> None:
    saturday = meeting + timedelta(days=(5 - meeting.weekday()) % 7)
    from bot.services import devrel
    from bot.services.actors import Actor
    from bot.notify.devrel import publish
    from models.schemas.devrel import DevRelPolicy, RequestDraft

    update = devrel.create_request(Actor(user_id=SE), RequestDraft(engagement_id=engagement_id, meeting_start=saturday),
                                   policy=DevRelPolicy(lead_channel=None))
    publish(make_client(settings), settings.model_copy(update={"devrel_channel": None}), update)
    notice = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE and "Nobody" in message_text(c.params))
    assert "Try another time" in message_text(notice[-1].params)
    assert the_request()["state"] == RequestState.expired


def test_accept_tells_everyone_opens_the_group_dm_and_reminds_an_hour_before(wire: SlackWire, slack: MockSlack,
                                                                              settings: Settings, client: Any,
                                                                              engagement_id: int, meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    assert click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=f"{request['id']}:1") == 200
    opened = slack.wait_for("conversations.open")[-1].params
    assert sorted(opened["users"].split(",")) == sorted([SE, SELLER, LENA])
    kickoff = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel", "").startswith("G"))[-1].params
    assert "Pre-meeting sync" in message_text(kickoff) and "The seller drives the meeting" in message_text(kickoff)
    seller = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SELLER)[-1].params
    assert "Lena Hoffmann" in message_text(seller) and "(America/New_York)" in message_text(seller)
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE and "will join" in message_text(c.params))
    # Every message about the request is redrawn: the ask and the requester's card.
    slack.wait_for("chat.update", lambda c: c.params.get("channel") in (LENA, SE), count=2)
    # Accept and Decline are gone; what is left is to hand it back should Lena not make it after all.
    assert button_values(dms_to(slack, LENA)[-1].params) == {DevRelIds.hand_back: f"{request['id']}:2"}
    assert "is in the room" in message_text(dms_to(slack, SE)[0].params)
    assert "A free extension of the PoC" in message_text(dms_to(slack, LENA)[-1].params)  # now Lena's to see
    state = the_request()
    assert state["state"] == RequestState.accepted and state["assignee"] == LENA
    assert state["remind_at"] == meeting - timedelta(hours=1)

    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=61)) == 0
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60)) == 1
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=59)) == 0
    reminders = [m for m in dms_to(slack, LENA) if "starts in" in message_text(m.params)]
    assert len(reminders) == 1
    assert "A free extension of the PoC" in message_text(reminders[0].params)
    assert "https://meet.example.com/abc" in message_text(reminders[0].params)
    assert event_kinds()[-1] == "reminded"


def test_a_failed_reminder_is_sent_at_the_next_tick(wire: SlackWire, slack: MockSlack, settings: Settings, client: Any,
                                                    engagement_id: int, meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=f"{request['id']}:1")
    slack.wait_for("chat.update", count=2)  # the accept's last step: redrawing the ask and the card
    slack.fail("chat.postMessage", error="channel_not_found")
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60)) == 0
    assert the_request()["reminded_at"] is None
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=59)) == 1
    assert len([m for m in dms_to(slack, LENA) if "starts in" in message_text(m.params)]) == 1


def test_a_reminder_slack_accepted_but_answered_late_is_never_sent_again(wire: SlackWire, slack: MockSlack,
                                                                         settings: Settings, client: Any,
                                                                         engagement_id: int, meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=f"{request['id']}:1")
    slack.wait_for("chat.update", count=2)
    client.timeout = 1
    slack.fail("chat.postMessage", accept=True, delay=2.5)  # carried out, answered after the client gave up
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60)) == 0
    assert the_request()["reminded_at"] is None
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=59)) == 0
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=58)) == 0
    assert len([m for m in dms_to(slack, LENA) if "starts in" in message_text(m.params)]) == 1
    assert the_request()["reminded_at"] == meeting - timedelta(minutes=59)
    assert slack.calls_to("conversations.history")


def test_a_reminder_that_never_reached_slack_is_sent_at_the_next_tick(wire: SlackWire, slack: MockSlack,
                                                                      settings: Settings, client: Any,
                                                                      engagement_id: int, meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=f"{request['id']}:1")
    slack.wait_for("chat.update", count=2)
    slack.fail("chat.postMessage", drop=True)  # nothing reached Slack; the client does not send it again itself
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=60)) == 0
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=59)) == 1
    assert run_due_devrel_timers(client, settings, now=meeting - timedelta(minutes=58)) == 0
    assert len([m for m in dms_to(slack, LENA) if "starts in" in message_text(m.params)]) == 1


def test_a_strangers_click_is_refused_and_changes_nothing(wire: SlackWire, slack: MockSlack, engagement_id: int,
                                                          meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    for action in (DevRelIds.accept, DevRelIds.decline):
        assert click(wire, slack, action, STRANGER, channel=LENA, value=f"{request['id']}:1") == 200
    refusals = slack.wait_for("response_url", count=2)
    assert all("Only the DevRel person this request was sent to" in r.params["text"] for r in refusals)
    assert all(r.params["response_type"] == "ephemeral" for r in refusals)
    assert the_request()["state"] == RequestState.asking and the_request()["version"] == 1
    assert event_kinds() == ["requested", "asked"]


def test_a_strangers_click_on_an_out_of_date_accept_does_not_learn_who_took_it(wire: SlackWire, slack: MockSlack,
                                                                              engagement_id: int, meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    assert click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=f"{request['id']}:1") == 200
    assert eventually(lambda: the_request()["state"] == RequestState.accepted)
    slack.wait_for("chat.update", count=2)
    slack.clear()
    assert click(wire, slack, DevRelIds.accept, STRANGER, channel=LENA, value=f"{request['id']}:1") == 200
    refusal = slack.wait_for("response_url")[0].params
    assert refusal["text"] == "Only the DevRel person this request was sent to can accept it."
    assert refusal["response_type"] == "ephemeral"
    assert slack.calls_to("chat.update") == []  # the message is not redrawn for a stranger either
    assert the_request()["assignee"] == LENA and event_kinds()[-1] == "accepted"


def test_a_repeated_accept_click_changes_nothing_and_refreshes_the_message(wire: SlackWire, slack: MockSlack,
                                                                           engagement_id: int, meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    value = f"{request['id']}:1"
    assert click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=value) == 200
    slack.wait_for("conversations.open")
    updates_before = len(slack.calls_to("chat.update"))
    assert click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=value) == 200
    note = slack.wait_for("response_url")[-1].params
    assert "already have this request" in note["text"]
    slack.wait_for("chat.update", count=updates_before + 1)
    assert len(slack.calls_to("conversations.open")) == 1
    assert event_kinds().count("accepted") == 1 and the_request()["version"] == 2


@pytest.mark.parametrize("clicks", [2, 20])
def test_concurrent_accepts_over_the_wire_give_exactly_one_assignee(wire: SlackWire, slack: MockSlack,
                                                                    engagement_id: int, meeting: Any, clicks: int) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    message_ts = dms_to(slack, LENA)[-1].ts
    barrier = threading.Barrier(clicks)
    statuses: list[int] = []

    def press(n: int) -> None:
        barrier.wait()
        statuses.append(wire.block_action(DevRelIds.accept, user_id=LENA, value=f"{request['id']}:1", channel_id=LENA,
                                          message_ts=message_ts, action_ts=f"1800000000.{n:06d}").status)

    threads = [threading.Thread(target=press, args=(n,)) for n in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * clicks
    slack.wait_for("response_url", count=clicks - 1, timeout=20)
    slack.wait_for("conversations.open")
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == SE)  # the winner's last step
    assert the_request()["assignee"] == LENA and the_request()["version"] == 2
    assert event_kinds().count("accepted") == 1
    assert len(slack.calls_to("conversations.open")) == 1


def test_the_requester_cancels_and_whoever_was_asked_is_told(wire: SlackWire, slack: MockSlack, engagement_id: int,
                                                              meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    card = dms_to(slack, SE)[0]
    cancel_value = button_values(card.params)[DevRelIds.cancel]
    assert wire.block_action(DevRelIds.cancel, user_id=LENA, value=cancel_value, channel_id=SE, message_ts=card.ts).status == 200
    assert "Only <@" in slack.wait_for("response_url")[-1].params["text"]
    assert wire.block_action(DevRelIds.cancel, user_id=SE, value=cancel_value, channel_id=SE, message_ts=card.ts).status == 200
    told = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA and "cancelled" in message_text(c.params))
    assert "<@U0A1B2C3D> cancelled" in message_text(told[-1].params)
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == LENA)
    assert button_values(dms_to(slack, LENA)[0].params) == {}
    assert the_request()["state"] == RequestState.cancelled
    # A late accept on the old ask changes nothing.
    assert click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=f"{request['id']}:1") == 200
    assert "cancelled this request" in slack.wait_for("response_url", count=2)[-1].params["text"]
    assert the_request()["state"] == RequestState.cancelled and event_kinds()[-1] == "cancelled"


def test_cancel_after_accept_tells_the_assignee(wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any) -> None:
    request = request_devrel(wire, slack, engagement_id, meeting)
    click(wire, slack, DevRelIds.accept, LENA, channel=LENA, value=f"{request['id']}:1")
    slack.wait_for("conversations.open")
    card = dms_to(slack, SE)[0]
    wire.block_action(DevRelIds.cancel, user_id=SE, value=str(request["id"]), channel_id=SE, message_ts=card.ts)
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA and "cancelled" in message_text(c.params))
    assert the_request()["state"] == RequestState.cancelled and the_request()["remind_at"] is None


# Two requests asked of the same person before they answer either: overlapping (30 minutes later) or not
# (two hours earlier). The first request is Northbeam's at `meeting`, the second Bluefin's.
OVERLAPPING, SEPARATE = timedelta(minutes=30), -timedelta(hours=2)


def ask_lena_twice(wire: SlackWire, slack: MockSlack, engagement_id: int, meeting: Any,
                   offset: timedelta) -> tuple[dict[str, Any], dict[str, Any]]:
    first = request_devrel(wire, slack, engagement_id, meeting)
    second = request_devrel(wire, slack, add_engagement(account="Bluefin Bank"), meeting + offset)
    assert first["candidate"] == second["candidate"] == LENA
    return first, second


def ask_message(slack: MockSlack, user_id: str, request: dict[str, Any]) -> Any:
    """The newest DM to `user_id` whose buttons are for `request` (as last drawn)."""
    return next(m for m in reversed(dms_to(slack, user_id))
                if any(v.startswith(f"{request['id']}:") for v in button_values(m.params).values()))


def press(wire: SlackWire, action: DevRelIds, user_id: str, message: Any, *, channel: str, name: str) -> None:
    value = button_values(message.params)[action]
    assert wire.block_action(action, user_id=user_id, value=value, channel_id=channel, message_ts=message.ts,
                             response_name=name).status == 200


def test_an_overlapping_second_accept_is_refused_and_the_request_stays_with_them(wire: SlackWire, slack: MockSlack,
                                                                                  engagement_id: int, meeting: Any) -> None:
    first, second = ask_lena_twice(wire, slack, engagement_id, meeting, OVERLAPPING)
    second_ask = ask_message(slack, LENA, second)
    press(wire, DevRelIds.accept, LENA, ask_message(slack, LENA, first), channel=LENA, name="first")
    slack.wait_for("conversations.open")
    assert the_request(first["id"])["assignee"] == LENA

    updates_before = len(slack.calls_to("chat.update"))
    press(wire, DevRelIds.accept, LENA, second_ask, channel=LENA, name="second")
    refusal = slack.wait_for("response_url", lambda c: "already accepted" in message_text(c.params))[-1].params
    text = message_text(refusal)
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    # The meeting in the way, in Lena's own time (15:00 in Berlin), and both ways on.
    assert "*Northbeam Logistics* meeting" in text and "15:00–16:00 (Europe/Berlin)" in text
    assert "Press *Decline*" in text and "<@U0A1B2C3D>" in text and "can cancel the *Northbeam Logistics* request" in text
    state = the_request(second["id"])
    assert (state["state"], state["candidate"], state["assignee"], state["version"]) == (RequestState.asking, LENA, None, 1)
    assert event_kinds(second["id"]) == ["requested", "asked"]
    assert len(slack.calls_to("conversations.open")) == 1

    # No dead end: the ask is redrawn with its buttons, and Decline passes the request on.
    slack.wait_for("chat.update", count=updates_before + 1)
    redrawn = ask_message(slack, LENA, second)
    assert set(button_values(redrawn.params)) == {DevRelIds.accept, DevRelIds.decline}
    press(wire, DevRelIds.decline, LENA, redrawn, channel=LENA, name="decline")
    decline_form = slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == DevRelIds.decline_modal)
    assert wire.view_submission(decline_form[-1].params["view"], {}, user_id=LENA).status == 200
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == HANNAH)
    assert the_request(second["id"])["candidate"] == HANNAH
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE and "declined" in message_text(c.params))
    slack.wait_for("chat.update", lambda c: c.params.get("ts") == redrawn.ts and "You declined" in message_text(c.params))


def test_a_second_accept_at_another_time_succeeds_and_past_capacity_they_are_told(wire: SlackWire, slack: MockSlack,
                                                                                  engagement_id: int, meeting: Any) -> None:
    load_roster([entry.model_copy(update={"weekly_capacity": 1}) if entry.slack_id == LENA else entry for entry in ROSTER])
    first, second = ask_lena_twice(wire, slack, engagement_id, meeting, SEPARATE)
    second_ask = ask_message(slack, LENA, second)
    press(wire, DevRelIds.accept, LENA, ask_message(slack, LENA, first), channel=LENA, name="first")
    slack.wait_for("conversations.open")
    press(wire, DevRelIds.accept, LENA, second_ask, channel=LENA, name="second")
    slack.wait_for("conversations.open", count=2)
    assert the_request(first["id"])["assignee"] == the_request(second["id"])["assignee"] == LENA
    assert the_request(second["id"])["state"] == RequestState.accepted
    heads_up = slack.wait_for("response_url", lambda c: "capacity" in message_text(c.params))
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == SE and "is in the room" in message_text(c.params), count=2)
    text = message_text(heads_up[-1].params)
    assert "*Bluefin Bank*" in text and "your 2nd DevRel meeting" in text and "your capacity is 1" in text
    assert len(heads_up) == 1  # within capacity, the first accept brought no such note


def put_in_channel(settings: Settings, client: Any, *requests: dict[str, Any]) -> None:
    """Let every person on the roster leave the requests unanswered until they go to the lead channel."""
    for _ in (LENA, HANNAH, MARCUS):
        waiting = [the_request(r["id"])["escalate_at"] for r in requests]
        if any(waiting):
            run_due_devrel_timers(client, settings, now=max(due for due in waiting if due))
    assert all(the_request(r["id"])["state"] == RequestState.in_channel for r in requests)


@pytest.mark.parametrize("offset", [OVERLAPPING, SEPARATE], ids=["overlapping", "separate"])
def test_taking_a_second_meeting_from_the_channel_is_refused_only_when_it_overlaps(
        wire: SlackWire, slack: MockSlack, settings: Settings, client: Any, engagement_id: int, meeting: Any,
        offset: timedelta) -> None:
    first, second = ask_lena_twice(wire, slack, engagement_id, meeting, offset)
    put_in_channel(settings, client, first, second)
    second_post = ask_message(slack, "C0DEVREL1", second)
    press(wire, DevRelIds.take, WEI, ask_message(slack, "C0DEVREL1", first), channel="C0DEVREL1", name="first")
    slack.wait_for("conversations.open")
    press(wire, DevRelIds.take, WEI, second_post, channel="C0DEVREL1", name="second")

    def second_post_taken() -> None:
        slack.wait_for("chat.update", lambda c: c.params.get("ts") == second_post.ts and "Take it" not in message_text(c.params))

    if offset == SEPARATE:
        second_post_taken()
        assert the_request(second["id"])["assignee"] == WEI
        return
    refusal = slack.wait_for("response_url", lambda c: "already accepted" in message_text(c.params))[-1].params
    text = message_text(refusal)
    assert refusal["response_type"] == "ephemeral"
    # Wei Jie reads the time in Singapore: 15:00 in Berlin is 21:00 or 22:00 there.
    assert "*Northbeam Logistics* meeting" in text and "(Asia/Singapore)" in text
    assert "Leave this one in the channel" in text and "press *Take it* again" in text
    assert the_request(second["id"])["state"] == RequestState.in_channel and the_request(second["id"])["assignee"] is None
    assert event_kinds(second["id"])[-1] != "assigned"
    # The post keeps its Take it button for everyone else on the roster.
    press(wire, DevRelIds.take, MARCUS, second_post, channel="C0DEVREL1", name="marcus")
    second_post_taken()
    assert the_request(second["id"])["assignee"] == MARCUS


def test_a_meeting_that_starts_without_devrel_expires_and_the_requester_is_told(wire: SlackWire, slack: MockSlack,
                                                                               settings: Settings, client: Any,
                                                                               engagement_id: int, meeting: Any) -> None:
    request_devrel(wire, slack, engagement_id, meeting)
    assert run_due_devrel_timers(client, settings, now=meeting) == 1
    assert the_request()["state"] == RequestState.expired
    notice = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE and "expired" in message_text(c.params))
    assert "the meeting started without anyone taking it" in message_text(notice[-1].params)
    assert button_values(dms_to(slack, LENA)[0].params) == {}


def test_an_unreachable_candidate_is_skipped_at_once(wire: SlackWire, slack: MockSlack, engagement_id: int,
                                                     meeting: Any) -> None:
    view = open_request_form(wire, slack)
    slack.fail("chat.postMessage", error="channel_not_found", times=1)  # the requester's card
    slack.fail("chat.postMessage", error="user_not_found", times=1)  # the ask to Lena
    wire.view_submission(view, request_values(engagement_id, meeting), user_id=SE)
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == HANNAH and "_fault" not in c.params)
    assert the_request()["candidate"] == HANNAH
    assert event_kinds() == ["requested", "asked", "escalated", "asked"]


def test_help_explains_the_command(wire: SlackWire, slack: MockSlack, settings: Settings) -> None:
    assert wire.command("/devrel", "help", user_id=SE).status == 200
    reply = slack.wait_for("response_url")[-1].params
    assert "/devrel ACCOUNT" in message_text(reply) and "DEVREL_ESCALATE_AFTER" in message_text(reply)


def test_a_requester_without_a_slack_timezone_is_told_the_team_timezone_is_used(wire: SlackWire, slack: MockSlack,
                                                                               settings: Settings, meeting: Any) -> None:
    load_roster()
    unknown = "U0NOZONE1"  # users.info does not know them
    engagement_id = add_engagement(owner=unknown)
    view = open_request_form(wire, slack, "northbeam", user_id=unknown)
    updated = slack.wait_for("views.update")[-1].params["view"]
    assert "In Europe/Berlin, the team's timezone: Slack did not tell us yours." in message_text(updated)
    response = wire.view_submission({**view, "private_metadata": updated["private_metadata"]},
                                    request_values(engagement_id, meeting, zone="Europe/Berlin"), user_id=unknown)
    assert response.status == 200 and not response.body
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA)
    assert the_request()["meeting"] == meeting


def test_a_request_on_a_practice_engagement_is_accepted_by_a_practice_colleague_and_asks_nobody(
        wire: SlackWire, slack: MockSlack, settings: Settings, meeting: Any) -> None:
    load_roster()
    practice_id = engagements.start_practice(Actor(user_id=SE)).engagement.id
    view = open_request_form(wire, slack, "practice")
    engagement_block = next(b for b in view["blocks"] if b.get("block_id") == DevRelIds.engagement_block)
    assert engagement_block["element"]["initial_option"]["text"]["text"] == \
        "Practice: Acme Robotics · Preparation · practice"

    response = wire.view_submission(view, request_values(practice_id, meeting), user_id=SE)

    assert response.status == 200 and not response.body
    told = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE)[-1].params
    assert message_text(told).startswith(
        "🎓 *Practice.* A practice DevRel colleague accepted your request for *Practice: Acme Robotics* (Fleet "
        "telemetry platform): ")
    assert "Nobody real was asked this time, and this request counts in no figure." in message_text(told)
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == [SE]
    with db.reading() as session:
        assert session.scalars(select(DevRelRequest)).all() == []
    since = clock.now() - timedelta(days=1)
    assert devrel.coverage(since, clock.now() + timedelta(days=1)).requests == 0
