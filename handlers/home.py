"""The App Home tab: published when it is opened, and on paging. (It is also republished after each change
a person makes, by `bot.notify`; its DevRel buttons are the DevRel surface's.)"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import clock, notify
from bot.blocks import adoption as adoption_blocks
from bot.blocks import home as blocks
from bot.blocks.adoption import how_to_text
from bot.codecs import HomePage
from bot.ids import HomeIds
from bot.notify import home as homes
from bot.services import engagements, pilots
from bot.services.actors import actor_for
from handlers import common
from handlers.common import answered_on_the_form
from handlers.engagements.replies import changed, webhook_reply, zone_of
from handlers.errors import tell_user


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


MANAGERS_ONLY = ("Inviting people to practise is for epos managers and admins; anyone can start a practice "
                 "engagement from their own epos Home.")


def open_invitation(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    if not (who.manager or who.admin):
        tell_user(client, body, MANAGERS_ONLY)
        return
    client.views_open(trigger_id=body["trigger_id"], view=adoption_blocks.invite_modal())


@answered_on_the_form
def invitation_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                         context: BoltContext) -> None:
    """Each person picked gets the invitation by DM; then the manager is told who got it and who did not."""
    who = common.actor(context, body)
    if not (who.manager or who.admin):
        ack(response_action="errors", errors={HomeIds.invite_block: MANAGERS_ONLY})
        return
    picked = common.submitted(common.values_of(view), HomeIds.invite_block,
                              HomeIds.invite_field) or []
    if not picked:
        ack(response_action="errors", errors={HomeIds.invite_block: "Pick at least one person."})
        return
    ack()
    settings = common.settings_of(context)
    # Invited while EPOS_PILOT_ONLY keeps them out, they would meet the rollout note at the first click.
    kept_out = pilots.kept_out([actor_for(settings, user_id) for user_id in picked],
                               clock.now().astimezone(settings.timezone).date()) if settings.epos_pilot_only else []
    invitees = [user_id for user_id in picked if user_id not in kept_out]
    sent = [user_id for user_id in invitees if notify.dm(client, user_id, adoption_blocks.invitation(who.user_id))]
    notify.dm(client, who.user_id, {"text": adoption_blocks.invited(sent, [u for u in invitees if u not in sent],
                                                                    kept_out)})


ACTIONS = {
    HomeIds.next_page: turn_page,
    HomeIds.previous_page: turn_page,
    HomeIds.refresh: turn_page,
    HomeIds.find_asset: asset_help,
    HomeIds.start_practice: start_practice,
    HomeIds.how_to: how_to,
    HomeIds.checklist_show: fold_checklist,
    HomeIds.checklist_hide: fold_checklist,
    HomeIds.invite_practice: open_invitation,
}
VIEWS = {HomeIds.invite_modal: invitation_submitted}


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
    common.listen(app, actions=ACTIONS, views=VIEWS)
