"""Buttons on DevRel request messages (Accept, Decline, Take it, Cancel, Hand back), on a close's answer
(Keep the meeting), on the App Home (Request DevRel, Cancel), and on the roster list."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import clock
from bot.blocks import devrel as blocks
from bot.codecs import DeclineForm, RequestButton, RosterForm
from bot.ids import DevRelIds, HomeIds
from bot.notify import devrel as tell
from bot.notify import home as homes
from bot.notify import zones
from bot.notify.devrel import zones_of as zones_of_request
from bot.services import devrel, devrel_absence, roster
from handlers import common
from handlers.devrel.commands import open_request_modal, roster_view
from handlers.errors import tell_user
from models.schemas.devrel import RequestUpdate


def request_button(body: dict[str, Any]) -> tuple[int, int]:
    """(request id, version; -1 when the button has none) from a request button."""
    button = RequestButton.decode(str((body.get("actions") or [{}])[0].get("value") or ""))
    return button.request_id, button.version if button.version is not None else -1


def answer_click(context: BoltContext, body: dict[str, Any], respond: Respond, client: WebClient,
                 transition: Callable[..., RequestUpdate]) -> None:
    settings = common.settings_of(context)
    request_id, version = request_button(body)
    now = clock.now()
    update = transition(common.actor(context, body), request_id, version, policy=devrel.policy_for(settings), now=now)
    # Also when nothing changed: the message is redrawn as it stands, its buttons still live.
    tell.publish(client, settings, update, now=now)
    zone = zones.named(update.actor_timezone, settings.timezone)
    if update.overlapping is not None:
        common.ephemeral(respond, blocks.overlap_refusal(update.request, update.overlapping, zone=zone, now=now))
    elif not update.changed and update.note:
        common.ephemeral(respond, blocks.plain(update.note))
    elif update.over_capacity is not None:
        common.ephemeral(respond, blocks.over_capacity_note(update.request, update.over_capacity))


def accept_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    answer_click(context, body, respond, client, devrel.accept)


def take_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    answer_click(context, body, respond, client, devrel.take)


def decline_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    _ask_why(body, respond, client, context, devrel.check_decline, blocks.decline_modal)


def cancel_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    request_id, _ = request_button(body)
    update = devrel.cancel(common.actor(context, body), request_id)
    tell.publish(client, common.settings_of(context), update)
    if not update.changed and update.note:
        common.ephemeral(respond, blocks.plain(update.note))


def keep_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """Keep the meeting, on the answer to a close: the accepted meeting it cancelled is on again."""
    ack()
    settings = common.settings_of(context)
    who = common.actor(context, body)
    request_id, version = request_button(body)
    update = devrel.keep(who, request_id, version)
    tell.publish(client, settings, update)
    if update.changed:
        zone = zones_of_request(client, settings, update.request).of(who.user_id)
        common.ephemeral(respond, blocks.kept_answer(update.request, zone=zone))
        homes.refresh(client, settings, (who.user_id, update.request.requester_id, update.request.assignee_id,
                                         update.request.engagement.owner_id, update.request.engagement.seller_id))
    elif update.note:
        common.ephemeral(respond, blocks.plain(update.note))


def hand_back_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient,
                      context: BoltContext) -> None:
    """Hand back, on the assignee's message: the form asking why opens, unless the request moved on."""
    ack()
    _ask_why(body, respond, client, context, devrel.check_hand_back, blocks.hand_back_modal)


def _ask_why(body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
             check_of: Callable[..., Any], modal_of: Callable[..., dict[str, Any]]) -> None:
    """Decline and Hand back: the form asking why opens, unless the request moved on meanwhile."""
    settings = common.settings_of(context)
    who = common.actor(context, body)
    request_id, version = request_button(body)
    check = check_of(who, request_id, version, policy=devrel.policy_for(settings))
    if check.note:
        tell.publish(client, settings, check)
        common.ephemeral(respond, blocks.plain(check.note))
        return
    zone = zones.named(check.request.timezones.get(who.user_id), settings.timezone)
    client.views_open(trigger_id=body["trigger_id"], view=modal_of(
        check.request, zone=zone, metadata=DeclineForm(request_id=request_id, version=version)))


def home_cancel_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The same cancel as on the request card: whoever was asked or joins is told, its messages redrawn."""
    ack()
    settings = common.settings_of(context)
    user_id = common.user_id(body)
    try:
        request_id, _ = request_button(body)
        update = devrel.cancel(common.actor(context, body), request_id)
        tell.publish(client, settings, update)
        if not update.changed and update.note:
            tell_user(client, body, update.note)
    finally:
        # Also after a refusal: the Home then shows the request as it now stands.
        homes.publish(client, settings, user_id)


def home_request_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    open_request_modal(client, common.settings_of(context), user_id=common.user_id(body),
                       trigger_id=str(body["trigger_id"]))


def roster_add_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    roster.require_admin(common.actor(context, body))
    client.views_open(trigger_id=body["trigger_id"], view=blocks.roster_modal(
        None, metadata=RosterForm(mode="add", response_url=body.get("response_url"))))


def roster_edit_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                        context: BoltContext) -> None:
    ack()
    roster.require_admin(common.actor(context, body))
    member = roster.get_member(str(action.get("value") or ""))
    client.views_open(trigger_id=body["trigger_id"], view=blocks.roster_modal(
        member, metadata=RosterForm(mode="edit", slack_id=member.slack_id, response_url=body.get("response_url"))))


def _set_active(context: BoltContext, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                client: WebClient, active: bool) -> None:
    who = common.actor(context, body)
    member = roster.set_active(who, str(action.get("value") or ""), active)
    settings = common.settings_of(context)
    common.ephemeral(respond, roster_view(settings, who), replace=True)
    if not active:
        updates = devrel_absence.release_absent(policy=devrel.policy_for(settings), slack_id=member.slack_id,
                                                actor_id=who.user_id)
        tell.publish_released(client, settings, updates)
        if (note := blocks.sent_on_note(updates)) is not None:
            common.ephemeral(respond, note)


def roster_deactivate_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                              client: WebClient, context: BoltContext) -> None:
    ack()
    _set_active(context, body, action, respond, client, False)


def roster_reactivate_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                              client: WebClient, context: BoltContext) -> None:
    ack()
    _set_active(context, body, action, respond, client, True)


ACTIONS: dict[str | re.Pattern[str], Callable[..., None]] = {
    DevRelIds.accept: accept_clicked,
    DevRelIds.take: take_clicked,
    DevRelIds.decline: decline_clicked,
    DevRelIds.cancel: cancel_clicked,
    re.compile(rf"^{DevRelIds.keep}(:\d+)?$"): keep_clicked,
    DevRelIds.hand_back: hand_back_clicked,
    re.compile(rf"^{HomeIds.cancel_devrel}(:\d+)?$"): home_cancel_clicked,
    HomeIds.request_devrel: home_request_clicked,
    DevRelIds.roster_add: roster_add_clicked,
    DevRelIds.roster_edit: roster_edit_clicked,
    DevRelIds.roster_deactivate: roster_deactivate_clicked,
    DevRelIds.roster_reactivate: roster_reactivate_clicked,
}


def register(app: App) -> None:
    common.listen(app, actions=ACTIONS)
