"""The App Home tab: published when it is opened, and on paging. (It is also republished after each change
a person makes, by `bot.notify`; its DevRel buttons are the DevRel surface's.)"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks import home as blocks
from bot.blocks.adoption import how_to_text
from bot.codecs import HomePage
from bot.ids import HomeIds
from bot.notify import home as homes
from bot.services import engagements
from handlers import common
from handlers.engagements.replies import changed, webhook_reply, zone_of


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    homes.publish(client, common.settings_of(context), str(event["user"]))


def turn_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    homes.publish(client, common.settings_of(context), common.user_id(body),
                  page=HomePage.decode(action.get("value")).page)


def asset_help(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=blocks.asset_help_modal())


def how_to(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=blocks.info_modal(*how_to_text(action.get("value"))))


def fold_checklist(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                   context: BoltContext) -> None:
    ack()
    homes.publish(client, common.settings_of(context), common.user_id(body),
                  checklist=action["action_id"] == HomeIds.checklist_show)


def start_practice(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A practice engagement for the person: its card and first playbook come by DM, like a real one's."""
    ack()
    who = common.actor(context, body)
    result = engagements.start_practice(who, tz=zone_of(context, client, who.user_id))
    changed(context, client, result, who, webhook_reply(None, client, who.user_id))


ACTIONS = {
    HomeIds.next_page: turn_page,
    HomeIds.previous_page: turn_page,
    HomeIds.refresh: turn_page,
    HomeIds.find_asset: asset_help,
    HomeIds.start_practice: start_practice,
    HomeIds.how_to: how_to,
    HomeIds.checklist_show: fold_checklist,
    HomeIds.checklist_hide: fold_checklist,
}


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
    for action_id, listener in ACTIONS.items():
        app.action(action_id)(listener)
