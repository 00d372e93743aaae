"""One error handler for every listener: expected errors become clear messages, the rest an apology with a reference."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.config import Settings
from bot.errors import EposError
from bot.logs import correlation_id

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side and nothing was changed. If it happens again, quote reference `{ref}`."
SLACK_TROUBLE = "Slack did not accept our reply ({error}). Please try again in a minute; reference `{ref}`."


def user_message(error: Exception, ref: str) -> str:
    if isinstance(error, EposError):
        return str(error)
    if isinstance(error, SlackApiError):
        return SLACK_TROUBLE.format(error=error.response.get("error", "unknown error"), ref=ref)
    return APOLOGY.format(ref=ref)


def tell_user(client: WebClient, body: dict[str, Any], text: str) -> None:
    """Reach the person who acted: their response_url when there is one, else a DM from the bot."""
    response_url = body.get("response_url") or next(
        (u.get("response_url") for u in body.get("response_urls") or []), None
    )
    user_id = body.get("user_id") or (body.get("user") or {}).get("id")
    try:
        if response_url:
            WebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=False)
        elif user_id:
            client.chat_postMessage(channel=user_id, text=text)
    except Exception:
        log.warning("could not tell the user about an error", exc_info=True)


def register(app: App, settings: Settings) -> None:
    @app.error
    def handle_error(error: Exception, body: dict[str, Any], client: WebClient) -> None:
        ref = correlation_id()
        if isinstance(error, EposError):
            log.info("ref=%s %s: %s", ref, type(error).__name__, error)
        else:
            log.error("ref=%s unexpected error while handling a %s", ref, body.get("type") or body.get("command"), exc_info=error)
        tell_user(client, body, user_message(error, ref))
