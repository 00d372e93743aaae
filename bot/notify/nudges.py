"""The stale-engagement DM: one per SE and day, with every engagement that has gone quiet."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot import outbox
from bot.blocks import nudges as blocks
from models.schemas.nudges import SeNudge


def send(client: WebClient, nudge: SeNudge, zone: ZoneInfo, *, cooldown_days: int, job: str, period: str,
         owner: str, now: datetime) -> outbox.Posted:
    """DM the SE their nudge, as a scheduled post claimed as `job:period` by the caller."""
    content, text = blocks.nudge_message(nudge, zone, cooldown_days=cooldown_days)
    return outbox.post_claimed(client, job, period, nudge.owner_id, owner=owner, now=now, text=text, blocks=content)
