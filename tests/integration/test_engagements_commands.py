"""`/engagement` over signed HTTP: open, advance, close an engagement entirely from Slack."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import func, select

from bot import clock, db
from bot.services import engagements
from models import Engagement, EsatSurvey, StageChange
from models.enums import Outcome, Stage
from tests.conftest import MANAGER, SE, SELLER, STRANGER
from tests.engagements_helpers import (
    button,
    buttons_in,
    close_form_values,
    new_form_values,
    open_engagement,
    stage_form_values,
)
from tests.support.slack import Call, MockSlack
from tests.support.text import all_text
from tests.support.wire import SlackWire

DEAL_CHANNEL = "C0NBDEAL1"


def reply(slack: MockSlack, name: str = "default", count: int = 1) -> Call:
    return slack.wait_for("response_url", lambda c: c.params.get("_name") == name, count=count)[count - 1]


def posts_to(slack: MockSlack, channel: str, count: int = 1) -> list[Call]:
    return slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == channel, count=count)


def valid_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parse the blocks back with slack_sdk (which checks Slack's limits) and return them."""
    for block in Block.parse_all(blocks):
        block.validate_json()
    assert len(blocks) <= 50
    return blocks


def stages_logged(engagement_id: int) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(StageChange.to_stage).where(StageChange.engagement_id == engagement_id)
                                    .order_by(StageChange.id)))


def current_stage(engagement_id: int) -> str:
    with db.reading() as session:
        return str(session.scalar(select(Engagement.stage).where(Engagement.id == engagement_id)))


def opened_view(slack: MockSlack, callback_id: str) -> dict[str, Any]:
    slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == callback_id)
    return next(v for v in reversed(list(slack.views.values())) if v["callback_id"] == callback_id)


@pytest.fixture
def northbeam(database_url: str) -> int:
    now = clock.now()
    return open_engagement("Northbeam Logistics", (now - timedelta(days=3)).strftime("%Y-%m-%d %H:%M"),
                           channel_id=DEAL_CHANNEL)


# ----- help ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "help"])
def test_help_lists_the_grammar_and_the_stages_in_order(wire: SlackWire, slack: MockSlack, text: str) -> None:
    assert wire.command("/engagement", text, user_id=SE).status == 200
    answer = reply(slack)
    assert answer.params["response_type"] == "ephemeral"
    text_shown = all_text(valid_blocks(answer.params["blocks"]))
    assert "/engagement ACCOUNT STAGE [note]" in text_shown
    order = [text_shown.index(label) for label in ("Preparation", "Discovery", "Demo", "POC", "Technical Q&A", "Sizing")]
    assert order == sorted(order)


# ----- opening -------------------------------------------------------------------------------------------------
def test_new_opens_a_form_and_its_submission_opens_the_engagement_and_posts_the_playbook(
    wire: SlackWire, slack: MockSlack
) -> None:
    assert wire.command("/engagement", "new", user_id=SE).status == 200
    view = opened_view(slack, "engagement_new")
    opened = next(b for b in view["blocks"] if b.get("block_id") == "engagement_opened")
    assert opened["element"]["initial_date"] == clock.now().astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()

    response = wire.view_submission(view, new_form_values(stage="discovery"), user_id=SE)

    assert response.status == 200 and not response.body
    with db.reading() as session:
        row = session.scalars(select(Engagement)).one()
        assert (row.account, row.owner_id, row.seller_id, row.stage, row.channel_id) == (
            "Northbeam Logistics", SE, SELLER, "discovery", DEAL_CHANNEL)
    confirmation = posts_to(slack, SE)[0]
    assert "Opened" in confirmation.params["text"]
    playbook = posts_to(slack, DEAL_CHANNEL)[0]
    shown = all_text(valid_blocks(playbook.params["blocks"]))
    assert "Discovery playbook" in shown and "Calls to action" in shown and "Deliverables" in shown
    # The stage's tools, from the shipped playbooks, linked.
    assert "Tools for Discovery" in shown and "<https://docs.example.com/templates/discovery-summary|" in shown
    slack.wait_for("views.publish", lambda c: c.params.get("user_id") == SE)


def test_form_errors_name_their_field_and_write_nothing(wire: SlackWire, slack: MockSlack) -> None:
    assert wire.command("/engagement", "new", user_id=SE).status == 200
    view = opened_view(slack, "engagement_new")
    future = (clock.now() + timedelta(days=3)).date().isoformat()

    too_late = wire.view_submission(view, new_form_values(opened=future), user_id=SE)
    no_focus = wire.view_submission(view, new_form_values(focus="other", focus_other=""), user_id=SE)

    assert too_late.json["response_action"] == "errors"
    assert list(too_late.json["errors"]) == ["engagement_opened"]
    assert list(no_focus.json["errors"]) == ["engagement_focus_other"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Engagement)) == 0


def test_a_duplicate_open_engagement_is_an_error_on_the_opportunity(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    assert wire.command("/engagement", "new", user_id=SELLER).status == 200
    view = opened_view(slack, "engagement_new")
    response = wire.view_submission(view, new_form_values(opportunity="Northbeam Logistics platform"), user_id=SELLER)
    assert "already open" in response.json["errors"]["engagement_opportunity"]


# ----- stage changes from the command ------------------------------------------------------------------------------
def test_account_and_stage_apply_at_once_with_undo_and_the_playbook_post(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    assert wire.command("/engagement", "northbeam poc kickoff booked", user_id=SE).status == 200

    answer = reply(slack)
    assert stages_logged(northbeam) == ["preparation", "poc"]
    assert "POC" in answer.params["text"] and "kickoff booked" in all_text(answer.params["blocks"])
    playbook = posts_to(slack, DEAL_CHANNEL)[0]
    assert "Proof of concept playbook" in all_text(valid_blocks(playbook.params["blocks"]))

    undo = button(answer.params["blocks"], "engagement_undo")
    assert wire.block_action(undo["action_id"], user_id=SE, value=undo["value"], response_name="undo").status == 200
    undone = reply(slack, "undo")
    assert undone.params.get("replace_original") is True
    assert current_stage(northbeam) == "preparation"
    assert stages_logged(northbeam) == ["preparation", "poc", "preparation"]  # appended, never deleted


def test_moving_to_the_current_stage_says_so_and_changes_nothing(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.command("/engagement", "northbeam prep", user_id=SE)
    assert "already in Preparation" in reply(slack).params["text"]
    assert stages_logged(northbeam) == ["preparation"]


def test_two_engagements_of_one_account_offer_a_picker_and_never_guess(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    first = open_engagement("Acme", "2026-11-01", opportunity="Acme logging")
    second = open_engagement("Acme", "2026-11-01", opportunity="Acme SIEM")

    wire.command("/engagement", "acme demo", user_id=SE)

    picker = reply(slack)
    assert stages_logged(first) == stages_logged(second) == ["preparation"]
    choices = buttons_in(valid_blocks(picker.params["blocks"]))
    assert len(choices) == 2 and len({c["action_id"] for c in choices}) == 2
    siem = next(c for c in choices if "SIEM" in c["text"]["text"])
    wire.block_action(siem["action_id"], user_id=SE, value=siem["value"], response_name="pick")
    reply(slack, "pick")
    assert (current_stage(first), current_stage(second)) == ("preparation", "demo")


def test_a_misspelt_stage_asks_did_you_mean(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.command("/engagement", "northbeam discvery", user_id=SE)
    answer = reply(slack)
    assert "Did you mean *Discovery*?" in all_text(answer.params["blocks"])
    assert stages_logged(northbeam) == ["preparation"]
    yes = button(answer.params["blocks"], "engagement_confirm_change")
    wire.block_action(yes["action_id"], user_id=SE, value=yes["value"], response_name="yes")
    reply(slack, "yes")
    assert current_stage(northbeam) == "discovery"


def test_an_unknown_account_says_so_with_suggestions_and_the_new_hint(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.command("/engagement", "globex demo", user_id=SE)
    text = all_text(reply(slack).params["blocks"])
    assert "epos found no engagement named *globex*." in text and "/engagement new" in text


def test_a_playbook_that_cannot_reach_the_deal_channel_goes_to_the_owner_with_the_reason(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    slack.fail("chat.postMessage", error="not_in_channel")
    wire.command("/engagement", "northbeam disco", user_id=SELLER)

    reply(slack)
    dm = posts_to(slack, SE)[0]
    assert current_stage(northbeam) == "discovery"
    text = all_text(dm.params["blocks"])
    assert "not_in_channel" in text and "/invite @epos" in text and "Discovery playbook" in text


# ----- the card and its buttons -----------------------------------------------------------------------------------------
def test_the_card_shows_stage_days_and_timeline_and_its_stage_form_logs_a_backdated_change(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    wire.command("/engagement", "Northbeam Logistics", user_id=SE, response_name="card")
    card = reply(slack, "card")
    shown = all_text(valid_blocks(card.params["blocks"]))
    assert "Preparation* for 3 days" in shown and "Timeline" in shown

    change = button(card.params["blocks"], "engagement_change_stage")
    wire.block_action(change["action_id"], user_id=SE, value=change["value"], response_name="from-card")
    view = opened_view(slack, "engagement_stage")
    yesterday = (clock.now().astimezone(ZoneInfo("Europe/Berlin")) - timedelta(days=1)).date()
    response = wire.view_submission(view, stage_form_values("demo", yesterday.isoformat(), "demo to the CTO"), user_id=SE)

    assert response.status == 200 and not response.body
    result = reply(slack, "from-card")
    assert "logged now" in result.params["text"]
    with db.reading() as session:
        change_row = session.scalars(select(StageChange).order_by(StageChange.id.desc())).first()
        assert change_row is not None
        assert (change_row.to_stage, change_row.note) == ("demo", "demo to the CTO")
        assert change_row.effective_at.astimezone(ZoneInfo("Europe/Berlin")).date() == yesterday
        assert change_row.logged_at - change_row.effective_at > timedelta(hours=1)


def test_the_stage_form_refuses_a_future_date_on_the_date_field(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.block_action("engagement_change_stage", user_id=SE, value=str(northbeam))
    view = opened_view(slack, "engagement_stage")
    future = (clock.now() + timedelta(days=2)).date().isoformat()
    response = wire.view_submission(view, stage_form_values("demo", future), user_id=SE)
    assert list(response.json["errors"]) == ["engagement_effective_date"]
    assert stages_logged(northbeam) == ["preparation"]


# ----- authorization: a member outside presales neither reads nor changes ---------------------------------------
def test_a_stranger_cannot_change_an_engagement_by_command(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    # Outside the presales team, the command is refused before any account is matched (and so named).
    wire.command("/engagement", "northbeam poc", user_id=STRANGER)
    refusal = reply(slack)
    assert refusal.params["response_type"] == "ephemeral"
    assert refusal.params["text"].startswith("Engagements are for the presales team")
    assert "Northbeam" not in refusal.params["text"]
    wire.command("/engagement", "close northbeam won", user_id=STRANGER, response_name="close")
    assert reply(slack, "close").params["text"].startswith("Engagements are for the presales team")
    assert stages_logged(northbeam) == ["preparation"]


def test_a_stranger_cannot_change_an_engagement_by_buttons_or_forms(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    for action_id, name in (("engagement_change_stage", "b1"), ("engagement_close_open", "b2"), ("engagement_add_note", "b3")):
        wire.block_action(action_id, user_id=STRANGER, value=str(northbeam), response_name=name)
        assert "Only the owner" in reply(slack, name).params["text"]
    confirm = json.dumps({"e": northbeam, "s": "poc", "n": ""})
    wire.block_action("engagement_confirm_change:0", user_id=STRANGER, value=confirm, response_name="b4")
    assert "Only the owner" in reply(slack, "b4").params["text"]
    assert slack.calls_to("views.open") == []
    # A form opened by the owner and submitted by someone else is refused on the form.
    wire.block_action("engagement_change_stage", user_id=SE, value=str(northbeam))
    view = opened_view(slack, "engagement_stage")
    response = wire.view_submission(view, stage_form_values("poc", None), user_id=STRANGER)
    assert "Only the owner" in response.json["errors"]["engagement_target_stage"]
    assert stages_logged(northbeam) == ["preparation"]


def test_the_seller_and_a_manager_may_change(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.command("/engagement", "northbeam disco", user_id=SELLER, response_name="seller")
    reply(slack, "seller")
    wire.command("/engagement", "northbeam demo", user_id=MANAGER, response_name="manager")
    reply(slack, "manager")
    assert stages_logged(northbeam) == ["preparation", "discovery", "demo"]


# ----- closing and ESAT ----------------------------------------------------------------------------------------------------------
def test_close_records_the_outcome_announces_it_and_asks_the_owner_for_esat(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    wire.command("/engagement", "close northbeam no decision budget frozen", user_id=SELLER)

    answer = reply(slack)
    assert "no decision" in answer.params["text"]
    assert f"epos has sent <@{SE}> a one-click ESAT question about it." in all_text(answer.params["blocks"])
    with db.reading() as session:
        row = session.get(Engagement, northbeam)
        assert row is not None and (row.stage, row.outcome) == ("closed", "no_decision")
        assert session.scalar(select(func.count()).select_from(EsatSurvey)) == 1
    posts_to(slack, DEAL_CHANNEL)
    question = posts_to(slack, SE)[0]
    scores = [b for b in buttons_in(valid_blocks(question.params["blocks"])) if b["action_id"].startswith("engagement_esat_score")]
    assert [s["text"]["text"] for s in scores] == ["1", "2", "3", "4", "5"]

    four = scores[3]
    wire.block_action(four["action_id"], user_id=SE, value=four["value"], channel_id="D0SE", response_name="esat")
    thanks = reply(slack, "esat")
    assert "4/5" in all_text(thanks.params["blocks"])
    with db.reading() as session:
        assert session.scalar(select(EsatSurvey.score)) == 4

    wire.command("/engagement", "close northbeam won", user_id=SE, response_name="again")
    assert "already closed" in reply(slack, "again").params["text"]


def test_the_owner_who_closes_is_told_the_esat_question_is_for_them(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    wire.command("/engagement", "close northbeam won", user_id=SE)
    told = all_text(reply(slack).params["blocks"])
    assert "epos has sent you a one-click ESAT question about it." in told and f"<@{SE}>" not in told


def test_the_close_form_and_reopen(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.block_action("engagement_close_open", user_id=SE, value=str(northbeam), response_name="card")
    view = opened_view(slack, "engagement_close")
    response = wire.view_submission(view, close_form_values("won", None, "signed"), user_id=SE)
    assert response.status == 200 and not response.body
    result = reply(slack, "card")
    assert current_stage(northbeam) == "closed"

    reopen = button(result.params["blocks"], "engagement_undo")
    assert reopen["text"]["text"] == "Reopen"
    wire.block_action(reopen["action_id"], user_id=SE, value=reopen["value"], response_name="reopen")
    reply(slack, "reopen")
    assert current_stage(northbeam) == "preparation"


def test_closing_without_an_outcome_offers_the_three_outcomes(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.command("/engagement", "close northbeam", user_id=SE)
    choices = buttons_in(reply(slack).params["blocks"])
    assert [c["text"]["text"] for c in choices] == ["Close as won", "Close as lost", "Close as no decision"]
    assert current_stage(northbeam) == "preparation"


def test_esat_reminder_is_sent_once_after_two_days(northbeam: int, settings, slack: MockSlack) -> None:  # type: ignore[no-untyped-def]
    from bot.app import make_client
    from bot.jobs.esat import send_due_esat_reminders
    from tests.engagements_helpers import SE_ACTOR

    engagements.close(SE_ACTOR, northbeam, Outcome.won)
    client = make_client(settings)
    now = clock.now()
    assert send_due_esat_reminders(client, settings, now + timedelta(days=1)) == 0
    slack.fail("chat.postMessage", error="channel_not_found")
    assert send_due_esat_reminders(client, settings, now + timedelta(days=2, minutes=1)) == 0  # refused: retried
    assert send_due_esat_reminders(client, settings, now + timedelta(days=2, minutes=2)) == 1
    assert send_due_esat_reminders(client, settings, now + timedelta(days=5)) == 0
    reminders = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == SE and "_fault" not in c.params]
    assert len(reminders) == 1 and "Reminder" in all_text(reminders[0].params["blocks"])


# ----- list and stats ---------------------------------------------------------------------------------------------------------------
def test_list_shows_mine_and_list_all_is_for_managers(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    open_engagement("Bluefin Bank", "2026-11-01", owner="U0OTHER01", seller="U0OTHER02")
    wire.command("/engagement", "list", user_id=SE, response_name="mine")
    mine = all_text(valid_blocks(reply(slack, "mine").params["blocks"]))
    assert "Northbeam" in mine and "Bluefin" not in mine
    wire.command("/engagement", "list all", user_id=MANAGER, response_name="all")
    assert "Bluefin" in all_text(reply(slack, "all").params["blocks"])
    wire.command("/engagement", "list all", user_id=SE, response_name="refused")
    assert "for presales managers" in reply(slack, "refused").params["text"]


def test_stats_show_my_figures_or_the_teams_for_managers(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    from tests.engagements_helpers import SE_ACTOR

    engagements.close(SE_ACTOR, northbeam, Outcome.won)
    wire.command("/engagement", "stats --weeks 4", user_id=SE, response_name="mine")
    mine = reply(slack, "mine")
    text = all_text(valid_blocks(mine.params["blocks"]))
    assert "Your figures" in text and "last 4 weeks" in text and "1 won" in text and "MTTC" in text
    wire.command("/engagement", "stats", user_id=MANAGER, response_name="team")
    assert "Team figures" in all_text(reply(slack, "team").params["blocks"])
    wire.command("/engagement", "stats --weeks lots", user_id=SE, response_name="bad")
    assert "--weeks N" in reply(slack, "bad").params["text"]


def test_a_note_from_the_form_is_logged(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    wire.block_action("engagement_add_note", user_id=SELLER, value=str(northbeam), response_name="n")
    view = opened_view(slack, "engagement_note")
    empty = wire.view_submission(view, {"engagement_note_text": {"engagement_field": {"type": "plain_text_input", "value": None}}}, user_id=SELLER)
    assert list(empty.json["errors"]) == ["engagement_note_text"]
    wire.view_submission(view, {"engagement_note_text": {"engagement_field": {"type": "plain_text_input", "value": "CFO joins next call"}}}, user_id=SELLER)
    assert "Note added" in reply(slack, "n").params["text"]
    card = engagements.card(northbeam)
    assert card.timeline[0].note == "CFO joins next call"
    assert Stage(card.engagement.stage) is Stage.preparation


@pytest.mark.parametrize(("command", "text", "answer"), [
    ("/engagement", "payload", "epos found no engagement named *payload*."),
    ("/asset", "payload injection", "No assets match *payload injection*."),
])
def test_a_command_whose_text_holds_the_word_payload_is_answered(command: str, text: str, answer: str, northbeam: int,
                                                                 wire: SlackWire, slack: MockSlack) -> None:
    # Bolt reads a form body holding "payload" anywhere as an interactive payload and finds none.
    response = wire.command(command, text, user_id=SE)
    assert response.status == 200
    shown = response.message or reply(slack).params
    assert answer in all_text(shown.get("blocks") or []) + str(shown.get("text"))
