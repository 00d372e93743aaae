"""Posting from scheduled jobs: paced per channel, with Slack's own retry handlers underneath, and
never twice.

Slack allows about one message per second per channel (short bursts pass). Jobs post through here so
that a digest, its thread reply and its chart, or a burst of DMs, never exceed that. The WebClient
(`bot.app.make_client`) already retries 429s after `Retry-After`, 5xx answers and dropped
connections a bounded number of times.

Every scheduled post goes through `post_claimed`, the one policy: a post Slack accepted is never
posted again, and a post that never reached Slack is posted at a later tick. `chat.postMessage` has
no idempotency key, so each post carries its claim (job and period) in the message's `metadata`, and
the claim is marked unsure before sending. A refusal from Slack is certain (the claim is released and
simply posted again later); no answer (a timeout after Slack accepted it, a dropped connection, a
process that stopped) leaves the claim unsure, and its next holder reads the channel's recent
history for a message carrying that metadata before it posts again.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import Block
from slack_sdk.web import SlackResponse

from bot import sharing
from bot.services import claims
from bot.sharing import SharedConversation

log = logging.getLogger(__name__)

PER_CHANNEL_INTERVAL = 1.0


class Pacer:
    """At most one send per `interval` seconds per channel, across the threads of this process.

    Each caller reserves the next free slot of its channel under a lock and then sleeps outside it,
    so channels never wait on one another."""

    def __init__(
        self,
        interval: float = PER_CHANNEL_INTERVAL,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def wait_turn(self, channel: str) -> float:
        """Block until `channel` may be posted to; returns the seconds waited."""
        with self._lock:
            current = self._monotonic()
            slot = max(current, self._next_slot.get(channel, current))
            self._next_slot[channel] = slot + self.interval
            if len(self._next_slot) > 10_000:
                self._forget_idle(current)
        wait = slot - current
        if wait > 0:
            self._sleep(wait)
        return wait

    def _forget_idle(self, current: float) -> None:
        for channel in [c for c, slot in self._next_slot.items() if slot < current]:
            del self._next_slot[channel]


PACER = Pacer()


def post(
    client: WebClient,
    channel: str,
    *,
    text: str,
    blocks: Sequence[Block | dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    pacer: Pacer | None = None,
    metadata: dict[str, Any] | None = None,
) -> SlackResponse:
    """`chat.postMessage`, paced. A channel may be a user id, which posts to the bot's DM with them.
    What jobs post is internal: a conversation shared with another organisation raises SharedConversation."""
    sharing.check(client, channel)
    (pacer or PACER).wait_turn(channel)
    return client.chat_postMessage(
        channel=channel, text=text, blocks=list(blocks) if blocks is not None else None, thread_ts=thread_ts,
        unfurl_links=False, unfurl_media=False, metadata=metadata,
    )


# ----- scheduled posts: exactly once -----------------------------------------------------------------
METADATA_EVENT = "epos_scheduled_post"
HISTORY_PAGE = 200
HISTORY_PAGES = 5


@dataclass(frozen=True)
class Posted:
    """What became of a claimed post. `channel` and `ts` are set when it is in Slack."""

    outcome: Literal["posted", "found", "refused", "unsure"]
    channel: str = ""
    ts: str = ""
    error: str = ""

    @property
    def landed(self) -> bool:
        """In Slack now: posted by this call, or found from an earlier attempt whose answer was lost."""
        return self.outcome in ("posted", "found")


def claim_metadata(job: str, period: str) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"job": job, "period": period}}


# Slack's answers that say something went wrong on its side: the post may well have landed all the same.
SLACK_SIDE = frozenset({"fatal_error", "internal_error", "unknown_error", "request_timeout", "service_unavailable"})
_single_senders: weakref.WeakKeyDictionary[WebClient, WebClient] = weakref.WeakKeyDictionary()
_single_senders_lock = threading.Lock()


def single_send(client: WebClient) -> WebClient:
    """The same client, retrying only what Slack turned away unseen (429). A scheduled post must not be
    sent again by the client itself after a dropped connection or a 5xx: Slack may have it already, and
    only the claim's look in the channel can tell."""
    with _single_senders_lock:
        sender = _single_senders.get(client)
        if sender is None:
            sender = copy.copy(client)
            sender.retry_handlers = [h for h in client.retry_handlers if isinstance(h, RateLimitErrorRetryHandler)]
            _single_senders[client] = sender
        return sender


def _not_landed(job: str, period: str, error: Exception, *, owner: str, now: datetime) -> Posted:
    """Release the claim of a send that raised. Certain that nothing landed: epos's own refusal to post into
    a shared conversation, or Slack's refusal (after a 429, its retries). Anything else (a 5xx, a dropped
    connection, a timeout) may have landed: unsure, and the next holder looks in the channel first."""
    if isinstance(error, SharedConversation):
        claims.release(job, period, f"{error.code}: {error}", owner=owner, now=now)
        return Posted("refused", error=error.code)
    reason = _reason(error)
    certain = isinstance(error, SlackApiError) and (
        getattr(error.response, "status_code", 200) < 500 and error.response.get("error") not in SLACK_SIDE)
    claims.release(job, period, reason, owner=owner, now=now, unsure=not certain)
    return Posted("refused" if certain else "unsure", error=reason)


def post_claimed(
    client: WebClient,
    job: str,
    period: str,
    channel: str,
    *,
    owner: str,
    now: datetime,
    text: str,
    blocks: Sequence[Block | dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    pacer: Pacer | None = None,
) -> Posted:
    """Post what the caller's claim (job, period) stands for, unless an earlier attempt already did.

    The caller holds the claim and completes it when the result `landed`; a post that did not land has
    already released it here (unsure or not), for a later tick."""
    state = claims.state(job, period)
    if state is not None and state.unsure:
        try:
            found = find_posted(client, channel, job, period, thread_ts=thread_ts)
        except (SlackApiError, OSError) as error:
            reason = _reason(error)
            claims.release(job, period, f"could not read the channel to check an earlier post: {reason}",
                           owner=owner, now=now, unsure=True)
            log.warning("%s %s: an earlier post's answer was lost and the channel could not be read to check it "
                        "(%s); it is checked again at a later tick", job, period, reason)
            return Posted("unsure", error=reason)
        if found is not None:
            log.info("%s %s: an earlier post that Slack accepted without answering in time was found; "
                     "it is not posted again", job, period)
            return Posted("found", channel=found[0], ts=found[1])
    if not claims.mark_posting(job, period, owner=owner, now=now):
        return Posted("refused", error="the claim was taken over by another process")
    try:
        response = post(single_send(client), channel, text=text, blocks=blocks, thread_ts=thread_ts, pacer=pacer,
                        metadata=claim_metadata(job, period))
    except (SharedConversation, SlackApiError, OSError) as error:
        return _not_landed(job, period, error, owner=owner, now=now)
    except BaseException as error:
        claims.release(job, period, f"{type(error).__name__}: {error}", owner=owner, now=now, unsure=True)
        raise
    return Posted("posted", channel=str(response["channel"]), ts=str(response["ts"]))


def find_posted(
    client: WebClient, channel: str, job: str, period: str, *, thread_ts: str | None = None
) -> tuple[str, str] | None:
    """(channel, ts) of a recent message in `channel` (or in the thread under `thread_ts`) carrying this
    claim's metadata; None when there is none. A user id is looked up in the bot's DM with them.

    The newest messages are read (up to HISTORY_PAGES pages), not those since our own clock's time of the
    attempt: Slack's clock is the one its `ts` follow, and the unsure post is among the latest anyway."""
    if channel[:1] in ("U", "W"):
        channel = str(client.conversations_open(users=channel)["channel"]["id"])
    wanted = claim_metadata(job, period)
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        if thread_ts:
            page = client.conversations_replies(channel=channel, ts=thread_ts, limit=HISTORY_PAGE,
                                                include_all_metadata=True, cursor=cursor)
        else:
            page = client.conversations_history(channel=channel, limit=HISTORY_PAGE, include_all_metadata=True,
                                                cursor=cursor)
        for message in page.get("messages") or []:
            if message.get("metadata") == wanted:
                return channel, str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    return None


def upload_claimed(
    client: WebClient,
    job: str,
    period: str,
    channel: str,
    *,
    thread_ts: str,
    owner: str,
    now: datetime,
    content: bytes,
    filename: str,
    title: str,
    alt_text: str | None = None,
    pacer: Pacer | None = None,
) -> Posted:
    """`post_claimed` for a file shared into a thread. A file carries no message metadata, so an earlier
    attempt whose answer was lost is looked for by its `filename`, which must be unique to the claim."""
    state = claims.state(job, period)
    if state is not None and state.unsure:
        try:
            found = find_uploaded(client, channel, thread_ts, filename)
        except (SlackApiError, OSError) as error:
            reason = _reason(error)
            claims.release(job, period, f"could not read the thread to check an earlier upload: {reason}",
                           owner=owner, now=now, unsure=True)
            return Posted("unsure", error=reason)
        if found is not None:
            return Posted("found", channel=channel, ts=found)
    if not claims.mark_posting(job, period, owner=owner, now=now):
        return Posted("refused", error="the claim was taken over by another process")
    try:
        upload(single_send(client), channel, content=content, filename=filename, title=title, thread_ts=thread_ts,
               alt_text=alt_text, pacer=pacer)
    except (SharedConversation, SlackApiError, OSError) as error:
        return _not_landed(job, period, error, owner=owner, now=now)
    except BaseException as error:
        claims.release(job, period, f"{type(error).__name__}: {error}", owner=owner, now=now, unsure=True)
        raise
    return Posted("posted", channel=channel)


def find_uploaded(client: WebClient, channel: str, thread_ts: str, filename: str) -> str | None:
    """The ts of a message in the thread sharing a file named `filename`; None when there is none."""
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_replies(channel=channel, ts=thread_ts, limit=HISTORY_PAGE, cursor=cursor)
        for message in page.get("messages") or []:
            if any(f.get("name") == filename for f in message.get("files") or []):
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    return None


def _reason(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "unknown_error"))
    return f"{type(error).__name__}: {error}"


def upload(
    client: WebClient,
    channel: str,
    *,
    content: bytes,
    filename: str,
    title: str,
    thread_ts: str | None = None,
    alt_text: str | None = None,
    comment: str | None = None,
    pacer: Pacer | None = None,
) -> SlackResponse:
    """`files_upload_v2` into a channel (and thread), paced like a message since it posts one; internal,
    like `post`."""
    sharing.check(client, channel)
    (pacer or PACER).wait_turn(channel)
    return client.files_upload_v2(
        channel=channel, thread_ts=thread_ts, file=content, filename=filename, title=title, alt_txt=alt_text,
        initial_comment=comment,
    )
