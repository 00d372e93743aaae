"""Block Kit for the ends of a DevRel request's life that another change brings: an engagement's close
cancelling its asks and meetings (with Keep the meeting), a kept meeting, a requester's cancel."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, SectionBlock

from bot.blocks import kit
from bot.blocks.devrel_text import STATE_EMOJI, slack_date, when
from bot.blocks.text import escape, safe, user
from bot.codecs import RequestButton
from bot.ids import DevRelIds
from models.enums import RequestState
from models.schemas.devrel import DevRelRequestView, RequestUpdate

KEEP_BUTTON = "Keep the meeting"
MAX_KEEP_LINES = 10


def closed_notice(request: DevRelRequestView, recipient_id: str, *, zone: ZoneInfo) -> dict[str, Any]:
    """To the DevRel person asked or joining, when the engagement's close cancelled the request."""
    closer = request.cancelled_by_close() or request.requester_id
    account = safe(request.engagement.account, 200)
    meeting = when(request.meeting_start, request.duration_minutes, zone)
    if request.assignee_id == recipient_id:
        what = f"your DevRel meeting with *{account}* ({meeting}) is cancelled, and you won't be reminded of it"
    else:
        what = f"the DevRel request for the *{account}* meeting ({meeting}) you were asked to join is cancelled"
    text = f"{STATE_EMOJI[RequestState.cancelled]} {user(closer)} closed *{account}*, so {what}. Nothing more to do."
    return kit.message(f"Your DevRel meeting with {escape(request.engagement.account)} is cancelled",
                       [SectionBlock(text=kit.md(text))])


def _keep_button(request: DevRelRequestView, index: int) -> ActionsBlock:
    """Keep the meeting, numbered: one answer may hold several."""
    value = RequestButton(request_id=request.id, version=request.version).encode()
    return ActionsBlock(elements=[kit.button(KEEP_BUTTON, f"{DevRelIds.keep}:{index}", value)])


def closed_requester_notice(update: RequestUpdate, *, zone: ZoneInfo) -> dict[str, Any]:
    """To the requester, when someone else's close of the engagement cancelled their request."""
    request = update.request
    account = safe(request.engagement.account, 200)
    meeting = when(request.meeting_start, request.duration_minutes, zone)
    emoji = STATE_EMOJI[RequestState.cancelled]
    blocks: list[Block] = []
    if request.assignee_id:
        name = escape(request.name_of(request.assignee_id))
        text = (f"{emoji} {user(update.actor_id)} closed *{account}*, which cancelled your DevRel meeting with *{name}* "
                f"({meeting}); {name} is told. If it still happens, press *{KEEP_BUTTON}*.")
        blocks.append(SectionBlock(text=kit.md(text)))
        blocks.append(_keep_button(request, 0))
    else:
        text = (f"{emoji} {user(update.actor_id)} closed *{account}*, which cancelled your DevRel request ({meeting}). "
                "If the meeting still happens, ask again with `/devrel`.")
        blocks.append(SectionBlock(text=kit.md(text)))
    return kit.message(f"{escape(request.engagement.account)} was closed, which cancelled your DevRel request", blocks)


def closed_with_engagement(updates: list[RequestUpdate]) -> list[Block]:
    """For the answer to a close: the DevRel asks and meetings it cancelled, each accepted meeting with
    Keep the meeting (numbered, so one answer may hold several)."""
    blocks: list[Block] = []
    for index, update in enumerate(updates[:MAX_KEEP_LINES]):
        request = update.request
        meeting = slack_date(request.meeting_start, when(request.meeting_start, request.duration_minutes, ZoneInfo("UTC")))
        emoji = STATE_EMOJI[RequestState.cancelled]
        if request.assignee_id:
            name = escape(request.name_of(request.assignee_id))
            text = (f"{emoji} The DevRel meeting with *{name}* on {meeting} is cancelled, and {name} is told. "
                    f"If it still happens, press *{KEEP_BUTTON}*.")
            blocks.append(SectionBlock(text=kit.md(text)))
            blocks.append(_keep_button(request, index))
        elif update.previous_id:
            name = escape(request.name_of(update.previous_id))
            blocks.append(SectionBlock(text=kit.md(
                f"{emoji} The DevRel request for the meeting on {meeting} is cancelled, and {name}, who was asked, is told.")))
        else:
            blocks.append(SectionBlock(text=kit.md(
                f"{emoji} The DevRel request for the meeting on {meeting} is cancelled and taken off the DevRel channel.")))
    if len(updates) > MAX_KEEP_LINES:
        blocks.append(ContextBlock(elements=[kit.md(
            f"And {len(updates) - MAX_KEEP_LINES} more, cancelled the same way; each requester and DevRel person "
            "is told of theirs.")]))
    return blocks


def kept_notice(request: DevRelRequestView, actor_id: str, *, zone: ZoneInfo) -> dict[str, Any]:
    """To the assignee, when the meeting a close cancelled is kept after all."""
    account = safe(request.engagement.account, 200)
    text = (f"{STATE_EMOJI[RequestState.accepted]} {user(actor_id)} kept the *{account}* meeting after all: "
            f"you're in the room again ({when(request.meeting_start, request.duration_minutes, zone)})"
            + (", and a reminder with the brief comes an hour before." if request.remind_at else "."))
    return kit.message(f"Your DevRel meeting with {escape(request.engagement.account)} is on again",
                       [SectionBlock(text=kit.md(text))])


def kept_answer(request: DevRelRequestView, *, zone: ZoneInfo) -> dict[str, Any]:
    """To whoever pressed Keep the meeting."""
    name = escape(request.name_of(request.assignee_id))
    text = (f"{STATE_EMOJI[RequestState.accepted]} The *{safe(request.engagement.account, 200)}* meeting "
            f"({when(request.meeting_start, request.duration_minutes, zone)}) is on again: {name} is told"
            + (" and is reminded an hour before." if request.remind_at else "."))
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def cancelled_notice(request: DevRelRequestView, *, zone: ZoneInfo) -> dict[str, Any]:
    text = (f"{STATE_EMOJI[RequestState.cancelled]} {user(request.requester_id)} cancelled the DevRel request for "
            f"*{safe(request.engagement.account, 200)}* ({when(request.meeting_start, request.duration_minutes, zone)}). "
            "Nothing more to do.")
    return kit.message("A DevRel request was cancelled", [SectionBlock(text=kit.md(text))])
