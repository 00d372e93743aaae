"""The small pieces every builder uses, with Slack's limits applied once, the same way everywhere.

Text that can grow with user data (labels, option text, titles) is clipped to Slack's limit with an
ellipsis, so a long account name shortens a button instead of failing the post. The number of blocks is
different: a message over 50 blocks is refused by Slack as a whole, and cutting the list would drop
whatever comes last (the buttons, the "…and 12 more" line) without anyone noticing. So each builder
that lists things budgets its own room and says what it left out, and `message` raises when a builder
got that wrong: a bug, caught by the builder's tests, never a quietly shortened message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.blocks.text import (
    BUTTON_TEXT,
    BUTTON_VALUE,
    FIELD_TEXT,
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    MODAL_TITLE,
    OPTION_TEXT,
    SECTION_TEXT,
    clip,
)

Message = dict[str, Any]
# The notification and fallback text; Slack keeps 40,000 characters, people read far fewer.
FALLBACK_TEXT = 3000


def message(text: str, blocks: Sequence[Block | dict[str, Any]]) -> Message:
    """`{"text": fallback, "blocks": [...]}` for chat.postMessage, chat.update or respond().

    ValueError when there are more than 50 blocks (see the module's docstring for why not cut them)."""
    if len(blocks) > MESSAGE_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; a message holds at most {MESSAGE_BLOCKS}")
    return {"text": clip(text, FALLBACK_TEXT),
            "blocks": [block if isinstance(block, dict) else block.to_dict() for block in blocks]}


def md(text: str, limit: int = SECTION_TEXT) -> MarkdownTextObject:
    """mrkdwn the caller has already made safe (see text.safe), clipped to `limit`."""
    return MarkdownTextObject(text=clip(text, limit))


def plain_text(text: str, limit: int = HEADER_TEXT) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit), emoji=True)


def button(label: str, action_id: str, value: str, *, style: str | None = None,
           confirm: ConfirmObject | None = None) -> ButtonElement:
    return ButtonElement(text=plain_text(label, BUTTON_TEXT), action_id=action_id, value=value[:BUTTON_VALUE],
                         style=style, confirm=confirm)


def option(label: str, value: str) -> Option:
    return Option(text=plain_text(label, OPTION_TEXT), value=value)


def text_input(block_id: str, label: str, *, action_id: str, initial: str | None = None, max_length: int = 200,
               optional: bool = False, multiline: bool = False, placeholder: str | None = None,
               hint: str | None = None) -> InputBlock:
    """A plain text input; an `initial` value longer than `max_length` is cut, or Slack refuses the view."""
    element = PlainTextInputElement(
        action_id=action_id,
        initial_value=initial[:max_length] if initial else None,
        max_length=max_length,
        multiline=multiline or None,
        placeholder=plain_text(placeholder) if placeholder else None,
    )
    return InputBlock(block_id=block_id, label=plain_text(label, FIELD_TEXT), element=element, optional=optional,
                      hint=plain_text(hint, FIELD_TEXT) if hint else None)


def modal(callback_id: str | None, title: str, blocks: Sequence[Block], *, submit: str | None = None,
          close: str | None = None, metadata: str = "") -> dict[str, Any]:
    """A modal view for views.open / views.update; title, submit and close are clipped to 24 characters."""
    view = View(
        type="modal",
        callback_id=callback_id,
        title=plain_text(title, MODAL_TITLE),
        submit=plain_text(submit, MODAL_TITLE) if submit else None,
        close=plain_text(close, MODAL_TITLE) if close else None,
        private_metadata=metadata or None,
        blocks=list(blocks),
    )
    return view.to_dict()
