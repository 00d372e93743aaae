"""Buttons on asset cards and result lists: paging, a did-you-mean, Share (and its confirmation into a
conversation shared with another organisation), Useful, Edit, and curation (Publish, Archive, Restore)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import notify, sharing
from bot.notify import engagements as engagement_notify
from bot.blocks import asset_review as review_blocks
from bot.blocks import assets as blocks
from bot.blocks import interactions as interaction_blocks
from bot.codecs import AssetButton, AssetPage
from bot.errors import InvalidInput
from bot.ids import AssetIds
from bot.services import asset_review, assets, engagements, interactions
from bot.services.actors import Actor
from handlers import common
from handlers.assets.commands import open_form
from models.schemas.assets import CurationResult, ViewedAsset

NO_CHANNEL = "Sharing works only in a channel or conversation; run `/asset` there and press Share again."
CHANNEL_PROBLEMS = {"not_in_channel", "channel_not_found", "is_archived"}


def _asset_id(body: dict[str, Any]) -> int:
    return AssetButton.decode(str((body.get("actions") or [{}])[0].get("value") or "")).id


def _channel_of(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def show_search(respond: Respond, who: Actor, query: str, offset: int = 0, *, replace: bool = False,
                channel_id: str | None = None) -> None:
    page = assets.search(query, actor=who, offset=offset, prefer_topics=engagements.need_topics_in(channel_id))
    common.ephemeral(respond, blocks.results_message(page), replace=replace)


def turn_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    page = AssetPage.decode(action.get("value"))
    show_search(respond, common.actor(context, body), page.query, page.offset, replace=True,
                channel_id=_channel_of(body))


def rerun_suggestion(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                     context: BoltContext) -> None:
    ack()
    show_search(respond, common.actor(context, body), action.get("value") or "", replace=True,
                channel_id=_channel_of(body))


def open_add_form(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    open_form(context, client, body["trigger_id"], common.actor(context, body))


def share_into(body: dict[str, Any], respond: Respond, client: WebClient, *, confirmed: bool) -> None:
    """Post the card where the person searched. Into a conversation shared with another organisation
    only a customer-facing asset goes, and only once they confirmed, seeing who is in it."""
    asset_id, user_id = _asset_id(body), common.user_id(body)
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if not channel_id:
        raise InvalidInput(NO_CHANNEL)
    card = assets.published(asset_id, for_what="shared")
    try:
        shared = sharing.sharing(client, channel_id)
        if shared.external:
            if not card.customer_facing:
                common.ephemeral(respond, blocks.share_internal_refused(card, shared), replace=confirmed)
                return
            if not confirmed:
                common.ephemeral(respond, blocks.share_confirmation(card, shared))
                return
            # Customer-facing: its link may be previewed for everyone there.
            client.chat_postMessage(channel=channel_id, **blocks.shared_message(card, user_id, vote=False))
        else:
            client.chat_postMessage(channel=channel_id, **blocks.shared_message(card, user_id))
    except SlackApiError as error:
        reason = error.response.get("error", "")
        if reason in CHANNEL_PROBLEMS:
            common.ephemeral(respond, blocks.share_refused(reason), replace=confirmed)
            return
        raise
    assets.record_share(asset_id, user_id, channel_id)
    if (second_heavy := interactions.second_heavy(asset_id, channel_id)) is not None:
        common.ephemeral(respond, interaction_blocks.second_heavy_message(second_heavy))
    if confirmed and shared.external:
        common.ephemeral(respond, blocks.shared_externally(card, shared), replace=True)
    elif confirmed:
        # The channel stopped being shared meanwhile: the card went out as any internal share does.
        respond(delete_original=True)


def share(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    ack()
    share_into(body, respond, client, confirmed=False)


def share_confirmed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    ack()
    share_into(body, respond, client, confirmed=True)


def share_cancelled(ack: Ack, respond: Respond) -> None:
    ack()
    common.ephemeral(respond, blocks.share_done(blocks.SHARE_CANCELLED), replace=True)


def rate(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    ack()
    useful = action["action_id"] == AssetIds.useful
    result = assets.vote(_asset_id(body), common.user_id(body), useful)
    common.ephemeral(respond, blocks.vote_reply(result))


def open_edit_form(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    card = assets.editable(_asset_id(body), who)
    admins_configured = bool(common.settings_of(context).epos_admins)
    view = blocks.asset_form(mode="edit", owner_id=card.owner_id, initial=card, asset_id=card.id,
                             link_change_needs_review=assets.link_change_needs_review(
                                 card.status, who, admins_configured=admins_configured))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def report_curation(result: CurationResult, who: Actor, respond: Respond, client: WebClient) -> None:
    viewed = ViewedAsset(card=result.card, rights=assets.rights(result.card, who))
    common.ephemeral(respond, blocks.curated_message(result, viewed))
    if result.card.owner_id != who.user_id:
        notify.dm(client, result.card.owner_id, blocks.owner_notice(result, who.user_id))


def publish(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    report_curation(assets.publish(_asset_id(body), who), who, respond, client)


def archive(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    result = assets.archive(_asset_id(body), who)
    report_curation(result, who, respond, client)
    if redrawn := engagement_notify.redraw_playbooks(client, result.card.id):
        common.ephemeral(respond, blocks.playbooks_redrawn(redrawn))


def restore(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    admins_configured = bool(common.settings_of(context).epos_admins)
    report_curation(assets.restore(_asset_id(body), who, admins_configured=admins_configured), who, respond, client)


def verify(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    result = asset_review.verify(_asset_id(body), common.actor(context, body))
    common.ephemeral(respond, review_blocks.verified_reply(result))


def archive_proposed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient,
                     context: BoltContext) -> None:
    ack()
    who = common.actor(context, body)
    report_curation(asset_review.archive_proposed(_asset_id(body), who), who, respond, client)


ACTIONS: dict[str | re.Pattern[str], Callable[..., None]] = {
    AssetIds.next_page: turn_page,
    AssetIds.previous_page: turn_page,
    re.compile(rf"^{AssetIds.rerun}(:\d+)?$"): rerun_suggestion,
    AssetIds.add_open: open_add_form,
    AssetIds.share: share,
    AssetIds.share_confirmed: share_confirmed,
    AssetIds.share_cancelled: share_cancelled,
    AssetIds.useful: rate,
    AssetIds.not_useful: rate,
    AssetIds.edit: open_edit_form,
    AssetIds.publish: publish,
    AssetIds.archive: archive,
    AssetIds.restore: restore,
    AssetIds.verify: verify,
    AssetIds.archive_proposed: archive_proposed,
}


def register(app: App) -> None:
    common.listen(app, actions=ACTIONS)
