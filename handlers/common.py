"""What every command listener needs before it reads what was typed."""

from __future__ import annotations

from typing import Any

from bot.errors import InvalidInput

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
