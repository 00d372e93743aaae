"""The message shortcut **Ask DevRel about this**: the `/devrel` request form, its brief started from the
message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.ids import ShortcutIds
from bot.services import message_shortcuts
from handlers import common
from handlers.devrel.commands import open_request_modal


def ask_devrel(ack: Ack, shortcut: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    channel_id = str((shortcut.get("channel") or {}).get("id") or "") or None
    brief = message_shortcuts.brief_from_message(common.shortcut_message_text(client, shortcut), channel_id)
    open_request_modal(client, common.settings_of(context), user_id=common.user_id(shortcut),
                       trigger_id=str(shortcut.get("trigger_id") or ""), respond=respond, brief=brief)


def register(app: App) -> None:
    app.shortcut(ShortcutIds.ask_devrel)(ask_devrel)
