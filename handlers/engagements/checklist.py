"""The card's stage checklist: a tick or untick (one click on a checkbox), and the link form a deliverable
opens when it is ticked."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.blocks import engagements as blocks
from bot.blocks import stage_checklist
from bot.codecs import ChecklistBlock, DeliverableForm
from bot.errors import EposError
from bot.ids import EngagementIds
from bot.notify import engagements as tell
from bot.services import engagements
from bot.services.actors import Actor
from bot.services.engagements import checklists
from handlers import common
from handlers.common import answered_on_the_form

log = logging.getLogger(__name__)


def _redraw(client: WebClient, body: dict[str, Any], respond: Respond | None, who: Actor, engagement_id: int) -> None:
    """The card again, with its ticks as they are now, where it was clicked."""
    card = engagements.card(engagement_id, viewer=who)
    if (body.get("container") or {}).get("type") == "view" and body.get("view"):
        client.views_update(view_id=body["view"]["id"], view=blocks.card_modal(card))
    elif respond is not None and body.get("response_url"):
        respond(**tell.card_message(client, card), replace_original=True)


def tick(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient,
         context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    block = ChecklistBlock.decode(action.get("block_id"))
    selected = {str(option.get("value")) for option in action.get("selected_options") or []
                if isinstance(option, dict)}
    result = checklists.click(who, block, selected)
    if result.deliverables_ticked:
        # First, while the click's trigger_id still holds (3 seconds).
        line = next(line for line in result.checklist.lines if line.id == result.deliverables_ticked[0])
        common.open_view(client, body, stage_checklist.link_form(
            line, engagement_id=block.engagement_id, stage=block.stage, response_url=body.get("response_url")))
    _redraw(client, body, respond, who, block.engagement_id)


@answered_on_the_form
def link_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                   context: BoltContext) -> None:
    who = common.actor(context, body)
    meta = DeliverableForm.decode(view.get("private_metadata"))
    values = common.values_of(view)
    url = common.submitted(values, EngagementIds.link_block, EngagementIds.field) or ""
    try:
        checklists.set_link(who, meta.engagement_id, meta.stage, meta.item_id, url)
    except EposError as error:
        ack(response_action="errors", errors={EngagementIds.link_block: str(error)})
        return
    ack()
    beneath = view.get("previous_view_id")
    if not meta.response_url and not beneath:
        return
    card = engagements.card(meta.engagement_id, viewer=who)
    try:
        if meta.response_url:
            WebhookClient(meta.response_url).send(**tell.card_message(client, card), replace_original=True)
        else:
            # The card in a modal (from the App Home), under the link form that was pushed on it.
            client.views_update(view_id=beneath, view=blocks.card_modal(card))
    except Exception:
        log.warning("could not redraw the card after a deliverable's link; the link is saved", exc_info=True)


def register(app: App) -> None:
    app.action(common.suffixed(EngagementIds.tick))(tick)
    app.view(EngagementIds.link_modal)(link_submitted)
