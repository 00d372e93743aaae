"""Buttons that carry an engagement (card, nudge DM, App Home, playbook post), the pickers' choices,
Undo, list paging and the ESAT question."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import engagements as blocks
from bot.codecs import (
    ChangeButton,
    CloseChoice,
    EngagementButton,
    EngagementForm,
    ListPage,
    StageChoice,
    SurveyButton,
    SurveyForm,
    number,
)
from bot.errors import InvalidInput
from bot.ids import EngagementIds
from bot.notify import engagements as tell
from bot.services import engagements, esat
from bot.services.engagements import checklists
from bot.services.actors import Actor
from handlers import common
from models.schemas.engagements import EngagementSummary, StageChangeResult
from handlers.engagements.replies import changed, closed_answer, open_new_form, reply_for, today_in, zone_of

NOT_THE_OWNER = "Only <@{owner}>, who owned this engagement, rates it."


def form_metadata(body: dict[str, Any], engagement_id: int, timezone: str) -> str:
    return EngagementForm(engagement_id=engagement_id, timezone=timezone, response_url=body.get("response_url") or None).encode()


def _still_open(body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
                context: BoltContext) -> tuple[EngagementSummary, ZoneInfo] | None:
    """The open engagement a Change stage or Close button names, and the zone of whoever clicked; None
    once a closed one has been answered with its Reopen."""
    engagement: EngagementSummary | None = None
    who = common.actor(context, body)
    with closed_answer(reply_for(body, respond, client)):
        engagement = engagements.for_change(who, EngagementButton.decode(action.get("value")).id)
    if engagement is None:
        return None
    return engagement, zone_of(context, client, who.user_id)


def open_stage_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
                    context: BoltContext) -> None:
    ack()
    if (found := _still_open(body, action, respond, client, context)) is None:
        return
    engagement, zone = found
    left_open = checklists.open_deliverables_now(engagement.id)
    common.open_view(client, body, blocks.stage_form(engagement, today=today_in(zone), open_deliverables=left_open,
                                                     metadata=form_metadata(body, engagement.id, zone.key)))


def open_close_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
                    context: BoltContext) -> None:
    ack()
    if (found := _still_open(body, action, respond, client, context)) is None:
        return
    engagement, zone = found
    common.open_view(client, body, blocks.close_form(engagement, today=today_in(zone),
                                                     metadata=form_metadata(body, engagement.id, zone.key)))


def _open_any_form(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext,
                   form: Callable[..., dict[str, Any]]) -> None:
    """Open a form that a closed engagement takes too (a note, the deal channel)."""
    who = common.actor(context, body)
    engagement = engagements.for_change(who, EngagementButton.decode(action.get("value")).id, closed_ok=True)
    zone = common.settings_of(context).timezone
    common.open_view(client, body, form(engagement, metadata=form_metadata(body, engagement.id, zone.key)))


def open_note_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                   context: BoltContext) -> None:
    ack()
    _open_any_form(body, action, client, context, blocks.note_form)


def open_channel_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                      context: BoltContext) -> None:
    ack()
    _open_any_form(body, action, client, context, blocks.channel_form)


def reopen(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
           context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    result = engagements.reopen(who, EngagementButton.decode(action.get("value")).id)
    changed(context, client, result, who, reply_for(body, respond, client))


def show_card(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
              context: BoltContext) -> None:
    ack()
    card = engagements.card(EngagementButton.decode(action.get("value")).id, viewer=common.actor(context, body))
    if (body.get("container") or {}).get("type") == "view":
        # No Slack call before views.open: its trigger_id lasts 3 seconds.
        common.open_view(client, body, blocks.card_modal(card))
    else:
        respond(**tell.card_message(client, card), response_type="ephemeral", replace_original=False)


def open_new(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    open_new_form(context, client, body, common.user_id(body))


def _carry_out(body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
              change: Callable[[Actor], StageChangeResult]) -> None:
    """A did-you-mean or picker choice carried out, answered in place of the question that offered it."""
    who = common.actor(context, body)
    reply = reply_for(body, respond, client, replace=True)
    with closed_answer(reply):
        changed(context, client, change(who), who, reply)


def confirm_change(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
                   context: BoltContext) -> None:
    ack()
    choice = StageChoice.decode(action.get("value"))
    _carry_out(body, respond, client, context, lambda who: engagements.change_stage(
        who, choice.engagement_id, choice.stage, note=choice.note, tz=common.settings_of(context).timezone))


def confirm_close(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
                  context: BoltContext) -> None:
    ack()
    choice = CloseChoice.decode(action.get("value"))
    _carry_out(body, respond, client, context,
               lambda who: engagements.close(who, choice.engagement_id, choice.outcome, note=choice.note))


def undo(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
         context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    result = engagements.undo(who, ChangeButton.decode(action.get("value")).id)
    changed(context, client, result, who, reply_for(body, respond, client, replace=True))


def delete_practice(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
                    context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    gone = engagements.delete_practice(who, EngagementButton.decode(action.get("value")).id)
    reply_for(body, respond, client, replace=True)(blocks.practice_deleted_message(gone))
    tell.refresh_homes(client, common.settings_of(context), gone, who)


def list_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    page = ListPage.decode(action.get("value"))
    listing = engagements.list_engagements(common.actor(context, body), scope=page.scope, page=page.page)
    respond(**blocks.list_message(listing), response_type="ephemeral", replace_original=True)


def esat_score(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    ack()
    score = number(str(action.get("action_id", "")).rpartition(":")[2])
    if score is None:
        raise InvalidInput(SurveyButton.STALE)
    prompt = esat.answer(common.user_id(body), SurveyButton.decode(action.get("value")).id, score)
    respond(**blocks.esat_message(prompt, answered=True), replace_original=True)


def esat_comment(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
    ack()
    prompt = esat.prompt(SurveyButton.decode(action.get("value")).id)
    if prompt.owner_id != common.user_id(body):
        raise InvalidInput(NOT_THE_OWNER.format(owner=prompt.owner_id))
    metadata = SurveyForm(survey_id=prompt.survey_id, response_url=body.get("response_url") or None).encode()
    common.open_view(client, body, blocks.esat_form(prompt, metadata=metadata))


ACTIONS = {
    EngagementIds.change_stage: open_stage_form,
    EngagementIds.close: open_close_form,
    EngagementIds.add_note: open_note_form,
    EngagementIds.set_channel: open_channel_form,
    EngagementIds.reopen: reopen,
    EngagementIds.delete_practice: delete_practice,
    EngagementIds.show_card: show_card,
    EngagementIds.new: open_new,
    EngagementIds.confirm_change: confirm_change,
    EngagementIds.confirm_close: confirm_close,
    EngagementIds.undo: undo,
    EngagementIds.list_page: list_page,
    EngagementIds.esat_score: esat_score,
    EngagementIds.esat_comment: esat_comment,
}


def register(app: App) -> None:
    # Every one also with a `:suffix`, so one message may hold several of a kind.
    common.listen(app, actions={common.suffixed(action_id): listener for action_id, listener in ACTIONS.items()})
