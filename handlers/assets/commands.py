"""`/asset`: help, add, drafts, mine, or a search; answered in the ack when the answer is ready in time."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import assets as blocks
from bot.errors import InvalidInput
from bot.services import assets, engagements
from bot.services.actors import Actor
from handlers import common
from handlers.answers import answer_command
from models.schemas.assets import AssetFields


def open_form(context: BoltContext, client: WebClient, trigger_id: str, who: Actor, title: str = "") -> None:
    """The add form, with the title typed after `/asset add` filled in."""
    initial = None
    if title:
        initial = AssetFields.model_construct(title=title[:200], type=None, summary="", url="", topics=[],
                                              products=[], depth=None, scope=None, interactivity=None,
                                              cycle=None, owner_id=who.user_id)
    admins_configured = bool(common.settings_of(context).epos_admins)
    view = blocks.asset_form(mode="add", owner_id=who.user_id, initial=initial,
                             will_be_draft=admins_configured and not who.admin)
    client.views_open(trigger_id=trigger_id, view=view)


def asset_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    who = common.actor(context, command)
    try:
        text = common.command_text(command).strip()
    except InvalidInput as too_long:
        refusal = {"text": str(too_long)}
        answer_command(ack, respond, lambda: refusal)
        return
    word, _, rest = text.partition(" ")
    word, rest = word.lower(), rest.strip()
    if not text or (word == "help" and not rest):
        answer_command(ack, respond, blocks.help_message)
    elif word == "add":
        ack()
        open_form(context, client, command["trigger_id"], who, rest)
    elif word == "drafts" and not rest:
        answer_command(ack, respond, lambda: blocks.list_message(assets.drafts(who)))
    elif word == "mine" and not rest:
        answer_command(ack, respond, lambda: blocks.list_message(assets.owned_by(who)))
    else:
        channel_id = command.get("channel_id")
        answer_command(ack, respond, lambda: blocks.results_message(
            assets.search(text, actor=who, prefer_topics=engagements.need_topics_in(channel_id))))


def register(app: App) -> None:
    app.command("/asset")(asset_command)
