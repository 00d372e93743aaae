"""The App Home tab over signed HTTP: my engagements, my DevRel requests, quick actions, paging."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import Block

from bot import clock, db
from models import DevRelRequest
from models.enums import Outcome, RequestState, Stage
from tests.conftest import MANAGER, SE, STRANGER
from tests.devrel_helpers import LENA, add_engagement, load_roster, next_weekday_meeting, submit_request
from tests.engagements_helpers import button, buttons_in, close, open_engagement
from tests.support.slack import MockSlack
from tests.support.text import all_text, message_text
from tests.support.wire import SlackWire

HOME = {"id": "VHOME0001", "type": "home", "hash": "h1"}


def open_home(wire: SlackWire, user_id: str, tab: str = "home") -> None:
    event = {"type": "app_home_opened", "user": user_id, "channel": "D0HOME01", "tab": tab, "event_ts": "1.2"}
    assert wire.event(event).status == 200


def published(slack: MockSlack, user_id: str, count: int = 1) -> dict[str, Any]:
    call = slack.wait_for("views.publish", lambda c: c.params.get("user_id") == user_id, count=count)[count - 1]
    view = call.params["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    for block in Block.parse_all(view["blocks"]):
        block.validate_json()
    return view


def days_ago(days: int) -> str:
    return (clock.now() - timedelta(days=days)).strftime("%Y-%m-%d %H:%M")


def test_the_home_shows_my_open_engagements_with_stage_days_and_stale_flag(database_url: str, wire: SlackWire,
                                                                          slack: MockSlack) -> None:
    open_engagement("Northbeam Logistics", days_ago(10))
    open_engagement("Other Team Deal", days_ago(1), owner="U0OTHER01", seller="U0OTHER02")

    open_home(wire, SE)

    text = all_text(published(slack, SE)["blocks"])
    assert "Your open engagements* (1)" in text
    assert "Northbeam Logistics" in text and "Preparation* for 10 days" in text and "stale" in text
    assert "Other Team Deal" not in text
    assert "Welcome to epos" not in text


def test_a_new_user_gets_help_and_the_quick_actions(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    open_home(wire, STRANGER)
    view = published(slack, STRANGER)
    assert "Welcome to epos" in all_text(view["blocks"])
    labels = [b["text"]["text"] for b in buttons_in(view["blocks"])]
    assert labels[:3] == ["New engagement", "Find an asset", "Request DevRel"]


def test_the_messages_tab_publishes_nothing(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    open_home(wire, SE, tab="messages")
    open_home(wire, STRANGER)
    published(slack, STRANGER)
    assert [c.params["user_id"] for c in slack.calls_to("views.publish")] == [STRANGER]


def test_the_home_shows_devrel_requests_i_made_and_must_answer(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    mine = open_engagement("Northbeam Logistics", days_ago(2))
    theirs = open_engagement("Bluefin Bank", days_ago(2), owner="U0OTHER01", seller="U0OTHER02")
    now = clock.now()
    with db.transaction() as session:
        session.add(DevRelRequest(engagement_id=mine, requester_id=SE, meeting_start=now + timedelta(days=1),
                                  duration_minutes=60, topics=["tracing"], state=RequestState.asking,
                                  candidate_id="U0DEVREL1", asked_ids=["U0DEVREL1"], created_at=now))
        session.add(DevRelRequest(engagement_id=theirs, requester_id="U0OTHER01", meeting_start=now + timedelta(days=2),
                                  duration_minutes=30, topics=["siem"], state=RequestState.asking, candidate_id=SE,
                                  asked_ids=[SE], created_at=now))
    open_home(wire, SE)
    text = all_text(published(slack, SE)["blocks"])
    assert "Waiting for you" in text and "Bluefin Bank" in text and "siem" in text
    assert "You asked" in text and "asking <@U0DEVREL1>" in text


def test_many_engagements_are_paged_within_the_block_limit(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    for index in range(40):
        open_engagement(f"Account {index:02d}", days_ago(1))
    open_home(wire, SE)
    first = published(slack, SE)
    assert "Page 1 of 3" in all_text(first["blocks"])
    following = button(first["blocks"], "home_next_page")
    wire.block_action(following["action_id"], user_id=SE, value=following["value"], view={**HOME, "blocks": first["blocks"]})
    second = published(slack, SE, count=2)
    assert "Page 2 of 3" in all_text(second["blocks"])


def test_the_home_figures_are_the_teams_for_managers(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    open_home(wire, MANAGER)
    assert "Team figures" in all_text(published(slack, MANAGER)["blocks"])


def test_quick_actions_open_their_forms(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    wire.block_action("engagement_new_open", user_id=SE, value="home", view=HOME)
    slack.wait_for("views.open", lambda c: c.params["view"].get("callback_id") == "engagement_new")
    wire.block_action("home_find_asset", user_id=SE, value="home", view=HOME)
    slack.wait_for("views.open", lambda c: "/asset demo observability" in all_text(c.params["view"]["blocks"]))
    # Without an open engagement there is nothing to bring DevRel into: epos says so by DM.
    wire.block_action("home_request_devrel", user_id=STRANGER, value="home", view=HOME)
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == STRANGER)


def test_a_card_opened_from_the_home_is_a_modal_and_its_buttons_stack_forms(database_url: str, wire: SlackWire,
                                                                           slack: MockSlack) -> None:
    engagement_id = open_engagement("Northbeam Logistics", days_ago(3))
    wire.block_action(f"engagement_show_card:{engagement_id}", user_id=SE, value=str(engagement_id), view=HOME)
    card = slack.wait_for("views.open", lambda c: c.params["view"].get("callback_id") == "engagement_show_card")[0]
    card_view = {**card.params["view"], "id": "VCARD0001"}
    assert "Northbeam Logistics" in all_text(card_view["blocks"])

    change = button(card_view["blocks"], "engagement_change_stage")
    wire.block_action(change["action_id"], user_id=SE, value=change["value"], view=card_view)
    slack.wait_for("views.push", lambda c: c.params["view"].get("callback_id") == "engagement_stage")


def test_the_home_is_republished_after_a_change(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    open_engagement("Northbeam Logistics", days_ago(3))
    wire.command("/engagement", "northbeam demo", user_id=SE)
    view = published(slack, SE)
    assert "*Demo* for less than a day" in all_text(view["blocks"])


def cancel_buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in buttons_in(view["blocks"]) if b["action_id"].startswith("home_devrel_cancel")]


def test_the_requester_cancels_a_devrel_request_from_the_home(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    load_roster()
    request_id = submit_request(wire, slack, add_engagement(), next_weekday_meeting(clock.now(), days_ahead=3))
    theirs = open_engagement("Bluefin Bank", days_ago(2), owner="U0OTHER01", seller="U0OTHER02")
    now = clock.now()
    with db.transaction() as session:
        session.add(DevRelRequest(engagement_id=theirs, requester_id="U0OTHER01", meeting_start=now + timedelta(days=2),
                                  duration_minutes=30, topics=["siem"], state=RequestState.asking, candidate_id=SE,
                                  asked_ids=[SE], created_at=now))

    open_home(wire, SE)
    home = published(slack, SE)
    assert "You asked" in all_text(home["blocks"])
    # Cancel only on my own request, with a confirmation; none on the one waiting for my answer.
    assert [b["value"] for b in cancel_buttons(home)] == [str(request_id)]
    cancel = cancel_buttons(home)[0]
    assert cancel["confirm"]["confirm"]["text"] == "Cancel request" and "Northbeam Logistics" in cancel["confirm"]["text"]["text"]
    open_home(wire, LENA)
    assert cancel_buttons(published(slack, LENA)) == []

    # Someone else pressing it (a forged click) changes nothing and is told why.
    wire.block_action(cancel["action_id"], user_id=STRANGER, value=cancel["value"], view={**HOME, "blocks": home["blocks"]})
    refusal = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == STRANGER)[-1].params
    assert "Only <@U0A1B2C3D>, who asked for DevRel, can cancel" in refusal["text"]

    wire.block_action(cancel["action_id"], user_id=SE, value=cancel["value"], view={**HOME, "blocks": home["blocks"]})
    told = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == LENA and "cancelled" in message_text(c.params))
    assert "<@U0A1B2C3D> cancelled the DevRel request for *Northbeam Logistics*" in message_text(told[-1].params)
    # Lena's ask loses its buttons, as after a cancel from the request card.
    slack.wait_for("chat.update", lambda c: c.params.get("channel") == LENA and "cancelled this request" in message_text(c.params))
    republished = published(slack, SE, count=2)
    text = all_text(republished["blocks"])
    # The request is no longer among mine; the one waiting for my answer stays.
    assert "You asked" not in text and "Waiting for you" in text and "Bluefin Bank" in text
    assert cancel_buttons(republished) == []
    with db.reading() as session:
        assert session.get(DevRelRequest, request_id).state == RequestState.cancelled


def test_a_managers_home_shows_the_team_and_never_asks_for_a_first_engagement(database_url: str, wire: SlackWire,
                                                                               slack: MockSlack) -> None:
    open_engagement("Northbeam Logistics", days_ago(10))
    open_engagement("Bluefin Bank", days_ago(1), owner="U0OTHER01", stage=Stage.demo)
    granite = open_engagement("Granite", days_ago(12))
    close(granite, Outcome.won, days_ago(0))

    open_home(wire, MANAGER)
    text = all_text(published(slack, MANAGER)["blocks"])
    assert "Start by opening your first engagement" not in text and "Your open engagements" not in text
    assert "this Home shows the team" in text
    assert "*Closed* 1: 1 won · 0 lost · 0 no decision · win rate 100%\n*MTTC* mean 12.0 days · median 12.0 days, from 1 close" in text
    assert "*Pipeline by stage* (2 open)\n• Preparation · *1* open\n• Discovery · *0* open\n• Demo · *1* open" in text
    assert ("*Stale engagements* (1 of 1, most overdue first)\n• *Northbeam Logistics* (Northbeam Logistics platform)"
            " · Preparation · 10 days idle (limit 7) · <@U0A1B2C3D>") in text
    assert "*DevRel coverage this week*\nNo requests yet. SEs ask with `/devrel ACCOUNT`." in text


def test_an_ses_home_shows_their_own_work_not_the_team(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    open_engagement("Northbeam Logistics", days_ago(10))
    open_engagement("Bluefin Bank", days_ago(1), owner="U0OTHER01")
    open_home(wire, SE)
    text = all_text(published(slack, SE)["blocks"])
    assert "Your open engagements* (1)" in text and "Bluefin Bank" not in text
    assert "Pipeline by stage" not in text and "Your team this week" not in text


def test_start_a_practice_engagement_sends_its_card_and_playbook_by_dm_and_delete_takes_it_away(
        database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    open_home(wire, STRANGER)
    start = button(published(slack, STRANGER)["blocks"], "home_start_practice")
    assert start["text"]["text"] == "Start a practice engagement"

    wire.block_action(start["action_id"], user_id=STRANGER, value=start["value"], view=HOME)

    dms = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == STRANGER, count=2)
    card, playbook = all_text(dms[0].params["blocks"]), all_text(dms[1].params["blocks"])
    assert "Practice: Acme Robotics" in card and "🎓 *A practice engagement.*" in card
    assert "Preparation playbook" in playbook and "🎓 practice" in playbook
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == [STRANGER, STRANGER]
    home = all_text(published(slack, STRANGER, count=2)["blocks"])
    assert "*Practice: Acme Robotics* (Fleet telemetry platform) · 🎓 practice" in home

    delete = button(dms[0].params["blocks"], "engagement_delete_practice")
    assert delete["confirm"]["title"]["text"] == "Delete this practice engagement?"
    wire.block_action(delete["action_id"], user_id=STRANGER, value=delete["value"], response_name="delete")

    gone = slack.wait_for("response_url", lambda c: c.params.get("_name") == "delete")[0]
    assert gone.params["replace_original"] is True
    assert all_text(gone.params["blocks"]).startswith("Deleted your practice engagement *Practice: Acme Robotics*")
    assert "Your open engagements* (0)" in all_text(published(slack, STRANGER, count=3)["blocks"])


def test_a_manager_invites_someone_new_to_practise_and_they_start_from_the_invitation(
        database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    open_home(wire, MANAGER)
    invite = button(published(slack, MANAGER)["blocks"], "home_invite_practice")
    assert invite["text"]["text"] == "Invite to practise"
    wire.block_action(invite["action_id"], user_id=MANAGER, value=invite["value"], view=HOME)
    form = slack.wait_for("views.open", lambda c: c.params["view"].get("callback_id") == "home_invite_modal")[0]

    picked = {"home_invite_who": {"home_invite_field": {"type": "multi_users_select", "selected_users": [STRANGER]}}}
    assert wire.view_submission(form.params["view"], picked, user_id=MANAGER).status == 200

    invitation = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == STRANGER)[0]
    assert message_text(invitation.params).startswith(f"<@{MANAGER}> invites you to learn the EPOS process on a "
                                                      "practice engagement")
    told = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == MANAGER)[0]
    assert told.params["text"] == f"epos invited <@{STRANGER}> to practise."

    start = button(invitation.params["blocks"], "home_start_practice")
    wire.block_action(start["action_id"], user_id=STRANGER, value=start["value"], channel_id="D0NEWHIRE")
    card = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == STRANGER, count=2)[1]
    assert "Practice: Acme Robotics" in all_text(card.params["blocks"])
    assert "🎓 *A practice engagement.*" in all_text(card.params["blocks"])


def test_only_managers_and_admins_invite_people_to_practise(database_url: str, wire: SlackWire,
                                                            slack: MockSlack) -> None:
    open_home(wire, SE)
    assert "home_invite_practice" not in str(published(slack, SE)["blocks"])
    form = {"id": "V0INVITE1", "type": "modal", "callback_id": "home_invite_modal", "hash": "h1"}
    picked = {"home_invite_who": {"home_invite_field": {"type": "multi_users_select", "selected_users": [STRANGER]}}}

    response = wire.view_submission(form, picked, user_id=SE)

    assert "managers and admins" in response.json["errors"]["home_invite_who"]
    assert [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == STRANGER] == []
