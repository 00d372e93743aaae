"""One error handler for every listener: expected errors become clear messages, the rest an apology with a reference."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import db
from bot.config import Settings
from bot.errors import EposError
from bot.logs import correlation_id
from handlers import payload
from bot.services.deliveries import Repeated
from handlers.middleware import delivery_failed, repeated

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side and nothing was changed. If it happens again, quote reference `{ref}`."
SLACK_TROUBLE = "Slack did not accept epos's reply ({error}). {advice} If it keeps happening, quote reference `{ref}`."
SLACK_UNREACHABLE = ("epos could not reach Slack just now, so it could not finish. Please try again in a minute. "
                     "If it keeps happening, quote reference `{ref}`.")
DATABASE_DOWN = ("epos's database did not answer in time, so nothing was changed. Please try again in a "
                 "minute. If it keeps happening, quote reference `{ref}`.")
TRY_AGAIN = "Please try again in a minute."
INVITE = "Invite epos to the conversation with `/invite @epos`, then try again."
CHECK_TOKEN = "epos's connection to Slack needs attention: ask whoever runs epos to check its bot token."
SLACK_ADVICE = {
    "ratelimited": "Slack asked epos to slow down. " + TRY_AGAIN,
    "channel_not_found": INVITE,
    "not_in_channel": INVITE,
    "is_archived": "That conversation is archived; unarchive it or use another one.",
    "user_not_found": "Slack does not know that person any more; check they are still in the workspace.",
    "invalid_auth": CHECK_TOKEN,
    "not_authed": CHECK_TOKEN,
    "token_revoked": CHECK_TOKEN,
    "account_inactive": CHECK_TOKEN,
}


def user_message(error: Exception, ref: str) -> str:
    if isinstance(error, EposError):
        return str(error)
    if db.unavailable(error):
        return DATABASE_DOWN.format(ref=ref)
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or "unknown error")
        return SLACK_TROUBLE.format(error=code, advice=SLACK_ADVICE.get(code, TRY_AGAIN), ref=ref)
    if isinstance(error, OSError):
        # Dropped connections and timeouts once the client's own retries are spent (URLError,
        # RemoteDisconnected and TimeoutError are all OSErrors).
        return SLACK_UNREACHABLE.format(ref=ref)
    return APOLOGY.format(ref=ref)


def tell_user(client: WebClient, body: dict[str, Any], text: str) -> None:
    """Reach the person who acted: their response_url when there is one, else a DM from the bot."""
    url, user = payload.response_url(body), payload.user_id(body)
    try:
        if url:
            WebhookClient(url).send(text=text, response_type="ephemeral", replace_original=False)
        elif user:
            client.chat_postMessage(channel=user, text=text)
    except Exception:
        log.warning("could not tell the user about an error", exc_info=True)


def report(error: Exception, handling: str | None) -> str:
    """Log an error as its kind deserves, under a new reference; the message for the person who acted."""
    ref = correlation_id()
    tagged = {"correlation_id": ref}
    if isinstance(error, EposError):
        log.info("ref=%s %s: %s", ref, type(error).__name__, error, extra=tagged)
    elif db.unavailable(error):
        log.warning("ref=%s the database did not answer while handling a %s: %s", ref, handling, error, extra=tagged)
    elif isinstance(error, SlackApiError):
        log.warning("ref=%s Slack refused a call while handling a %s: %s", ref, handling, error.response.get("error"),
                    extra=tagged)
    elif isinstance(error, OSError):
        log.warning("ref=%s could not reach Slack while handling a %s: %s", ref, handling, error, extra=tagged)
    else:
        log.error("ref=%s unexpected error while handling a %s", ref, handling, exc_info=error, extra=tagged)
    return user_message(error, ref)


def register(app: App, settings: Settings) -> None:
    @app.error
    def handle_error(error: Exception, body: dict[str, Any], client: WebClient, context: BoltContext,
                     response: BoltResponse | None) -> None:
        # What follows (giving the claim back, telling the person) must not meet the delivery's own check.
        db.check_before_writing(None)
        if isinstance(error, Repeated):
            log.info("ignored a repeated delivery (%s, found before its first write)", error.claim.kind)
            if response is not None:  # not yet answered: answer as the copy it is, not with an error
                answer = repeated(body, error.claim.seen)
                response.status, response.body, response.headers = answer.status, answer.body, answer.headers
            return
        # First: once the person reads the apology they may send the same thing again. This request's own
        # claim: another copy of the delivery, handled meanwhile, keeps its own.
        delivery_failed(body, context)
        tell_user(client, body, report(error, body.get("type") or body.get("command")))
