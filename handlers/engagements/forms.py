"""The engagement forms as submitted: new, change stage, close, note, deal channel, and the ESAT comment.

A form a service refuses is answered on the form, on the field at fault, and nothing is written."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import engagements as blocks
from bot.codecs import EngagementForm, SurveyForm, number
from bot.errors import EposError, InvalidInput
from bot.ids import EngagementIds
from bot.notify import engagements as tell
from bot.notify import zones
from bot.services import challenges, engagements, esat
from handlers import common
from handlers.common import answered_on_the_form
from handlers.engagements.replies import answer_note, changed, today_in, webhook_reply
from models.enums import OPEN_STAGES, Outcome, Stage
from models.schemas.engagements import NewEngagementIn, StageChangeResult

log = logging.getLogger(__name__)

PICK_STAGE = "Pick the stage to move to."
PICK_OUTCOME = "Pick the outcome: won, lost or no decision."


def value(values: dict[str, Any], block_id: str) -> Any:
    return common.submitted(values, block_id, EngagementIds.field)


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _map_choice(values: dict[str, Any], focus: str) -> tuple[str | None, list[str]]:
    """The challenge picked from the map for this focus, and the needs ticked for it. When the form was
    sent before Slack showed the needs of a new challenge, the challenge brings all its needs."""
    challenge_id = value(values, f"{EngagementIds.challenge_pick_block}:{focus}") or None
    if not challenge_id:
        return None, []
    needs_block = f"{EngagementIds.needs_pick_block}:{challenge_id}"
    if needs_block in values:
        return challenge_id, list(value(values, needs_block) or [])
    return challenge_id, [need.id for need in challenges.current().needs_of(challenge_id)]


def read_new_form(values: dict[str, Any]) -> NewEngagementIn:
    """The new-engagement form as the service's input. Focus: the picked area, or for Other the text."""
    focus = value(values, EngagementIds.focus_block) or ""
    challenge_id, need_ids = _map_choice(values, focus) if focus != "other" else (None, [])
    other = (value(values, EngagementIds.focus_other_block) or "").strip()
    if focus == "other" or not focus:
        if not other:
            raise InvalidInput("Describe the focus when you pick Other, e.g. vector search.", field="focus")
        focus = other
    stage_value = value(values, EngagementIds.start_stage_block) or Stage.preparation.value
    if stage_value not in {stage.value for stage in OPEN_STAGES}:
        raise InvalidInput("Pick the stage it starts in.", field="stage")
    opened_text = value(values, EngagementIds.opened_block)
    opened_on = parse_day(opened_text)
    if opened_text and opened_on is None:
        raise InvalidInput("Pick the opening date from the calendar.", field="opened_on")
    return NewEngagementIn(
        account=value(values, EngagementIds.account_block) or "",
        opportunity=value(values, EngagementIds.opportunity_block) or "",
        seller_id=value(values, EngagementIds.seller_block) or "",
        focus=focus,
        business_challenge=value(values, EngagementIds.challenge_block) or "",
        technical_needs=value(values, EngagementIds.needs_block) or "",
        challenge_id=challenge_id,
        need_ids=need_ids,
        channel_id=value(values, EngagementIds.channel_block) or None,
        stage=Stage(stage_value),
        opened_on=opened_on,
    )


def refuse(ack: Ack, error: EposError, default_block: str, field_blocks: dict[str, str] | None = None) -> None:
    field = error.field if isinstance(error, InvalidInput) else None
    ack(response_action="errors",
        errors=blocks.form_errors(field, str(error), default_block=default_block, blocks=field_blocks))


def _form(context: BoltContext, view: dict[str, Any]) -> tuple[EngagementForm, dict[str, Any], Any]:
    """The form's metadata, its values, and the timezone its days were shown in."""
    meta = EngagementForm.decode(view.get("private_metadata"))
    values = common.values_of(view)
    return meta, values, zones.named(meta.timezone, common.settings_of(context).timezone)


@answered_on_the_form
def new_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                  context: BoltContext) -> None:
    who = common.actor(context, body)
    _, values, zone = _form(context, view)
    picked_focus = value(values, EngagementIds.focus_block) or ""
    try:
        result = engagements.create(who, read_new_form(values), tz=zone)
    except EposError as error:
        refuse(ack, error, EngagementIds.account_block,
               {"challenge_id": f"{EngagementIds.challenge_pick_block}:{picked_focus}"})
        return
    ack()
    changed(context, client, result, who, webhook_reply(None, client, who.user_id))


def _dated_change(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext, *,
                  block: str, kind: type[Stage] | type[Outcome], problem: str, field: str,
                  change: Callable[..., StageChangeResult]) -> None:
    """A stage or close form: the choice picked on `block` (one of `kind`, else `problem` on `field`), the
    note and the day it took effect, handed to `change`."""
    who = common.actor(context, body)
    meta, values, zone = _form(context, view)
    try:
        engagement_id = meta.engagement()
        picked = value(values, block)
        if picked not in {choice.value for choice in kind}:
            raise InvalidInput(problem, field=field)
        result = change(
            who, engagement_id, kind(picked), note=value(values, EngagementIds.note_block) or "",
            effective_on=parse_day(value(values, EngagementIds.effective_date_block)), tz=zone)
    except EposError as error:
        refuse(ack, error, block, {field: block})
        return
    ack()
    changed(context, client, result, who, webhook_reply(meta.response_url, client, who.user_id))


@answered_on_the_form
def stage_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                    context: BoltContext) -> None:
    _dated_change(ack, body, view, client, context, block=EngagementIds.target_stage_block, kind=Stage,
                  problem=PICK_STAGE, field="stage", change=engagements.change_stage)


@answered_on_the_form
def close_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                    context: BoltContext) -> None:
    _dated_change(ack, body, view, client, context, block=EngagementIds.outcome_block, kind=Outcome,
                  problem=PICK_OUTCOME, field="outcome", change=engagements.close)


@answered_on_the_form
def note_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                   context: BoltContext) -> None:
    who = common.actor(context, body)
    meta, values, _ = _form(context, view)
    try:
        result = engagements.add_note(who, meta.engagement(), value(values, EngagementIds.note_block) or "")
    except EposError as error:
        refuse(ack, error, EngagementIds.note_block)
        return
    ack()
    answer_note(meta.response_url, client, context, who, result)


def channel_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                      context: BoltContext) -> None:
    who = common.actor(context, body)
    meta, values, _ = _form(context, view)
    try:
        engagement, is_new = engagements.set_channel(
            who, meta.engagement(), value(values, EngagementIds.channel_block) or None)
    except EposError as error:
        refuse(ack, error, EngagementIds.channel_block)
        return
    ack()
    answer = blocks.channel_result_message(engagement, changed=is_new,
                                           shared=tell.deal_sharing(client, engagement.channel_id))
    webhook_reply(meta.response_url, client, who.user_id)(answer)


@answered_on_the_form
def esat_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
    user_id = common.user_id(body)
    values = common.values_of(view)
    score = value(values, EngagementIds.outcome_block)
    try:
        meta = SurveyForm.decode(view.get("private_metadata"))
        prompt = esat.answer(user_id, meta.survey_id, number(str(score)) if score else None,
                             comment=value(values, EngagementIds.comment_block) or "")
    except EposError as error:
        refuse(ack, error, EngagementIds.outcome_block)
        return
    ack()
    webhook_reply(meta.response_url, client, user_id, replace=True)(blocks.esat_message(prompt, answered=True))


def new_form_changed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """A focus or challenge picked on the new-engagement form: show that focus's challenges, or that
    challenge's needs. What was typed elsewhere stays, as its blocks keep their ids."""
    ack()
    view = body.get("view") or {}
    if view.get("callback_id") != EngagementIds.new_modal or not view.get("id"):
        return
    values = common.values_of(view)
    focus = value(values, EngagementIds.focus_block) or None
    challenge_id = value(values, f"{EngagementIds.challenge_pick_block}:{focus}") if focus else None
    try:
        meta = EngagementForm.decode(view.get("private_metadata"))
        today = today_in(zones.named(meta.timezone, ZoneInfo("UTC")))
        # Slack keeps what was typed in a block that keeps its id; the account is given again all the same,
        # as it may only have been prefilled from `/engagement new ACCOUNT`.
        updated = blocks.new_form(today=today, metadata=view.get("private_metadata") or "", chart=challenges.current(),
                                  focus=focus, challenge_id=challenge_id,
                                  account=value(values, EngagementIds.account_block) or "")
        # The hash makes Slack refuse this update if a later pick already replaced the view.
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
    except EposError:
        log.info("the new-engagement form was not updated: its metadata is out of date")
    except SlackApiError as error:
        log.info("the new-engagement form was not updated: %s", error.response.get("error"))


# Inputs that tell the App as soon as they change (dispatch_action): the focus and the challenge.
ACTIONS = {
    EngagementIds.field: new_form_changed,
}

VIEWS = {
    EngagementIds.new_modal: new_submitted,
    EngagementIds.stage_modal: stage_submitted,
    EngagementIds.close_modal: close_submitted,
    EngagementIds.note_modal: note_submitted,
    EngagementIds.channel_modal: channel_submitted,
    EngagementIds.esat_comment_modal: esat_submitted,
}


def register(app: App) -> None:
    common.listen(app, views=VIEWS, actions=ACTIONS)
