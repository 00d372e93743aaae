"""Playbook posts that list an asset archived by an import or the command line are redrawn at the next
tick; an archive in Slack redraws them at once. A redraw is an edit of the same message, so two replicas
doing the same one change nothing more."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient

from bot.config import Settings
from bot.notify import engagements as notify


def redraw_withdrawn_playbooks(client: WebClient, settings: Settings, now: datetime) -> int:
    return notify.redraw_playbooks(client)
