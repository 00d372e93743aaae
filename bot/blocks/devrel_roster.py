"""The DevRel roster: its list (`/devrel roster`) and the form to add or edit a person."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    PlainTextInputElement,
    SectionBlock,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import kit
from bot.blocks.devrel_forms import metadata_json
from bot.blocks.devrel_text import header_block
from bot.blocks.text import MESSAGE_BLOCKS, SECTION_TEXT, clip, escape, plural, safe, user
from bot.codecs import Codec
from bot.ids import DevRelIds
from models.schemas.devrel import MAX_CAPACITY, RequestUpdate, RosterMember

ROSTER_TITLE = "DevRel roster"
ROSTER_EMPTY = "The DevRel roster is empty."
ROSTER_EMPTY_NEXT_ADMIN = "Add people with *Add person*, or load a file with `epos roster import FILE`."
ROSTER_EMPTY_NEXT = "Ask an epos admin to add people, or to load a file with `epos roster import FILE`."
ROSTER_FOOTER = (
    "Load counts accepted meetings this week, in each person's timezone. "
    "Ask for someone with `/devrel ACCOUNT`."
)

ROSTER_MORE = "…and {count} more. `epos roster export` lists everyone."
SENT_ON = ("{requests} that {name} was asked about or due to join went to someone else, because they are {why}. "
           "Each requester and seller is told.")
ROSTER_FORM_TITLE_ADD = "Add DevRel person"
ROSTER_FORM_TITLE_EDIT = "Edit DevRel person"


def _member_line(member: RosterMember, today: date) -> str:
    status = member.status_on(today)
    icon = {"active": ":large_green_circle:", "inactive": ":white_circle:"}.get(status, ":palm_tree:")
    topics = safe(", ".join(member.topics), 600) if member.topics else "no topics"
    return clip(
        f"{icon} *{safe(member.name, 100)}* {user(member.slack_id)} · {escape(status)}\n"
        f"{topics} · {member.timezone} {member.work_start:%H:%M}–{member.work_end:%H:%M} · "
        f"{member.load_this_week}/{member.weekly_capacity} meetings this week",
        SECTION_TEXT,
    )


def roster_message(members: Sequence[RosterMember], *, admin: bool, today: date) -> dict[str, Any]:
    blocks: list[Block] = [header_block(ROSTER_TITLE)]
    if admin:
        blocks.append(ActionsBlock(elements=[kit.button("Add person", DevRelIds.roster_add, "add", style="primary")]))
    if not members:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=f"{ROSTER_EMPTY} {ROSTER_EMPTY_NEXT_ADMIN if admin else ROSTER_EMPTY_NEXT}")))
        return kit.message(ROSTER_EMPTY, blocks)
    per_member = 2 if admin else 1
    room = (MESSAGE_BLOCKS - len(blocks) - 2) // per_member
    shown = list(members)[:room]
    for member in shown:
        blocks.append(SectionBlock(block_id=f"roster:{member.slack_id}", text=MarkdownTextObject(text=_member_line(member, today))))
        if admin:
            toggle = (
                kit.button("Deactivate", DevRelIds.roster_deactivate, member.slack_id, confirm=ConfirmObject(
                    title="Deactivate?", confirm="Deactivate", deny="Keep active",
                    text=clip(f"{safe(member.name, 150)} will no longer be asked for DevRel requests. "
                              "Their history stays, and you can reactivate them.", 300)))
                if member.active else
                kit.button("Reactivate", DevRelIds.roster_reactivate, member.slack_id)
            )
            blocks.append(ActionsBlock(block_id=f"roster_actions:{member.slack_id}", elements=[
                kit.button("Edit", DevRelIds.roster_edit, member.slack_id), toggle]))
    footer = ROSTER_FOOTER
    if len(members) > len(shown):
        footer = ROSTER_MORE.format(count=len(members) - len(shown)) + " " + footer
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    active = sum(1 for m in members if m.active)
    return kit.message(f"DevRel roster: {active} active of {len(members)}", blocks)


def sent_on_note(updates: Sequence[RequestUpdate]) -> dict[str, Any] | None:
    """To the admin whose roster change took people's asks and meetings off them; None when it took none."""
    if not updates:
        return None
    first = updates[0]
    name = escape(first.request.name_of(first.previous_id))
    text = SENT_ON.format(requests=plural(len(updates), "DevRel request"), name=name, why=escape(first.reason))
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def roster_modal(member: RosterMember | None, *, metadata: dict[str, Any] | Codec) -> dict[str, Any]:
    """The admin form to add a person (member None) or edit one."""
    blocks: list[Block] = []
    if member is None:
        blocks.append(InputBlock(block_id=DevRelIds.roster_person_block, label="Person",
                                 element=UserSelectElement(action_id=DevRelIds.roster_person_select,
                                                           placeholder="Pick their Slack account")))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"Editing {user(member.slack_id)}")))
    blocks += [
        InputBlock(block_id=DevRelIds.roster_name_block, label="Name",
                   element=PlainTextInputElement(action_id=DevRelIds.roster_name_input, max_length=100,
                                                 initial_value=member.name if member else None,
                                                 placeholder="Lena Hoffmann")),
        InputBlock(block_id=DevRelIds.roster_topics_block, label="Topics of expertise",
                   hint="Separate topics with commas; requests are matched against these.",
                   element=PlainTextInputElement(action_id=DevRelIds.roster_topics_input, max_length=1000,
                                                 initial_value=", ".join(member.topics) if member and member.topics else None,
                                                 placeholder="observability, apm, opentelemetry")),
        InputBlock(block_id=DevRelIds.roster_timezone_block, label="Timezone",
                   hint="IANA name, as in their Slack profile: Europe/Berlin, America/New_York, Asia/Singapore.",
                   element=PlainTextInputElement(action_id=DevRelIds.roster_timezone_input, max_length=64,
                                                 initial_value=member.timezone if member else None,
                                                 placeholder="Europe/Berlin")),
        InputBlock(block_id=DevRelIds.roster_start_block, label="Working hours start",
                   element=TimePickerElement(action_id=DevRelIds.roster_start_picker,
                                             initial_time=f"{(member.work_start if member else time(9)):%H:%M}")),
        InputBlock(block_id=DevRelIds.roster_end_block, label="Working hours end",
                   element=TimePickerElement(action_id=DevRelIds.roster_end_picker,
                                             initial_time=f"{(member.work_end if member else time(17, 30)):%H:%M}")),
        InputBlock(block_id=DevRelIds.roster_capacity_block, label="Meetings per week",
                   hint="At this many accepted meetings in a week they are no longer asked.",
                   element=NumberInputElement(action_id=DevRelIds.roster_capacity_input, is_decimal_allowed=False,
                                              min_value=0, max_value=MAX_CAPACITY,
                                              initial_value=member.weekly_capacity if member else 4)),
        InputBlock(block_id=DevRelIds.roster_ooo_block, label="Out of office through", optional=True,
                   hint="Not asked for meetings up to and including this date.",
                   element=DatePickerElement(action_id=DevRelIds.roster_ooo_picker,
                                             initial_date=member.out_of_office_until.isoformat()
                                             if member and member.out_of_office_until else None)),
    ]
    view = View(type="modal", callback_id=DevRelIds.roster_modal,
                title=ROSTER_FORM_TITLE_EDIT if member else ROSTER_FORM_TITLE_ADD, submit="Save", close="Cancel",
                blocks=blocks, private_metadata=metadata_json(metadata))
    return view.to_dict()
