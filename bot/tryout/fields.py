"""The fields of a modal in the terminal: what each holds, what it starts with, and what the client checks.

Each input block of a view is a `Field` holding the state value Slack would submit for its element
(`plain_text_input` → `value`, `static_select` → `selected_option`, `users_select` → `selected_user`,
`datepicker` → `selected_date`, ...). The checks the Slack client makes before it lets a modal be
submitted (required fields, lengths, numbers, e-mail and URL formats) are made here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.tryout.mrkdwn import plain, printable
from bot.tryout.viewer import Viewer

if TYPE_CHECKING:
    from bot.tryout.forms import Form

REQUIRED = "Please complete this required field."
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FieldError(ValueError):
    """An answer the Slack client itself would not accept; the message says what to type instead."""


class Directory(Protocol):
    """What the form needs to know about the workspace: people, channels, and options loaded by the App."""

    def user_id(self, text: str) -> str | None: ...

    def channel_id(self, text: str) -> str | None: ...

    def suggest(self, form: Form, target: Field, query: str) -> list[dict[str, Any]]: ...


@dataclass
class Field:
    block_id: str
    action_id: str
    element: dict[str, Any]
    label: str
    optional: bool
    hint: str
    dispatch: bool
    state: dict[str, Any]
    shown: str
    # Options an external select offered for the last typed query, for a pick by number.
    offered: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def multiline(self) -> bool:
        return bool(self.element.get("multiline"))

    def prompt_hint(self) -> str:
        """How to answer this field, for the prompt."""
        kind = self.kind
        hints = {
            "datepicker": "YYYY-MM-DD, today, yesterday, monday, +3d or -3d",
            "timepicker": "HH:MM, 24-hour",
            "datetimepicker": "YYYY-MM-DD HH:MM",
            "users_select": "a persona name or user id",
            "multi_users_select": "persona names, comma-separated",
            "conversations_select": "#channel, or a persona name for a DM",
            "channels_select": "#channel",
            "multi_conversations_select": "#channels, comma-separated",
            "multi_channels_select": "#channels, comma-separated",
            "number_input": "a number",
            "email_text_input": "an e-mail address",
            "url_text_input": "a URL starting with https://",
            "external_select": "type to search",
            "multi_external_select": "type to search; comma-separated",
        }
        if kind in ("static_select", "radio_buttons"):
            return "a number or an option"
        if kind in ("multi_static_select", "checkboxes"):
            return "numbers or options, comma-separated"
        if self.multiline:
            return "\\n for a new line"
        return hints.get(kind, "")


# ----- initial values ------------------------------------------------------------------------------
def option_state(option: dict[str, Any] | None) -> dict[str, Any] | None:
    if option is None:
        return None
    return {"text": option.get("text"), "value": option.get("value")}


def initial_state(element: dict[str, Any], viewer: Viewer) -> tuple[dict[str, Any], str]:
    """The state value a field submits untouched, and its text."""
    kind = str(element.get("type", ""))
    state: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        value = element.get("initial_value")
        state["value"] = None if value in (None, "") else str(value)
        return state, printable(state["value"] or "")
    if kind == "rich_text_input":
        text = rich_text_to_plain(element.get("initial_value"))
        state["rich_text_value"] = plain_to_rich_text(text)
        return state, text
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element.get("initial_option")
        state["selected_option"] = option_state(option)
        return state, plain(option.get("text"), viewer) if option else ""
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        options = element.get("initial_options") or []
        state["selected_options"] = [option_state(o) for o in options]
        return state, ", ".join(plain(o.get("text"), viewer) for o in options)
    if kind == "users_select":
        user_id = element.get("initial_user")
        state["selected_user"] = user_id
        return state, user_text(user_id, viewer) if user_id else ""
    if kind == "multi_users_select":
        users = list(element.get("initial_users") or [])
        state["selected_users"] = users
        return state, ", ".join(user_text(u, viewer) for u in users)
    if kind in ("conversations_select", "channels_select"):
        key = "conversation" if kind.startswith("conv") else "channel"
        channel = element.get(f"initial_{key}")
        state[f"selected_{key}"] = channel
        return state, channel_text(channel, viewer) if channel else ""
    if kind in ("multi_conversations_select", "multi_channels_select"):
        key = "conversations" if "conversations" in kind else "channels"
        channels = list(element.get(f"initial_{key}") or [])
        state[f"selected_{key}"] = channels
        return state, ", ".join(channel_text(c, viewer) for c in channels)
    if kind == "datepicker":
        state["selected_date"] = element.get("initial_date")
        return state, str(element.get("initial_date") or "")
    if kind == "timepicker":
        state["selected_time"] = element.get("initial_time")
        if element.get("timezone"):
            state["timezone"] = element["timezone"]
        return state, str(element.get("initial_time") or "")
    if kind == "datetimepicker":
        stamp = element.get("initial_date_time")
        state["selected_date_time"] = stamp
        if stamp is None:
            return state, ""
        return state, datetime.fromtimestamp(int(stamp), UTC).astimezone(viewer.timezone).strftime("%Y-%m-%d %H:%M")
    return state, ""


def user_text(user_id: str, viewer: Viewer) -> str:
    return "@" + (viewer.user_name(user_id) or user_id)


def channel_text(channel_id: str, viewer: Viewer) -> str:
    return "#" + (viewer.channel_name(channel_id) or channel_id)


def plain_to_rich_text(text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}] if text else []}],
    }


def rich_text_to_plain(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    parts = []
    for section in value.get("elements") or []:
        parts.append("".join(str(e.get("text", "")) for e in section.get("elements") or []))
    return "\n".join(parts)


# ----- what the Slack client checks before submitting ----------------------------------------------
def _is_empty(item: Field) -> bool:
    state = item.state
    for key in ("value", "selected_option", "selected_user", "selected_conversation", "selected_channel",
                "selected_date", "selected_time", "selected_date_time"):
        if key in state:
            return state[key] in (None, "")
    for key in ("selected_options", "selected_users", "selected_conversations", "selected_channels"):
        if key in state:
            return not state[key]
    if "rich_text_value" in state:
        return not rich_text_to_plain(state["rich_text_value"]).strip()
    return True


def client_check(item: Field) -> str | None:
    """The message the Slack client shows under a field it will not submit, or None."""
    if _is_empty(item):
        return None if item.optional else REQUIRED
    element, value = item.element, item.state.get("value")
    if item.kind == "plain_text_input" and isinstance(value, str):
        if element.get("min_length") and len(value) < int(element["min_length"]):
            return f"Please enter at least {element['min_length']} characters."
        if element.get("max_length") and len(value) > int(element["max_length"]):
            return f"Please keep this to {element['max_length']} characters or fewer."
    if item.kind == "number_input" and isinstance(value, str):
        if not _NUMBER.match(value) or ("." in value and not element.get("is_decimal_allowed")):
            return "Please enter a whole number." if not element.get("is_decimal_allowed") else "Please enter a number."
        number = float(value)
        if element.get("min_value") is not None and number < float(element["min_value"]):
            return f"Please enter a number of at least {element['min_value']}."
        if element.get("max_value") is not None and number > float(element["max_value"]):
            return f"Please enter a number of at most {element['max_value']}."
    if item.kind == "email_text_input" and isinstance(value, str) and not _EMAIL.match(value):
        return "Please enter a valid e-mail address."
    if item.kind == "url_text_input" and isinstance(value, str) and not value.startswith(("http://", "https://")):
        return "Please enter a valid URL, starting with https://."
    return None
