"""`link_shared`: a pasted link to a catalogue asset is previewed with its card (`chat.unfurl`) and counted
as a share by whoever pasted it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import sharing
from bot.blocks import asset_unfurls as blocks
from bot.blocks import interactions as interaction_blocks
from bot.services import asset_unfurls, interactions
from handlers import common

log = logging.getLogger(__name__)

# Slack sends a link twice: while it is typed (source `composer`, before anyone else can see it) and once
# posted. Only the posted one is previewed: epos knows then who can read the conversation, and a link in a
# draft is not yet shared.
COMPOSER = "composer"


def link_shared(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    channel, ts = str(event.get("channel") or ""), str(event.get("message_ts") or "")
    if event.get("source") == COMPOSER or not channel or not ts:
        return
    urls = [str(link.get("url") or "") for link in event.get("links") or [] if isinstance(link, dict)]
    found = asset_unfurls.lookup(urls, common.settings_of(context).epos_unfurl_domains)
    if not found:
        return
    try:
        external = sharing.sharing(client, channel).external
    except SlackApiError as error:
        # Not knowing who reads the conversation is never taken as internal.
        log.info("could not tell whether a conversation is shared before a preview: %s", error.response.get("error"))
        external = True
    if external:
        # Another organisation reads this conversation: only what is made for customers is previewed,
        # without our team's votes, as a Share there would post it.
        found = [u for u in found if u.card.customer_facing and not u.archived]
        if not found:
            log.info("left internal assets unpreviewed in a conversation shared with another organisation")
            return
    previews = [(u.url, u.card, u.replacement) for u in found]
    try:
        client.chat_unfurl(channel=channel, ts=ts, unfurls=blocks.unfurls(previews, vote=not external))
    except SlackApiError as error:
        # The message was deleted or edited meanwhile, or the link is not in it: nothing was shown.
        log.info("could not preview a pasted asset link: %s", error.response.get("error"))
        return
    if not event.get("user"):
        return
    user_id = str(event["user"])
    for asset_id in asset_unfurls.count_shares(found, user_id, channel, ts):
        # As after a Share: a second Proofshop or Workshop in a deal gets the field guide's kind word.
        second_heavy = interactions.second_heavy(asset_id, channel)
        if second_heavy is not None:
            client.chat_postEphemeral(channel=channel, user=user_id,
                                      **interaction_blocks.second_heavy_message(second_heavy))


def register(app: App) -> None:
    app.event("link_shared")(link_shared)
