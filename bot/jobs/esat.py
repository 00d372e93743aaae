"""The one ESAT reminder: two days after an unanswered question, then nothing more. Claimed here, sent by
`bot.notify.engagements`."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot.config import Settings
from bot.notify import engagements as notify
from bot.services import claims, esat

log = logging.getLogger(__name__)

REMINDER_JOB = "esat-reminder"


def send_due_esat_reminders(client: WebClient, settings: Settings, now: datetime, *, owner: str | None = None) -> int:
    """DM each owner whose ESAT question is two days old and unanswered; returns how many were sent.

    Each reminder is claimed (`esat-reminder:<survey>`) before it is sent, so of several replicas ticking
    at once only one sends it, and it goes through `bot.outbox.post_claimed`: a DM Slack refused is sent
    at the next tick, one whose answer was lost is looked for in the DM first, and none is sent twice.
    """
    owner = owner or claims.process_owner()
    sent = 0
    for prompt in esat.due_reminders(now):
        period = str(prompt.survey_id)
        if not claims.claim(REMINDER_JOB, period, owner=owner, now=now):
            continue
        posted = notify.remind_esat(client, prompt, job=REMINDER_JOB, period=period, owner=owner, now=now)
        if posted.outcome == "refused":
            log.warning("the ESAT reminder DM failed (%s); the next tick tries again", posted.error)
            continue
        if posted.outcome == "unsure":
            log.warning("the ESAT reminder DM may not have arrived (%s); the next tick looks for it in the DM and "
                        "sends it only if it is not there", posted.error)
            continue
        # Marks the survey reminded (false only if it was answered meanwhile, which changes nothing here).
        esat.claim_reminder(prompt.survey_id, now)
        claims.complete(REMINDER_JOB, period, owner=owner, now=now)
        sent += posted.outcome == "posted"
    return sent
