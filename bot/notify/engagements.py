"""What an engagement's change tells people in Slack: the card or the confirmation for whoever made it,
the stage's playbook in the deal channel, the close announcement, the ESAT question and its reminder,
and the App Homes that show the engagement."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from itertools import chain
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import outbox, sharing
from bot.blocks import engagements as blocks
from bot.config import Settings
from bot.notify import devrel as devrel_notify
from bot.notify import dm
from bot.notify import home as homes
from bot.services import engagements, esat
from bot.services.engagements import playbook_posts
from bot.services.actors import Actor
from bot.sharing import SharedConversation, Sharing
from models.enums import Stage
from models.schemas.devrel import RequestUpdate
from models.schemas.engagements import EngagementSummary, EsatPrompt, PlaybookPost, StageChangeResult

log = logging.getLogger(__name__)

# Slack no longer has the message, or will never let it change: nothing left to redraw.
GONE = {"message_not_found", "channel_not_found", "is_archived", "cant_update_message", "not_in_channel"}


def deal_sharing(client: WebClient, channel_id: str | None) -> Sharing | None:
    """What Slack says of a deal channel, for the card and warnings; None when there is none or Slack
    cannot say (posting checks again, and keeps internal content out when it cannot tell)."""
    if not channel_id:
        return None
    try:
        return sharing.sharing(client, channel_id)
    except (SlackApiError, OSError) as error:
        log.info("could not check whether a deal channel is shared: %s", error)
        return None


def card_message(client: WebClient, card: Any, lead: str = "") -> dict[str, Any]:
    """The engagement's card, warning when its deal channel is shared with another organisation."""
    found = deal_sharing(client, card.engagement.channel_id)
    warning = blocks.shared_warning(found)
    return blocks.card_message(card, lead="\n\n".join(p for p in (lead, warning) if p), channel_sharing=found)


def confirmation(client: WebClient, result: StageChangeResult, who: Actor) -> dict[str, Any]:
    """What the person who made the change is told: for a new engagement its card, ready for the next step."""
    if result.from_stage is None:
        card = engagements.card(result.engagement.id, viewer=who)
        return card_message(client, card, lead=blocks.change_result_text(result))
    return blocks.change_result_message(result)


def after_change(client: WebClient, settings: Settings, result: StageChangeResult, who: Actor) -> None:
    """The change is committed and its author told: the side effects, each on its own."""
    steps: list[Callable[[], None]] = []
    if result.to_stage is not Stage.closed:
        # An undo or a reopen takes a change back; the stage's playbook was posted when it was entered.
        if not result.undo:
            steps.append(lambda: post_playbook(client, result.engagement.id))
    else:
        steps.append(lambda: announce_close(client, result))
        for cancelled in result.devrel_cancelled:
            # Each on its own: whoever was asked or joins is told, the request's messages redrawn.
            steps.append(lambda update=cancelled: devrel_notify.publish(client, settings, update))
        if result.esat_survey_id is not None:
            survey_id = result.esat_survey_id
            steps.append(lambda: ask_esat(client, survey_id))
    steps.append(lambda: refresh_homes(client, settings, result.engagement, who, result.devrel_cancelled))
    for step in steps:
        try:
            step()
        except Exception:
            log.exception("a follow-up of an engagement change failed; the change itself is saved")


def post_playbook(client: WebClient, engagement_id: int) -> None:
    post = engagements.playbook_post(engagement_id)
    posted = _send_playbook(client, post)
    if posted is not None and posted.get("ts"):
        try:
            playbook_posts.remember(post, str(posted["channel"]), str(posted["ts"]))
        except Exception:
            log.warning("a playbook post was sent but not remembered; archiving its assets won't redraw it",
                        exc_info=True)


def _send_playbook(client: WebClient, post: PlaybookPost) -> Any:
    """The deal channel's post, or the owner's DM when there is no channel or it can't take it."""
    owner, channel = post.engagement.owner_id, post.engagement.channel_id
    if channel:
        try:
            return sharing.post(client, channel, **blocks.playbook_message(post))
        except SharedConversation as shared:
            return _dm_posted(client, owner, blocks.playbook_message(post, shared=shared.sharing))
        except SlackApiError as error:
            reason = str(error.response.get("error") or "error")
            log.info("playbook post to the deal channel failed (%s); sending it to the owner", reason)
            return _dm_posted(client, owner, blocks.playbook_message(post, failed_channel=channel, reason=reason))
    return _dm_posted(client, owner, blocks.playbook_message(post))


def _dm_posted(client: WebClient, user: str, message: dict[str, Any]) -> Any:
    try:
        return client.chat_postMessage(channel=user, **message)
    except SlackApiError as error:
        log.warning("could not message a user: %s", error.response.get("error"))
        return None


def redraw_playbooks(client: WebClient, asset_id: int | None = None) -> int:
    """Redraw the playbook posts listing an asset that is no longer published (`asset_id`'s only, when
    given), with the assets that fit now; how many were redrawn."""
    redrawn = 0
    for post_id, engagement_id, stage, channel, ts in playbook_posts.listing_withdrawn(asset_id):
        post = engagements.playbook_post(engagement_id, stage)
        try:
            sharing.update(client, channel, ts, **blocks.playbook_message(post, redrawn=True))
        except SharedConversation:
            playbook_posts.forget(post_id)  # shared with another organisation since: internal content stays out
            continue
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason in GONE:
                playbook_posts.forget(post_id)
            else:
                log.warning("could not redraw a playbook post (%s); the next tick tries again", reason)
            continue
        playbook_posts.redrawn(post_id, post)
        redrawn += 1
    return redrawn


def ask_esat(client: WebClient, survey_id: int) -> None:
    prompt = esat.prompt(survey_id)
    dm(client, prompt.owner_id, blocks.esat_message(prompt))


def remind_esat(client: WebClient, prompt: EsatPrompt, *, job: str, period: str, owner: str, now: datetime) -> outbox.Posted:
    """The one ESAT reminder, as a scheduled post claimed as `job:period` by the caller."""
    message = blocks.esat_message(prompt)
    return outbox.post_claimed(client, job, period, prompt.owner_id, owner=owner, now=now,
                               text=message["text"], blocks=message.get("blocks"))


def announce_close(client: WebClient, result: StageChangeResult) -> None:
    channel = result.engagement.channel_id
    if not channel:
        return
    try:
        sharing.post(client, channel, **blocks.closed_announcement(result))
    except SharedConversation as shared:
        dm(client, result.engagement.owner_id, blocks.closed_announcement(result, shared=shared.sharing))
    except SlackApiError as error:
        log.info("could not announce a close in the deal channel: %s", error.response.get("error"))


def refresh_homes(client: WebClient, settings: Settings, engagement: EngagementSummary, who: Actor,
                  devrel: Iterable[RequestUpdate] = ()) -> None:
    """The Homes showing the engagement, and those of the requesters and DevRel people of its `devrel`
    requests a close cancelled."""
    people = [(u.request.requester_id, u.previous_id) for u in devrel]
    homes.refresh(client, settings, (who.user_id, engagement.owner_id, engagement.seller_id, *chain(*people)))
