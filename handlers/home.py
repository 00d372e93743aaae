"""The App Home tab: published on `app_home_opened`, after each change a person makes, and on paging."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import home as blocks
from bot.config import Settings
from bot.ids import HomeIds
from bot.notify import devrel as notify
from bot.notify import home as homes
from bot.services import devrel
from bot.services.actors import actor_for
from handlers.devrel import open_request_modal, request_button
from handlers.errors import tell_user

log = logging.getLogger(__name__)


def _page(action: dict[str, Any]) -> int:
    value = str(action.get("value") or "0")
    # A page number too long to be real (a mangled value) starts over at the first page.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 6 else 0


def register(app: App, settings: Settings) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        homes.publish(client, settings, str(event["user"]))

    @app.action(HomeIds.next_page)
    @app.action(HomeIds.previous_page)
    @app.action(HomeIds.refresh)
    def turn_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        homes.publish(client, settings, str(body["user"]["id"]), page=_page(action))

    @app.action(HomeIds.find_asset)
    def asset_help(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=blocks.asset_help_modal())

    @app.action(HomeIds.request_devrel)
    def request_devrel(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_request_modal(client, settings, user_id=str(body["user"]["id"]), trigger_id=str(body["trigger_id"]))

    @app.action(re.compile(rf"^{HomeIds.cancel_devrel}(:\d+)?$"))
    def cancel_devrel(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The same cancel as on the request card: whoever was asked or joins is told, its messages redrawn."""
        ack()
        user_id = str(body["user"]["id"])
        try:
            request_id, _ = request_button(body)
            update = devrel.cancel(actor_for(settings, user_id), request_id)
            notify.publish(client, settings, update)
            if not update.changed and update.note:
                tell_user(client, body, update.note)
        finally:
            # Also after a refusal: the Home then shows the request as it now stands.
            homes.publish(client, settings, user_id)
