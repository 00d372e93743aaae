"""The DevRel request and decline modals."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.blocks.devrel_text import when
from bot.blocks.text import OPTION_TEXT, PRIVATE_METADATA, SECTION_TEXT, clip, escape, safe
from bot.codecs import Codec, EngagementButton
from bot.ids import DevRelIds
from models.schemas.devrel import DEFAULT_DURATION, MEETING_DURATIONS, DevRelRequestView, EngagementChoice

REQUEST_TITLE = "Request DevRel"
REQUEST_SUBMIT = "Ask DevRel"
REQUEST_INTRO = (
    "Bring a DevRel colleague into a customer meeting. The best-placed person on the roster gets your "
    "brief and answers with one click; if they can't, the next one is asked."
)

NO_MATCH = "No open engagement of yours matches “{typed}”; pick one below."
TIME_HINT_KNOWN = "In your timezone ({zone})."
TIME_HINT_UNKNOWN = "In your Slack timezone."
TIME_HINT_ASSUMED = "In {zone}, the team's timezone: Slack did not tell us yours."
TOPICS_HINT = "Separate topics with commas. Left empty, the engagement's focus is used."
RESERVE_HINT = ("Seen by you, the seller and the DevRel person who takes the request, once they have taken it; "
                "people asked before that don't see it. They won't bring it up unless you do.")
BRIEF_HEADING = "*Brief for the DevRel person*"
ASKED_CLIPPED = "From the message, clipped at the end to the 2,000 characters this field holds: keep what matters."
DECLINE_TITLE = "Decline request"
HAND_BACK_TITLE = "Hand back request"
HAND_BACK_HINT = "The requester reads it; epos then asks someone else."
REASON_HINT = "Optional. The requester sees it, so they know what to change next time."


def engagement_option(choice: EngagementChoice) -> Option:
    practice = " · practice" if choice.practice else ""
    return Option(text=clip(f"{choice.account} · {choice.stage.label}{practice}", OPTION_TEXT),
                  value=EngagementButton(id=choice.id).encode())


def request_modal(choices: Sequence[EngagementChoice], *, selected: EngagementChoice | None, typed: str = "",
                  timezone_name: str | None = None, assumed_timezone: bool = False,
                  metadata: dict[str, Any] | Codec | None = None, asked: str = "",
                  asked_clipped: bool = False) -> dict[str, Any]:
    """The request form. `timezone_name` is the requester's zone when known; `assumed_timezone` says it is
    the team's, because Slack did not give theirs. `asked`: the brief's question, prefilled (from a
    message), and whether it was clipped to fit."""
    if timezone_name is None:
        time_hint = TIME_HINT_UNKNOWN
    elif assumed_timezone:
        time_hint = TIME_HINT_ASSUMED.format(zone=timezone_name)
    else:
        time_hint = TIME_HINT_KNOWN.format(zone=timezone_name)
    options = [engagement_option(c) for c in choices[:100]]
    intro = REQUEST_INTRO
    if typed and selected is None:
        intro += "\n" + NO_MATCH.format(typed=clip(typed, 80))
    duration_options = [Option(text=f"{m} minutes", value=str(m)) for m in MEETING_DURATIONS]
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=escape(intro))]),
        InputBlock(
            block_id=DevRelIds.engagement_block, label="Engagement",
            element=StaticSelectElement(action_id=DevRelIds.engagement_select, placeholder="Pick one of your open engagements",
                                        options=options,
                                        initial_option=engagement_option(selected) if selected else None),
        ),
        InputBlock(block_id=DevRelIds.date_block, label="Meeting date",
                   element=DatePickerElement(action_id=DevRelIds.date_picker, placeholder="Pick a date")),
        InputBlock(block_id=DevRelIds.time_block, label="Start time",
                   hint=time_hint,
                   element=TimePickerElement(action_id=DevRelIds.time_picker, placeholder="Pick a time")),
        InputBlock(
            block_id=DevRelIds.duration_block, label="Duration",
            element=StaticSelectElement(action_id=DevRelIds.duration_select, options=duration_options,
                                        initial_option=duration_options[MEETING_DURATIONS.index(DEFAULT_DURATION)]),
        ),
        InputBlock(
            block_id=DevRelIds.topics_block, label="Topics", optional=True, hint=TOPICS_HINT,
            element=PlainTextInputElement(action_id=DevRelIds.topics_input, max_length=500,
                                          placeholder="observability, kubernetes",
                                          initial_value=selected.focus if selected and selected.focus else None),
        ),
        InputBlock(
            block_id=DevRelIds.link_block, label="Meeting link", optional=True,
            element=PlainTextInputElement(action_id=DevRelIds.link_input, max_length=2000,
                                          placeholder="https://meet.example.com/abc-defg"),
        ),
        SectionBlock(text=MarkdownTextObject(text=BRIEF_HEADING)),
        InputBlock(block_id=DevRelIds.asked_block, label="What the customer asked", optional=True,
                   hint=ASKED_CLIPPED if asked_clipped else None,
                   element=PlainTextInputElement(action_id=DevRelIds.asked_input, multiline=True, max_length=2000,
                                                 initial_value=asked[:2000] or None)),
        InputBlock(block_id=DevRelIds.promised_block, label="What has been promised", optional=True,
                   element=PlainTextInputElement(action_id=DevRelIds.promised_input, multiline=True, max_length=2000)),
        InputBlock(block_id=DevRelIds.reserve_block, label="What the seller holds in reserve", optional=True,
                   hint=RESERVE_HINT,
                   element=PlainTextInputElement(action_id=DevRelIds.reserve_input, multiline=True, max_length=2000)),
    ]
    view = View(type="modal", callback_id=DevRelIds.request_modal, title=REQUEST_TITLE, submit=REQUEST_SUBMIT,
                close="Cancel", blocks=blocks, private_metadata=metadata_json(metadata or {}))
    return view.to_dict()


def metadata_json(data: dict[str, Any] | Codec) -> str:
    text = data.encode() if isinstance(data, Codec) else json.dumps(data, separators=(",", ":"))
    if len(text) > PRIVATE_METADATA:
        raise ValueError("private_metadata too long")
    return text


def decline_modal(request: DevRelRequestView, *, zone: ZoneInfo, metadata: dict[str, Any] | Codec) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=clip(
            f"Decline DevRel for *{safe(request.engagement.account, 200)}* on "
            f"{when(request.meeting_start, request.duration_minutes, zone)}? The next person on the roster is asked.",
            SECTION_TEXT))),
        InputBlock(block_id=DevRelIds.reason_block, label="Reason", optional=True, hint=REASON_HINT,
                   element=PlainTextInputElement(action_id=DevRelIds.reason_input, max_length=300,
                                                 placeholder="e.g. on leave that afternoon")),
    ]
    view = View(type="modal", callback_id=DevRelIds.decline_modal, title=DECLINE_TITLE, submit="Decline", close="Back",
                blocks=blocks, private_metadata=metadata_json(metadata))
    return view.to_dict()


def hand_back_modal(request: DevRelRequestView, *, zone: ZoneInfo, metadata: dict[str, Any] | Codec) -> dict[str, Any]:
    """Why an assignee gives an accepted meeting back: required, since the requester is told."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=clip(
            f"Hand back the *{safe(request.engagement.account, 200)}* meeting on "
            f"{when(request.meeting_start, request.duration_minutes, zone)}? You leave it, and the request is asked "
            "of others on the roster as a new one would be.", SECTION_TEXT))),
        InputBlock(block_id=DevRelIds.hand_back_block, label="Reason", optional=False, hint=HAND_BACK_HINT,
                   element=PlainTextInputElement(action_id=DevRelIds.hand_back_input, max_length=300,
                                                 placeholder="e.g. called into an incident review")),
    ]
    view = View(type="modal", callback_id=DevRelIds.hand_back_modal, title=HAND_BACK_TITLE, submit="Hand back",
                close="Back", blocks=blocks, private_metadata=metadata_json(metadata))
    return view.to_dict()
