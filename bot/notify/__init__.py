"""Every Slack message epos sends because something changed: posts, DMs, redraws of stored messages and
App Home republishes, one module per domain. Handlers call it after a service has changed something;
scheduled jobs call it after they have claimed what is due. It renders with `bot.blocks` and holds no
business rule; it is also the one place that knows which timezone a person sees (`zones`)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


def dm(client: WebClient, user: str, message: dict[str, Any]) -> bool:
    """A message from the bot to one person; best effort, since what it reports already happened."""
    try:
        client.chat_postMessage(channel=user, **message)
        return True
    except SlackApiError as error:
        log.warning("could not message a user: %s", error.response.get("error"))
        return False
