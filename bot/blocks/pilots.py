"""The pilot in Slack: its comparison line (digest, App Home), the manager's section and the pilot modal."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
    UserMultiSelectElement,
)

from bot import dates
from bot.blocks.kit import button, md, modal, plain_text
from bot.blocks.text import FIELD_TEXT, VIEW_BLOCKS, clip, escape, plural
from bot.ids import PilotIds
from models.schemas.pilots import Comparison, Difference, PilotOut

VERDICT_WORDS = {
    "faster": "the pilot closes *faster*",
    "slower": "the pilot closes *slower*",
    "no clear difference": "*no clear difference* yet",
    "too few closes": "*too few closes* to tell yet",
}


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


def _signed_days(difference: Difference) -> str:
    if difference.value is None or difference.ci95 is None:
        return "—"
    low, high = difference.ci95
    return f"{difference.value:+.1f} d (95% interval {low:+.1f} to {high:+.1f})"


def comparison_line(comparison: Comparison) -> str:
    """One line: both groups' median MTTC, the difference with its interval, and the verdict."""
    pilot, baseline = comparison.pilot_group, comparison.baseline_group
    against = "everyone else" if comparison.baseline_kind == "concurrent" else "the members before it started"
    return (f"*{escape(comparison.pilot.name)}*: median time to close {_days(pilot.mttc_days.median)} "
            f"({plural(pilot.closed_total, 'close')}) against {_days(baseline.mttc_days.median)} for {against} "
            f"({plural(baseline.closed_total, 'close')}); difference {_signed_days(comparison.mttc_days_median)}: "
            f"{VERDICT_WORDS[comparison.verdict]}.")


def rollout_note(ask: list[str]) -> str:
    """For someone outside the pilot while epos answers only it (EPOS_PILOT_ONLY)."""
    whom = ", ".join(f"<@{user_id}>" for user_id in ask) or "whoever runs epos"
    return (f"epos is in a pilot for now: it answers the SEs trying it and the people on their deals. "
            f"It will open to everyone after the pilot; to join sooner, ask {whom}.")


DIGEST_TITLE = "*Pilot*"
CHART_NOTE = "The chart in the thread follows both groups' median time to close over the 4 weeks before each week's end."


def digest_section(comparison: Comparison) -> str:
    return f"{DIGEST_TITLE}\n{comparison_line(comparison)}\n_{CHART_NOTE}_"
CHART_ALT = " A third panel: lines of the pilot's and everyone else's median days to close over the 4 weeks before each week's end."


# ----- the App Home section (managers and admins) and the pilot form -------------------------------------
HOME_TITLE = "*Pilot*"
HOME_NONE = ("No pilot yet. Start one to try the guided path with a few SEs and see, with honest statistics, "
             "whether they close faster than everyone else.")
HOME_MORE = "All figures: `epos stats --pilot \"{name}\" --json`."
START_BUTTON = "Start a pilot"
MANAGE_BUTTON = "Manage pilot"
FORM_TITLE = "Pilot"
FORM_SUBMIT = "Save"
FORM_CANCEL = "Cancel"
NAME_LABEL = "Name"
START_LABEL = "First day"
MEMBERS_LABEL = "SEs in the pilot"
END_LABEL = "Last day"
END_HINT = "Leave empty while the pilot runs. Members added or removed here count from today."
EDITING = "*{name}*, {dates}. Add or remove SEs, or set its last day."


def home_blocks(comparison: Comparison | None, *, open_gate: str | None = None) -> list[Block]:
    """The managers' App Home section: the latest pilot against everyone else, and the form's button.
    `open_gate`: why EPOS_PILOT_ONLY keeps nobody out now, said where the manager would start a pilot."""
    gate = [ContextBlock(elements=[md(f":warning: {escape(open_gate)}.")])] if open_gate else []
    if comparison is None:
        return [SectionBlock(text=md(f"{HOME_TITLE}\n{HOME_NONE}"), accessory=button(START_BUTTON, PilotIds.open, "")),
                *gate]
    name = comparison.pilot.name
    return [
        SectionBlock(text=md(f"{HOME_TITLE}\n{comparison_line(comparison)}"),
                     accessory=button(MANAGE_BUTTON, PilotIds.open, clip(name, 80))),
        ContextBlock(elements=[md(HOME_MORE.format(name=escape(name)))]),
        *gate,
    ]


def add_to_home(view: dict[str, Any], blocks: list[Block]) -> dict[str, Any]:
    """The section goes just above the Home's footer, when the Home has room for it."""
    if len(view["blocks"]) + len(blocks) <= VIEW_BLOCKS:
        view["blocks"][-1:-1] = [block.to_dict() for block in blocks]
    return view


def _input(block_id: str, label: str, element: Any, *, optional: bool = False, hint: str | None = None) -> InputBlock:
    return InputBlock(block_id=block_id, label=plain_text(label, FIELD_TEXT), element=element, optional=optional,
                      hint=plain_text(hint, FIELD_TEXT) if hint else None)


def pilot_modal(pilot: PilotOut | None) -> dict[str, Any]:
    """Start a pilot (pilot None) or change one: its members and its last day."""
    members = UserMultiSelectElement(action_id=PilotIds.field, initial_users=pilot.current_members if pilot else None)
    end = DatePickerElement(action_id=PilotIds.field,
                            initial_date=pilot.end_on.isoformat() if pilot and pilot.end_on else None)
    if pilot is None:
        head: list[Block] = [
            _input(PilotIds.name_block, NAME_LABEL, PlainTextInputElement(action_id=PilotIds.field, max_length=80)),
            _input(PilotIds.start_block, START_LABEL, DatePickerElement(action_id=PilotIds.field)),
        ]
    else:
        head = [SectionBlock(text=md(
            EDITING.format(name=escape(pilot.name), dates=f"from {dates.day(pilot.start_on)}" + (
                f" to {dates.day(pilot.end_on)}" if pilot.end_on else ", still running"))))]
    return modal(PilotIds.modal, FORM_TITLE, [*head, _input(PilotIds.members_block, MEMBERS_LABEL, members),
                                              _input(PilotIds.end_block, END_LABEL, end, optional=True, hint=END_HINT)],
                 submit=FORM_SUBMIT, close=FORM_CANCEL, metadata=json.dumps({"name": pilot.name}) if pilot else "")


class PilotForm(BaseModel, frozen=True):
    name: str
    start_on: date | None
    members: list[str]
    end_on: date | None


def read_form(view: dict[str, Any]) -> PilotForm:
    """What the form holds; the name of a pilot being changed comes from its metadata."""
    values = (view.get("state") or {}).get("values") or {}

    def element(block_id: str) -> dict[str, Any]:
        return (values.get(block_id) or {}).get(PilotIds.field) or {}

    def day(block_id: str) -> date | None:
        picked = element(block_id).get("selected_date")
        return date.fromisoformat(picked) if picked else None

    try:
        editing = json.loads(view.get("private_metadata") or "{}").get("name")
    except (ValueError, AttributeError):
        editing = None
    return PilotForm(name=str(editing or element(PilotIds.name_block).get("value") or ""),
                     start_on=day(PilotIds.start_block), members=list(element(PilotIds.members_block).get("selected_users") or []),
                     end_on=day(PilotIds.end_block))


FORM_BLOCKS = {"name": PilotIds.name_block, "start": PilotIds.start_block, "members": PilotIds.members_block,
               "end": PilotIds.end_block}


def form_errors(field: str | None, message: str, *, editing: bool) -> dict[str, str]:
    """The error beside the field it names (without the field's name in front, which the form shows)."""
    block = FORM_BLOCKS.get(field or "", PilotIds.members_block)
    if editing and block in (PilotIds.name_block, PilotIds.start_block):
        block = PilotIds.members_block
    text = message.split(": ", 1)[1] if field and message.startswith(f"{field}: ") else message
    return {block: clip(text, 150)}
