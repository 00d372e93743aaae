"""How an engagement listener answers: in the conversation the person acted in, else by DM; after a change,
the answer first, then what the change tells everyone else."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import clock, notify
from bot.blocks import engagements as blocks
from bot.codecs import EngagementForm
from bot.errors import AlreadyClosed
from bot.notify import engagements as tell
from bot.notify.zones import Zones
from bot.services import challenges
from bot.services.actors import Actor
from handlers import common
from models.schemas.engagements import NoteResult, StageChangeResult

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]


def webhook_reply(response_url: str | None, client: WebClient, user_id: str, *, replace: bool = False) -> Reply:
    """Answer in the conversation the person acted in (via response_url), else by DM."""

    def reply(message: dict[str, Any]) -> None:
        if response_url:
            try:
                options: dict[str, Any] = {"replace_original": True} if replace else {
                    "response_type": "ephemeral", "replace_original": False}
                response = WebhookClient(response_url).send(**message, **options)
                if response.status_code < 300:
                    return
                log.warning("response_url answered %s; sending a DM instead", response.status_code)
            except Exception:
                log.warning("response_url reply failed; sending a DM instead", exc_info=True)
        notify.dm(client, user_id, message)

    return reply


def answer_note(response_url: str | None, client: WebClient, context: BoltContext, who: Actor,
                result: NoteResult) -> None:
    """A note was added: its author is told where they acted, then the Homes that show the engagement."""
    webhook_reply(response_url, client, who.user_id)(blocks.note_result_message(result))
    try:
        tell.refresh_homes(client, common.settings_of(context), result.engagement, who)
    except Exception:
        log.exception("could not refresh the App Home after a note")


def respond_reply(respond: Respond, *, replace: bool = False) -> Reply:
    def reply(message: dict[str, Any]) -> None:
        if replace:
            respond(**message, replace_original=True)
        else:
            respond(**message, response_type="ephemeral", replace_original=False)

    return reply


def reply_for(body: dict[str, Any], respond: Respond, client: WebClient, *, replace: bool = False) -> Reply:
    if body.get("response_url"):
        return respond_reply(respond, replace=replace)
    return webhook_reply(None, client, common.user_id(body))


def changed(context: BoltContext, client: WebClient, result: StageChangeResult, who: Actor, reply: Reply) -> None:
    """The change is committed: tell the actor first, then everyone else."""
    reply(tell.confirmation(client, result, who))
    tell.after_change(client, common.settings_of(context), result, who)


def zone_of(context: BoltContext, client: WebClient, user_id: str) -> ZoneInfo:
    return Zones(client, common.settings_of(context).timezone).of(user_id)


def today_in(zone: ZoneInfo) -> date:
    return clock.now().astimezone(zone).date()


def open_new_form(context: BoltContext, client: WebClient, body: dict[str, Any], user_id: str, account: str = "") -> None:
    zone = zone_of(context, client, user_id)
    view = blocks.new_form(today=today_in(zone), metadata=EngagementForm(timezone=zone.key).encode(), account=account,
                           chart=challenges.current())
    common.open_view(client, body, view)


@contextmanager
def closed_answer(reply: Reply) -> Iterator[None]:
    """A change asked of a closed engagement gets the one answer for it: closed, with Reopen."""
    try:
        yield
    except AlreadyClosed as closed:
        reply(blocks.already_closed_message(closed.engagement))
