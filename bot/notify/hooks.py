"""Telling the admins that epos gave up on a stage webhook call: one DM each, claimed, never twice."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot import outbox
from bot.blocks import hooks as blocks
from bot.config import Settings
from bot.services import claims, hooks

log = logging.getLogger(__name__)


def tell_admins(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
    """DM every admin about each call given up lately that they have not heard of; returns the DMs sent.
    A DM Slack refused is sent again at a later tick (for ALERT_WITHIN); `epos doctor` lists the calls anyway."""
    sent = 0
    for call in hooks.unalerted(now):
        if not settings.epos_admins:
            log.warning("gave up on a stage webhook call and EPOS_ADMINS is empty, so nobody is told; "
                        "`epos doctor` lists it")
            hooks.mark_alerted(call.delivery_id, now)
            continue
        message = blocks.gave_up_message(call, settings.timezone)
        everyone = True
        for admin in settings.epos_admins:
            period = f"{call.delivery_id}:{admin}"
            if not claims.claim(hooks.ALERT_JOB, period, owner=owner, now=now):
                state = claims.state(hooks.ALERT_JOB, period)
                everyone = everyone and state is not None and state.done
                continue
            posted = outbox.post_claimed(client, hooks.ALERT_JOB, period, admin, owner=owner, now=now,
                                         text=message["text"], blocks=message.get("blocks"))
            if posted.landed:
                claims.complete(hooks.ALERT_JOB, period, owner=owner, now=now)
                sent += posted.outcome == "posted"
            else:
                everyone = False
                log.warning("could not tell an admin of a stage webhook given up (%s); a later tick tries again",
                            posted.error)
        if everyone:
            hooks.mark_alerted(call.delivery_id, now)
    return sent
