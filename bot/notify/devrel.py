"""What a DevRel request's change tells people in Slack.

`publish` turns one `RequestUpdate` into messages (the ask, the requester's card and notices, the lead
channel post, the seller's notice, the pre-meeting group DM) and redraws every stored message about the
request. Handlers call it after a click or a form; the DevRel timers job calls it after it has claimed an
escalation or an expiry, and calls `remind` and `ask` for the reminders and the asks a stopped process
had not delivered.

Its bookkeeping (the messages it posted, the request read afresh before a redraw) is
`bot.services.devrel_messages`; an ask that cannot reach its person is escalated through
`bot.services.devrel_timers`. It never calls back into `bot.services.devrel`, which called it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import clock, outbox, sharing
from bot.blocks import devrel as blocks
from bot.config import Settings
from bot.notify import home as homes
from bot.notify.zones import Zones
from bot.services import devrel_messages, devrel_timers
from bot.services.devrel_routing import policy_for
from bot.sharing import SharedConversation
from models.enums import RequestState
from models.schemas.devrel import DevRelRequestView, MessageRef, RequestUpdate

log = logging.getLogger(__name__)

# An ask whose DM fails moves on to the next person; this bounds that chain within one call.
MAX_UNREACHABLE_HOPS = 10


def zones_of(client: WebClient, settings: Settings, request: DevRelRequestView) -> Zones:
    """The timezones of the people a request touches: DevRel people's from the roster, others' from Slack."""
    return Zones(client, settings.timezone, roster=request.timezones)


def _post(client: WebClient, channel: str, content: dict[str, Any], *, group_dm: bool = False) -> tuple[str, str] | None:
    """Post a DevRel message; None when it could not be posted. A DevRel request is internal, so it goes
    through the sharing check, except into the group DM epos itself opened for the SE, seller and DevRel
    person (nobody else is in it, and reading a group DM's details would need another scope)."""
    try:
        if group_dm:
            response = client.chat_postMessage(channel=channel, **content)
        else:
            response = sharing.post(client, channel, **content)
    except SharedConversation as shared:
        log.warning("kept a DevRel message out of a conversation shared with another organisation (%s)",
                    ", ".join(shared.sharing.organisations) or "pending")
        return None
    except SlackApiError as error:
        log.warning("could not post a DevRel message: %s", error.response.get("error"))
        return None
    return str(response["channel"]), str(response["ts"])


def _post_kept(client: WebClient, request_id: int, channel: str, content: dict[str, Any], *,
               audience: str, recipient_id: str | None, fresh: set[tuple[str, str]] | None = None) -> bool:
    """Post and remember the message, so later changes redraw it; `fresh` collects what was just drawn."""
    posted = _post(client, channel, content)
    if posted is None:
        return False
    devrel_messages.remember_message(request_id, MessageRef(channel_id=posted[0], ts=posted[1],
                                                            audience=audience, recipient_id=recipient_id))  # type: ignore[arg-type]
    if fresh is not None:
        fresh.add(posted)
    return True


def refresh(client: WebClient, settings: Settings, request_id: int, *, now: datetime | None = None,
            skip: set[tuple[str, str]] | None = None) -> int:
    """Redraw every stored message about the request in its current state (read afresh, so a slower
    redraw never shows an older state); returns how many were updated."""
    now = now or clock.now()
    request = devrel_messages.get_request(request_id)
    refs = [r for r in devrel_messages.messages_of(request_id) if (r.channel_id, r.ts) not in (skip or set())]
    zones = zones_of(client, settings, request).of_all(
        [request.requester_id, *(r.recipient_id for r in refs)])
    updated = 0
    for ref in refs:
        content = blocks.redraw(ref, request, zones=zones, default=settings.timezone,
                                lead_channel=settings.devrel_channel, now=now)
        try:
            sharing.update(client, ref.channel_id, ref.ts, **content)
            updated += 1
        except SharedConversation:
            log.warning("did not redraw a DevRel message in a conversation now shared with another organisation")
        except SlackApiError as error:
            log.warning("could not redraw a DevRel message: %s", error.response.get("error"))
    return updated


def publish(client: WebClient, settings: Settings, update: RequestUpdate, *, now: datetime | None = None,
            _hops: int = 0) -> None:
    """Tell everyone what `update` means for them, then redraw every message about the request."""
    now = now or clock.now()
    if not update.changed:
        refresh(client, settings, update.request.id, now=now)
        return
    request = update.request
    policy = policy_for(settings)
    zones = zones_of(client, settings, request)
    requester_zone = zones.of(request.requester_id)
    fresh: set[tuple[str, str]] = set()

    if update.change == "requested":
        _post_kept(client, request.id, request.requester_id,
                   blocks.requester_card(request, zone=requester_zone, lead_channel=policy.lead_channel, now=now),
                   audience="requester", recipient_id=request.requester_id, fresh=fresh)
        if update.nobody_available:
            _post(client, request.requester_id, blocks.nobody_available(request, zone=requester_zone))
    else:
        notice = blocks.requester_notice(update, zone=requester_zone, lead_channel=policy.lead_channel)
        if notice is not None:
            _post(client, request.requester_id, notice)
        seller = request.engagement.seller_id
        if update.change in ("handed_back", "released") and seller not in (request.requester_id, update.actor_id):
            # The seller drives the meeting: they hear that its DevRel person changed, as the requester does.
            seller_notice = blocks.requester_notice(update, zone=zones.of(seller), lead_channel=policy.lead_channel,
                                                    reader_id=seller)
            if seller_notice is not None:
                _post(client, seller, seller_notice)

    follow_up: RequestUpdate | None = None
    if update.asked is not None:
        asked = update.asked.slack_id
        ask = blocks.devrel_message(request, recipient_id=asked, zone=zones.of(asked), requester_zone=requester_zone,
                                    lead_channel=policy.lead_channel, now=now)
        if not _post_kept(client, request.id, asked, ask, audience="ask", recipient_id=asked, fresh=fresh) \
                and _hops < MAX_UNREACHABLE_HOPS:
            follow_up = devrel_timers.escalate(request.id, request.version, policy=policy, now=now,
                                               why="could not be reached in Slack", due_only=False)
    if update.to_channel and policy.lead_channel:
        post = blocks.channel_message(request, zone=settings.timezone, now=now)
        if not _post_kept(client, request.id, policy.lead_channel, post, audience="channel", recipient_id=None,
                          fresh=fresh):
            _post(client, request.requester_id, blocks.lead_channel_failed(request, policy.lead_channel))

    if update.change in ("accepted", "assigned"):
        _announce_assignment(client, settings, request, zones, now=now, taken=update.change == "assigned", fresh=fresh)
    if update.change == "cancelled" and update.previous_id:
        _post(client, update.previous_id, blocks.cancelled_notice(request, zone=zones.of(update.previous_id)))
    if update.change == "closed" and update.previous_id:
        _post(client, update.previous_id, blocks.closed_notice(request, update.previous_id,
                                                               zone=zones.of(update.previous_id)))
    if update.change == "kept" and request.assignee_id:
        _post(client, request.assignee_id, blocks.kept_notice(request, update.actor_id,
                                                              zone=zones.of(request.assignee_id)))

    refresh(client, settings, request.id, now=now, skip=fresh)
    if follow_up is not None:
        publish(client, settings, follow_up, now=now, _hops=_hops + 1)


def _announce_assignment(client: WebClient, settings: Settings, request: DevRelRequestView, zones: Zones, *,
                         now: datetime, taken: bool, fresh: set[tuple[str, str]]) -> None:
    assignee = request.assignee_id
    assert assignee is not None
    if taken:
        # Taken from the channel: the channel post leaves out what is held in reserve; their DM has it all.
        copy = blocks.devrel_message(request, recipient_id=assignee, zone=zones.of(assignee),
                                     requester_zone=zones.of(request.requester_id), lead_channel=settings.devrel_channel,
                                     now=now)
        _post_kept(client, request.id, assignee, copy, audience="assignee", recipient_id=assignee, fresh=fresh)
    seller = request.engagement.seller_id
    if seller not in (request.requester_id, assignee):
        _post(client, seller, blocks.seller_notice(request, zone=zones.of(seller)))
    people = request.sync_people()
    try:
        opened = client.conversations_open(users=",".join(people))
        channel = str(opened["channel"]["id"])
    except SlackApiError as error:
        log.warning("could not open the pre-meeting group DM: %s", error.response.get("error"))
        return
    _post(client, channel, blocks.kickoff_message(request, zone=settings.timezone), group_dm=True)


def remind(client: WebClient, settings: Settings, request: DevRelRequestView, *, job: str, period: str,
           now: datetime, owner: str) -> outbox.Posted | None:
    """The assignee's reminder an hour before, through the one policy for scheduled posts (claimed as
    `job:period` by the caller). None when there is nobody to remind."""
    assignee = request.assignee_id
    if assignee is None or request.state is not RequestState.accepted:
        return None
    zone = zones_of(client, settings, request).of(assignee)
    message = blocks.reminder_message(request, zone=zone, now=now)
    return outbox.post_claimed(client, job, period, assignee, owner=owner, now=now,
                               text=message["text"], blocks=message.get("blocks"))


def ask(client: WebClient, settings: Settings, request: DevRelRequestView, *, now: datetime) -> bool:
    """Post the ask to the person the request waits on, and remember it; False when it could not be posted."""
    asked = request.candidate_id
    if asked is None:
        return False
    zones = zones_of(client, settings, request)
    message = blocks.devrel_message(request, recipient_id=asked, zone=zones.of(asked),
                                    requester_zone=zones.of(request.requester_id),
                                    lead_channel=settings.devrel_channel, now=now)
    return _post_kept(client, request.id, asked, message, audience="ask", recipient_id=asked)


def publish_released(client: WebClient, settings: Settings, updates: list[RequestUpdate], *,
                     now: datetime | None = None) -> None:
    """Asks and meetings taken off someone who can no longer come: the requester, the seller and whoever is
    asked next are told, and their Homes redrawn. One failure does not keep the others untold."""
    for update in updates:
        try:
            publish(client, settings, update, now=now)
            request = update.request
            homes.refresh(client, settings, (request.requester_id, request.engagement.owner_id,
                                             request.engagement.seller_id, update.previous_id,
                                             update.asked.slack_id if update.asked else None))
        except Exception:
            log.exception("people were not all told that a DevRel request went to someone else")
