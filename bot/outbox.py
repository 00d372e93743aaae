"""Posting from scheduled jobs: paced per channel, with Slack's own retry handlers underneath.

Slack allows about one message per second per channel (short bursts pass). Jobs post through here so
that a digest, its thread reply and its chart, or a burst of DMs, never exceed that. The WebClient
(`bot.app.make_client`) already retries 429s after `Retry-After`, 5xx answers and dropped
connections a bounded number of times; what still fails reaches the caller as `SlackApiError`, which
jobs turn into a released claim (retried at a later tick).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.web import SlackResponse

from bot import sharing

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
) -> SlackResponse:
    """`chat.postMessage`, paced. A channel may be a user id, which posts to the bot's DM with them.
    What jobs post is internal: a conversation shared with another organisation raises SharedConversation."""
    sharing.check(client, channel)
    (pacer or PACER).wait_turn(channel)
    return client.chat_postMessage(
        channel=channel, text=text, blocks=list(blocks) if blocks is not None else None, thread_ts=thread_ts,
        unfurl_links=False, unfurl_media=False,
    )


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
