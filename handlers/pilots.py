"""The pilot form, opened from the managers' App Home: start a pilot, change its members, end it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import clock
from bot.blocks import pilots as blocks
from bot.errors import EposError, Forbidden, InvalidInput
from bot.ids import PilotIds
from bot.notify import home as homes
from bot.services import pilots
from handlers import common
from handlers.common import answered_on_the_form
from handlers.errors import tell_user

MANAGERS_ONLY = "Pilots are run by epos managers and admins; ask one of them if you'd like one."


def open_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    if not (who.manager or who.admin):
        tell_user(client, body, MANAGERS_ONLY)
        return
    name = str(action.get("value") or "")
    client.views_open(trigger_id=body["trigger_id"], view=blocks.pilot_modal(pilots.get(name) if name else None))


@answered_on_the_form
def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    settings = common.settings_of(context)
    who = common.actor(context, body)
    form = blocks.read_form(view)
    editing = bool(view.get("private_metadata"))
    try:
        if not (who.manager or who.admin):
            raise Forbidden(MANAGERS_ONLY)
        pilots.save(who, form.name, creating=not editing, start_on=form.start_on, members=form.members,
                    end_on=form.end_on, today=clock.now().astimezone(settings.timezone).date())
    except EposError as error:
        field = error.field if isinstance(error, InvalidInput) else None
        ack(response_action="errors", errors=blocks.form_errors(field, str(error), editing=editing))
        return
    ack()
    # The Home shows the pilot as it now stands.
    homes.publish(client, settings, who.user_id)


ACTIONS = {PilotIds.open: open_form}
VIEWS = {PilotIds.modal: submitted}


def register(app: App) -> None:
    for action_id, listener in ACTIONS.items():
        app.action(action_id)(listener)
    for callback_id, listener in VIEWS.items():
        app.view(callback_id)(listener)
