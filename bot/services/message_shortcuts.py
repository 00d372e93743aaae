"""What the message shortcuts make of a Slack message: a search query, an engagement note (clipped to
fit, and saying so), a DevRel brief, and which of the person's open engagements the conversation is for."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from pydantic import BaseModel

from bot import db
from bot.search.vocabulary import MAX_QUERY_CHARS
from bot.services.devrel_drafts import open_engagements
from bot.services.engagements import NOTE_LIMIT
from bot.services.interactions import engagement_of_channel
from models.schemas.devrel import EngagementChoice

# The DevRel form's "What the customer asked" holds 2,000 characters.
BRIEF_LIMIT = 2000
# Notes are shown escaped, so a mention would read as its id: the link leads to the author instead.
FROM_MESSAGE = "From a Slack message: {permalink}"
FROM_MESSAGE_NO_LINK = "From a Slack message."
CLIPPED = "[… clipped: the message is {length:,} characters and a note holds {limit:,}; {rest}]"
REST_AT_LINK = "the whole message is at the link"
REST_IN_CONVERSATION = "the whole message stays in its conversation"


class MessageNote(BaseModel, frozen=True):
    """A message as an engagement note: the note's text, and whether the message had to be clipped."""

    text: str
    clipped: bool = False
    message_length: int = 0


class Brief(BaseModel, frozen=True):
    """A message as the start of a DevRel request: what the customer asked, and the deal channel's
    engagement, if the message is in one."""

    asked: str
    clipped: bool = False
    engagement_id: int | None = None


class NoteChoices(BaseModel, frozen=True):
    """The person's open engagements, and the one the conversation is the deal channel of, if theirs."""

    engagements: list[EngagementChoice]
    selected: EngagementChoice | None = None


# Slack's markup in a message's text: <@U…>, <@U…|name>, <#C…|name>, <!here>, <!subteam^S…|@team>,
# <!date^…|fallback>, <https://…|label>, <https://…>.
_MARKUP = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def readable(text: str, name_of: Callable[[str], str]) -> str:
    """A message's text as a person reads it in Slack: people and channels by name, links with their
    labels, Slack's escapes undone; for a note or a brief that is read outside that message."""
    def plain(match: re.Match[str]) -> str:
        kind, target, label = match.group(1), match.group(2), match.group(3)
        if kind == "@":
            return "@" + (label or name_of(target))
        if kind == "#":
            return "#" + (label or "channel")
        if kind == "!":
            return label or "@" + target.split("^")[0]
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_MARKUP.sub(plain, text))


def message_query(text: str) -> str:
    """A message's words as one line, as long as a search reads: line breaks would break the answer's
    header, and words past the limit are never read."""
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def note_from_message(text: str, permalink: str | None) -> MessageNote:
    """The message's text followed by where it came from; a message too long for a note is clipped at the
    end, with a line saying so and pointing at the whole of it."""
    source = FROM_MESSAGE.format(permalink=permalink) if permalink else FROM_MESSAGE_NO_LINK
    body = text.strip()
    whole = f"{body}\n\n{source}" if body else source
    if len(whole) <= NOTE_LIMIT:
        return MessageNote(text=whole, message_length=len(body))
    marker = CLIPPED.format(length=len(body), limit=NOTE_LIMIT,
                            rest=REST_AT_LINK if permalink else REST_IN_CONVERSATION)
    room = NOTE_LIMIT - len(source) - len(marker) - 4
    kept = body[:max(0, room)].rstrip()
    return MessageNote(text=f"{kept}\n{marker}\n\n{source}", clipped=True, message_length=len(body))


def brief_from_message(text: str, channel_id: str | None) -> Brief:
    """The message as the DevRel brief's "What the customer asked" (clipped to fit, and saying so), with
    the engagement whose deal channel it is in."""
    body = text.strip()
    clipped = len(body) > BRIEF_LIMIT
    if clipped:
        body = body[:BRIEF_LIMIT - 1].rstrip() + "…"
    engagement_id = None
    if channel_id:
        with db.reading() as session:
            engagement_id = engagement_of_channel(session, channel_id)
    return Brief(asked=body, clipped=clipped, engagement_id=engagement_id)


def note_choices(user_id: str, channel_id: str | None) -> NoteChoices:
    """The engagements a message can be added to by this person (their open ones, as SE or seller), with
    the deal channel's engagement picked when the message is in one of theirs."""
    choices = open_engagements(user_id)
    selected = None
    if channel_id and choices:
        with db.reading() as session:
            channel_engagement = engagement_of_channel(session, channel_id)
        selected = next((c for c in choices if c.id == channel_engagement), None)
    return NoteChoices(engagements=choices, selected=selected)
