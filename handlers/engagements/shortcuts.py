"""The message shortcut **Add to an engagement**: the message (its text and a link to it) as a note on one
of the person's open engagements, picked in a small form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import message_shortcuts as shortcut_blocks
from bot.codecs import EngagementButton, EngagementForm
from bot.errors import EposError, InvalidInput
from bot.ids import EngagementIds, ShortcutIds
from bot.services import engagements, message_shortcuts
from handlers import common
from handlers.common import answered_on_the_form
from handlers.engagements.forms import refuse, value
from handlers.engagements.replies import answer_note

log = logging.getLogger(__name__)


def _permalink(client: WebClient, channel_id: str, message_ts: str) -> str | None:
    """The message's link, or None when Slack won't give it (the note then says it came from Slack)."""
    if not channel_id or not message_ts:
        return None
    try:
        return str(client.chat_getPermalink(channel=channel_id, message_ts=message_ts).get("permalink") or "") or None
    except SlackApiError as error:
        log.info("could not get a message's link for a note: %s", error.response.get("error"))
        return None


def add_to_engagement(ack: Ack, shortcut: dict[str, Any], respond: Respond, client: WebClient) -> None:
    ack()
    user_id = common.user_id(shortcut)
    channel_id = str((shortcut.get("channel") or {}).get("id") or "")
    message = shortcut.get("message") or {}
    choices = message_shortcuts.note_choices(user_id, channel_id or None)
    if not choices.engagements:
        common.ephemeral(respond, shortcut_blocks.no_open_engagements())
        return
    permalink = _permalink(client, channel_id, str(message.get("ts") or shortcut.get("message_ts") or ""))
    note = message_shortcuts.note_from_message(common.shortcut_message_text(client, shortcut), permalink)
    metadata = EngagementForm(response_url=shortcut.get("response_url") or None).encode()
    client.views_open(trigger_id=shortcut["trigger_id"], view=shortcut_blocks.message_note_form(
        choices.engagements, choices.selected, note.text,
        clipped_from=note.message_length if note.clipped else None, metadata=metadata))


@answered_on_the_form
def message_note_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                           context: BoltContext) -> None:
    who = common.actor(context, body)
    meta = EngagementForm.decode(view.get("private_metadata"))
    values = common.values_of(view)
    try:
        picked = value(values, EngagementIds.engagement_block)
        if not picked:
            raise InvalidInput(shortcut_blocks.PICK_ENGAGEMENT, field="engagement")
        engagement_id = EngagementButton.decode(picked).id
        result = engagements.add_note(who, engagement_id, value(values, EngagementIds.note_block) or "")
    except EposError as error:
        refuse(ack, error, EngagementIds.note_block,
               {"engagement": EngagementIds.engagement_block, "note": EngagementIds.note_block})
        return
    ack()
    answer_note(meta.response_url, client, context, who, result)


def register(app: App) -> None:
    app.shortcut(ShortcutIds.add_to_engagement)(add_to_engagement)
    app.view(EngagementIds.message_note_modal)(message_note_submitted)
