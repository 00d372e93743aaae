"""The review DMs: one to a verifier with their assets due, one to an admin with the admins' queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk import WebClient

from bot import outbox
from bot.blocks import asset_review as blocks
from models.schemas.assets import DueAsset


def send_review(client: WebClient, verifier_id: str, items: Sequence[DueAsset], *, job: str, period: str,
                owner: str, now: datetime) -> outbox.Posted:
    """DM the verifier their due assets, as a scheduled post claimed as `job:period` by the caller."""
    return outbox.post_claimed(client, job, period, verifier_id, owner=owner, now=now,
                               **blocks.review_message(items))


def send_admin_queue(client: WebClient, admin_id: str, proposals: Sequence[DueAsset], handed_over: Sequence[DueAsset],
                     *, archive_after_days: int, job: str, period: str, owner: str, now: datetime) -> outbox.Posted:
    message = blocks.admin_message(proposals, handed_over, archive_after_days=archive_after_days)
    return outbox.post_claimed(client, job, period, admin_id, owner=owner, now=now, **message)
