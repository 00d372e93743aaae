"""Asset shortcuts: **Find assets for this message** (on a message) and **Add an asset** (from the
shortcuts menu)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import assets as blocks
from bot.blocks import message_shortcuts as shortcut_blocks
from bot.ids import ShortcutIds
from bot.services import assets, engagements, message_shortcuts
from handlers import common
from handlers.assets.commands import open_form


def find_for_message(ack: Ack, shortcut: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Search with the message's words, ranked as `/asset` ranks them, answered to the person only."""
    ack()
    query = message_shortcuts.message_query(common.shortcut_message_text(None, shortcut))
    if not query:
        common.ephemeral(respond, shortcut_blocks.nothing_to_search())
        return
    channel_id = (shortcut.get("channel") or {}).get("id")
    page = assets.search(query, actor=common.actor(context, shortcut), from_message=True,
                         prefer_topics=engagements.need_topics_in(channel_id))
    common.ephemeral(respond, blocks.results_message(page))


def add_asset(ack: Ack, shortcut: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    open_form(context, client, shortcut["trigger_id"], common.actor(context, shortcut))


SHORTCUTS = {
    ShortcutIds.find_assets: find_for_message,
    ShortcutIds.add_asset: add_asset,
}


def register(app: App) -> None:
    common.listen(app, shortcuts=SHORTCUTS)
