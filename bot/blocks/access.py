"""What epos shows someone it does not serve: a guest, a user of another organisation, a deactivated
account or a bot. One short answer that names nothing (no account, asset, person or count), the same
whatever they tried, so it tells them nothing about what epos holds."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.blocks.text import clip

NOT_AVAILABLE = "Sorry, epos is not available to you."
# When Slack cannot say who is asking, nobody is let in on a guess; our members just try again.
CANNOT_CHECK = "epos could not check who you are just now, so nothing was done. Please try again in a minute."
# Once Slack has said the bot token is gone, nobody can be looked up; every member is told why.
TOKEN_GONE = ("epos's connection to Slack needs attention, so nothing was done: ask whoever runs epos to check "
              "its bot token.")
TITLE = "epos"
CLOSE = "Close"


def message(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


def modal(text: str) -> dict[str, Any]:
    return View(type="modal", title=clip(TITLE, 24), close=CLOSE,
                blocks=[SectionBlock(text=MarkdownTextObject(text=text))]).to_dict()


def home(text: str) -> dict[str, Any]:
    """Published over whatever Home the person saw before (say, as a member, before becoming a guest)."""
    return View(type="home", blocks=[SectionBlock(text=MarkdownTextObject(text=text))]).to_dict()
