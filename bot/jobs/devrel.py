"""DevRel in Slack: telling people what a request change means, and the durable timers behind it.

`publish` turns one `RequestUpdate` into messages (the ask, the requester's card and notices, the lead
channel post, the seller's notice, the pre-meeting group DM) and redraws every stored message about the
request. Handlers call it after a click or a form; `run_due_devrel_timers` calls it on the scheduler tick
for escalations and expiries, and sends the reminders. The database decides what is due and each timer
is claimed with a guarded UPDATE, so several replicas never ask anyone twice or remind twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import clock, outbox, sharing
from bot.blocks import devrel as blocks
from bot.config import Settings
from bot.services import claims, devrel
from bot.sharing import SharedConversation
from bot.slack_people import person
from models.enums import RequestState
from models.schemas.devrel import DevRelPolicy, DevRelRequestView, MessageRef, RequestUpdate

log = logging.getLogger(__name__)

# An ask whose DM fails moves on to the next person; this bounds that chain within one call.
MAX_UNREACHABLE_HOPS = 10
# An ask decided this long ago that no message shows was lost with the process deciding it (a live
# post, retries included, is over well before), and is sent by the next tick; claimed per version.
LOST_ASK_AFTER = timedelta(minutes=5)
LOST_ASK_JOB = "devrel-ask"
REMINDER_JOB = "devrel-reminder"


def policy_for(settings: Settings) -> DevRelPolicy:
    return DevRelPolicy(lead_channel=settings.devrel_channel, escalate_after=settings.devrel_escalate_after)


class Zones:
    """Timezones of the people a request touches: DevRel people from the roster, others from Slack."""

    def __init__(self, client: WebClient, settings: Settings, request: DevRelRequestView) -> None:
        self.client, self.default, self.request = client, settings.timezone, request
        self._known: dict[str, ZoneInfo] = {}

    def of(self, user_id: str | None) -> ZoneInfo:
        if not user_id:
            return self.default
        if user_id not in self._known:
            roster_zone = self.request.timezones.get(user_id)
            if roster_zone:
                self._known[user_id] = blocks.zone_of(roster_zone, self.default)
            else:
                self._known[user_id] = person(self.client, user_id).zone(self.default)
        return self._known[user_id]

    def for_refs(self, refs: list[MessageRef]) -> dict[str, ZoneInfo]:
        people = {self.request.requester_id, *(r.recipient_id for r in refs if r.recipient_id)}
        return {p: self.of(p) for p in people if p}


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
    devrel.remember_message(request_id, MessageRef(channel_id=posted[0], ts=posted[1], audience=audience,  # type: ignore[arg-type]
                                                   recipient_id=recipient_id))
    if fresh is not None:
        fresh.add(posted)
    return True


def refresh(client: WebClient, settings: Settings, request_id: int, *, now: datetime | None = None,
            skip: set[tuple[str, str]] | None = None) -> int:
    """Redraw every stored message about the request in its current state (read afresh, so a slower
    redraw never shows an older state); returns how many were updated."""
    now = now or clock.now()
    request = devrel.get_request(request_id)
    refs = [r for r in devrel.messages_of(request_id) if (r.channel_id, r.ts) not in (skip or set())]
    zones = Zones(client, settings, request).for_refs(refs)
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
    zones = Zones(client, settings, request)
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

    follow_up: RequestUpdate | None = None
    if update.asked is not None:
        asked = update.asked.slack_id
        ask = blocks.devrel_message(request, recipient_id=asked, zone=zones.of(asked), requester_zone=requester_zone,
                                    lead_channel=policy.lead_channel, now=now)
        if not _post_kept(client, request.id, asked, ask, audience="ask", recipient_id=asked, fresh=fresh) \
                and _hops < MAX_UNREACHABLE_HOPS:
            follow_up = devrel.escalate(request.id, request.version, policy=policy, now=now,
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


def send_reminder(client: WebClient, settings: Settings, request: DevRelRequestView, *, now: datetime,
                  owner: str) -> outbox.Posted | None:
    """The assignee's reminder an hour before, through the one policy for scheduled posts (claimed as
    `devrel-reminder:<request>:<version>` by the caller). None when there is nobody to remind."""
    assignee = request.assignee_id
    if assignee is None or request.state is not RequestState.accepted:
        return None
    zone = Zones(client, settings, request).of(assignee)
    message = blocks.reminder_message(request, zone=zone, now=now)
    return outbox.post_claimed(client, REMINDER_JOB, _reminder_period(request), assignee, owner=owner, now=now,
                               text=message["text"], blocks=message.get("blocks"))


def _reminder_period(request: DevRelRequestView) -> str:
    return f"{request.id}:{request.version}"


def run_due_devrel_timers(client: WebClient, settings: Settings, now: datetime | None = None) -> int:
    """Expire, escalate and remind whatever is due at `now`; returns how many timers fired.

    Safe to run on every replica at once: each timer is claimed by a guarded UPDATE before anything is
    sent, so only one replica acts on it. A reminder is a scheduled post (`bot.outbox.post_claimed`):
    sent once, retried at the next tick when it did not reach Slack, never sent twice.
    """
    now = now or clock.now()
    policy = policy_for(settings)
    due = devrel.due_timers(now=now)
    fired = 0
    for request_id, version in due.expire:
        fired += _fire(client, settings, lambda: devrel.expire(request_id, version, now=now), now)
    for request_id, version in due.escalate:
        fired += _fire(client, settings, lambda: devrel.escalate(request_id, version, policy=policy, now=now), now)
    owner = claims.process_owner()
    for request_id in due.remind:
        fired += _remind(client, settings, request_id, now=now, owner=owner)
    fired += send_lost_asks(client, settings, now)
    return fired


def _remind(client: WebClient, settings: Settings, request_id: int, *, now: datetime, owner: str) -> int:
    """Send one due reminder once: a refused DM is sent at the next tick, one whose answer was lost is
    looked for in the DM first; it is marked reminded only once it is in Slack."""
    request = devrel.get_request(request_id)
    period = _reminder_period(request)
    if not claims.claim(REMINDER_JOB, period, owner=owner, now=now):
        return 0
    try:
        posted = send_reminder(client, settings, request, now=now, owner=owner)
    except Exception as error:
        claims.release(REMINDER_JOB, period, f"{type(error).__name__}: {error}", owner=owner, now=now, unsure=True)
        log.exception("a DevRel reminder failed; it is retried at the next tick")
        return 0
    if posted is None or posted.landed:
        devrel.claim_reminder(request_id, now=now)  # marks it reminded, with its event in the history
        claims.complete(REMINDER_JOB, period, owner=owner, now=now)
    elif posted.outcome == "refused":
        log.warning("a DevRel reminder DM failed (%s); it is retried at the next tick", posted.error)
    else:
        log.warning("a DevRel reminder DM may not have arrived (%s); the next tick looks for it before sending it "
                    "again", posted.error)
    return 1 if posted is not None and posted.outcome == "posted" else 0


def send_lost_asks(client: WebClient, settings: Settings, now: datetime) -> int:
    """Send the asks whose process stopped between deciding them and posting them; each once."""
    owner = claims.process_owner()
    sent = 0
    for request_id, version in devrel.unannounced_asks(now=now, grace=LOST_ASK_AFTER):
        period = f"{request_id}:{version}"
        if not claims.claim(LOST_ASK_JOB, period, owner=owner, now=now):
            continue
        try:
            request = devrel.get_request(request_id)
            asked = request.candidate_id
            if request.version != version or request.state is not RequestState.asking or asked is None:
                claims.complete(LOST_ASK_JOB, period, owner=owner, now=now)
                continue
            zones = Zones(client, settings, request)
            ask = blocks.devrel_message(request, recipient_id=asked, zone=zones.of(asked),
                                        requester_zone=zones.of(request.requester_id),
                                        lead_channel=settings.devrel_channel, now=now)
            if _post_kept(client, request.id, asked, ask, audience="ask", recipient_id=asked):
                claims.complete(LOST_ASK_JOB, period, owner=owner, now=now)
                log.info("sent a DevRel ask that a stopped process had not delivered (request %s)", request_id)
                sent += 1
            else:
                claims.release(LOST_ASK_JOB, period, "the ask could not be posted", owner=owner, now=now)
        except Exception as error:
            claims.release(LOST_ASK_JOB, period, f"{type(error).__name__}: {error}", owner=owner, now=now)
            log.exception("a lost DevRel ask could not be sent; it is retried at a later tick")
    return sent


def _fire(client: WebClient, settings: Settings, transition: Any, now: datetime) -> int:
    try:
        update = transition()
        if update is None:
            return 0
        publish(client, settings, update, now=now)
        return 1
    except Exception:
        log.exception("a DevRel timer failed; it is retried at the next tick")
        return 0
