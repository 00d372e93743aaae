"""What listeners share: who acted, answering them (privately, by DM), the settings, a command's text read
within bounds, a form answered when the database does not."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import db
from bot.errors import InvalidInput
from handlers.errors import report
from handlers.payload import user_id

log = logging.getLogger(__name__)

__all__ = ["user_id"]

# Longer than any command means: an account name (200), a stage and a note (2,000). Reading an account
# and a stage out of the text tries every split of it, so its cost grows with the square of its length;
# past this limit the text is refused before anything is parsed.
COMMAND_TEXT_LIMIT = 2_500
TOO_LONG = ("That is {length:,} characters after `{command}`; it takes at most {limit:,}. Nothing was done: "
            "shorten it and try again.")


def command_text(command: dict[str, Any]) -> str:
    """The text typed after a slash command, or InvalidInput saying it is too long and what the limit is."""
    text = str(command.get("text") or "")
    if len(text) > COMMAND_TEXT_LIMIT:
        raise InvalidInput(TOO_LONG.format(length=len(text), command=command.get("command") or "the command",
                                           limit=COMMAND_TEXT_LIMIT))
    return text


def answered_on_the_form(listener: Callable[..., None]) -> Callable[..., None]:
    """A form listener whose database does not answer in time answers the form, on its first field,
    with what happened (nothing was saved) while the person still waits on it.

    The error handler cannot: Bolt answers 500 to a form whose listener raised before acking, whatever
    the handler acks, and Slack then shows only "trouble connecting"."""

    @functools.wraps(listener)
    def answering(**kwargs: Any) -> None:
        try:
            listener(**kwargs)
        except Exception as error:
            ack, body = kwargs["ack"], kwargs["body"]
            field = first_input(body)
            if not db.unavailable(error) or ack.response is not None or field is None:
                raise
            ack(response_action="errors", errors={field: report(error, "view_submission")})

    return answering


def first_input(body: dict[str, Any]) -> str | None:
    blocks = (body.get("view") or {}).get("blocks") or []
    return next((b["block_id"] for b in blocks if b.get("type") == "input" and b.get("block_id")), None)


def ephemeral(respond: Respond, message: dict[str, Any], *, replace: bool = False) -> None:
    """Answer only the person who acted, in the conversation they acted in."""
    respond(**message, response_type="ephemeral", replace_original=replace)


def dm(client: WebClient, user: str, message: dict[str, Any]) -> bool:
    """A message from the bot to one person; best effort, since what it reports already happened."""
    try:
        client.chat_postMessage(channel=user, **message)
        return True
    except SlackApiError as error:
        log.warning("could not message a user: %s", error.response.get("error"))
        return False
