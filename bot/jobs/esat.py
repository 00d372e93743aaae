"""The one ESAT reminder: two days after an unanswered question, then nothing more."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import engagements as blocks
from bot.config import Settings
from bot.services import esat

log = logging.getLogger(__name__)


def send_due_esat_reminders(client: WebClient, settings: Settings, now: datetime) -> int:
    """DM each owner whose ESAT question is two days old and unanswered; returns how many were sent.

    Each reminder is claimed in the database before it is sent, so of several replicas ticking at once
    only one sends it. When Slack refuses the DM the claim is given back for the next tick; when the
    connection drops we cannot know whether it arrived, and a second reminder would be worse than none.
    """
    sent = 0
    for prompt in esat.due_reminders(now):
        if not esat.claim_reminder(prompt.survey_id, now):
            continue
        try:
            client.chat_postMessage(channel=prompt.owner_id, **blocks.esat_message(prompt))
        except SlackApiError as error:
            log.warning("the ESAT reminder DM failed (%s); the next tick tries again", error.response.get("error"))
            esat.release_reminder(prompt.survey_id)
            continue
        except Exception:
            log.exception("the ESAT reminder DM may not have arrived; it is not sent again")
            continue
        sent += 1
    return sent
