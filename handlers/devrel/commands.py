"""`/devrel`: help, the roster, or the request form (also opened from the App Home)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import clock, notify
from bot.blocks import devrel as blocks
from bot.codecs import RequestForm
from bot.config import Settings
from bot.notify import zones
from bot.services import devrel, roster
from bot.services.actors import Actor
from bot.services.message_shortcuts import Brief
from handlers import common

log = logging.getLogger(__name__)


def roster_view(settings: Settings, who: Actor) -> dict[str, Any]:
    today: date = clock.now().astimezone(settings.timezone).date()
    return blocks.roster_message(roster.list_roster(), admin=who.admin, today=today)


def open_request_modal(client: WebClient, settings: Settings, *, user_id: str, trigger_id: str, typed: str = "",
                       respond: Respond | None = None, brief: Brief | None = None) -> None:
    """Open the request form for `user_id`. Work before `views.open` stays a quick database read; the
    requester's timezone, if not cached, is fetched after and shown by `views.update`. With a `brief`
    (from a message), its text is what the customer asked and its engagement is picked."""
    choices = devrel.open_engagements(user_id)
    if not choices:
        if respond is not None:
            common.ephemeral(respond, blocks.no_engagements())
        else:
            notify.dm(client, user_id, blocks.no_engagements())
        return
    selected = devrel.best_engagement(choices, typed)
    if brief is not None and brief.engagement_id is not None:
        selected = next((c for c in choices if c.id == brief.engagement_id), selected)
    asked = {"asked": brief.asked, "asked_clipped": brief.clipped} if brief is not None else {}
    zone_name = zones.cached_name(user_id)
    opened = client.views_open(trigger_id=trigger_id, view=blocks.request_modal(
        choices, selected=selected, typed=typed, timezone_name=zone_name, metadata=RequestForm(timezone=zone_name),
        **asked))
    if zone_name:
        return
    told = zones.slack_name(client, user_id)
    zone = zones.named(told, settings.timezone)
    try:
        client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=blocks.request_modal(
            choices, selected=selected, typed=typed, timezone_name=zone.key, assumed_timezone=not told,
            metadata=RequestForm(timezone=zone.key), **asked))
    except SlackApiError as error:
        # The form already works without it: on submit, the cached or the team's timezone is used.
        log.info("could not show the timezone on the DevRel form: %s", error.response.get("error"))


def devrel_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    settings = common.settings_of(context)
    text = " ".join(common.command_text(command).split())
    word = text.split(" ", 1)[0].lower() if text else ""
    who = common.actor(context, command)
    if word in ("help", "?"):
        common.ephemeral(respond, blocks.help_message())
    elif word == "roster":
        common.ephemeral(respond, roster_view(settings, who))
    else:
        open_request_modal(client, settings, user_id=who.user_id, trigger_id=str(command.get("trigger_id") or ""),
                           typed=text, respond=respond)


def register(app: App) -> None:
    app.command("/devrel")(devrel_command)
