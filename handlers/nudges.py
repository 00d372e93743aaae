"""Listeners for the nudges surface: Snooze 7 days and its Undo, on the stale-engagement DM.

Update stage, Add note and Close on the same DM are the engagement card's buttons, handled in
`handlers/engagements/buttons.py`.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import nudges as blocks
from bot.codecs import NudgeButton
from bot.ids import NudgeIds
from bot.notify.zones import Zones
from bot.services import nudges
from handlers import common


def _redraw(client: WebClient, body: dict[str, Any], engagement_id: int, new_blocks: list[Any], text: str,
            respond: Respond) -> None:
    """Redraw the engagement's line in the DM; where there is no such line, confirm privately instead."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    redrawn = blocks.replace_line(message.get("blocks") or [], engagement_id, new_blocks)
    if redrawn is not None and channel and message.get("ts"):
        client.chat_update(channel=channel, ts=message["ts"], blocks=redrawn, text=message.get("text") or text)
    else:
        respond(text=text, response_type="ephemeral", replace_original=False)


def snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
           context: BoltContext) -> None:
    ack()
    actor = common.actor(context, body)
    engagement_id = NudgeButton.decode(action.get("value", "")).id
    result = nudges.snooze(actor, engagement_id)
    tz = Zones(client, common.settings_of(context).timezone).of(actor.user_id)
    _redraw(client, body, engagement_id, blocks.snoozed_blocks(result, tz), blocks.snoozed_reply(result, tz), respond)


def undo_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
                context: BoltContext) -> None:
    ack()
    actor = common.actor(context, body)
    engagement_id = NudgeButton.decode(action.get("value", "")).id
    result = nudges.undo_snooze(actor, engagement_id)
    tz = Zones(client, common.settings_of(context).timezone).of(actor.user_id)
    line = nudges.line_for(engagement_id)
    redrawn = blocks.line_blocks(line, tz) if line is not None else blocks.closed_blocks(result, engagement_id)
    _redraw(client, body, engagement_id, redrawn, blocks.unsnoozed_reply(result), respond)


ACTIONS = {
    NudgeIds.snooze.value: snooze,
    NudgeIds.undo_snooze.value: undo_snooze,
}


def register(app: App) -> None:
    common.listen(app, actions=ACTIONS)
