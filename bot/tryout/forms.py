"""A modal as a form filled field by field in the terminal.

Each input block of the view is a field. An answer is typed as text and turned into the state value
Slack would submit for that element (`plain_text_input` → `value`, `static_select` →
`selected_option`, `users_select` → `selected_user`, `datepicker` → `selected_date`, ...). An empty
answer keeps the field's initial value. Checks the Slack client makes before it lets a modal be
submitted (required fields, lengths, numbers, e-mail and URL formats) are made here too; everything
else is for the App to judge in its `view_submission` answer, whose field errors are shown next to
their fields so those fields can be filled again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from bot.tryout.controls import flat_options, is_number, normalise
from bot.tryout.mrkdwn import plain, printable
from bot.tryout.viewer import Viewer

REQUIRED = "Please complete this required field."
CLEAR_WORDS = frozenset({"-", "none", "clear"})
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_RELATIVE_DAYS = re.compile(r"^\+(\d+)d$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


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
            "datepicker": "YYYY-MM-DD, today, tomorrow, monday or +3d",
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


class Form:
    """The fields of a modal and what has been typed into them."""

    def __init__(self, view: dict[str, Any], viewer: Viewer, previous: Form | None = None) -> None:
        self.view = view
        self.viewer = viewer
        self.errors: dict[str, str] = {}
        self.fields: list[Field] = []
        kept = {(f.block_id, f.action_id): f for f in previous.fields} if previous else {}
        for block in view.get("blocks") or []:
            if block.get("type") != "input" or not block.get("element"):
                continue
            element = block["element"]
            block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
            state, shown = initial_state(element, viewer)
            earlier = kept.get((block_id, action_id))
            # Slack keeps what was typed into an input whose block survives a views.update.
            if earlier is not None and earlier.kind == element.get("type"):
                state, shown = earlier.state, earlier.shown
            self.fields.append(
                Field(
                    block_id=block_id,
                    action_id=action_id,
                    element=element,
                    label=plain(block.get("label"), viewer),
                    optional=bool(block.get("optional")),
                    hint=plain(block.get("hint"), viewer),
                    dispatch=bool(block.get("dispatch_action")),
                    state=state,
                    shown=shown,
                )
            )

    @property
    def title(self) -> str:
        return plain(self.view.get("title"), self.viewer)

    @property
    def can_submit(self) -> bool:
        return bool(self.view.get("submit")) or bool(self.fields)

    def shown_values(self) -> dict[str, str]:
        return {f.block_id: f.shown for f in self.fields}

    def find(self, name: str) -> Field:
        """A field by its label (or a unique start of it), block_id or action_id."""
        wanted = normalise(name.rstrip("*").strip())
        for candidates in (
            [f for f in self.fields if normalise(f.label.rstrip("*")) == wanted],
            [f for f in self.fields if wanted in (normalise(f.block_id), normalise(f.action_id))],
            [f for f in self.fields if normalise(f.label).startswith(wanted)],
        ):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                names = ", ".join(f.label for f in candidates)
                raise FieldError(f"{name!r} could mean {names}; type more of the label")
        names = ", ".join(f.label for f in self.fields) or "none"
        raise FieldError(f"the form {self.title!r} has no field {name!r}; its fields: {names}")

    def fill(self, target: Field, text: str, directory: Directory) -> None:
        """Put an answer into a field; an empty answer keeps what is there."""
        if text.strip() == "":
            return
        state, shown = parse_answer(target, text.strip(), self.viewer, directory,
                                    lambda query: directory.suggest(self, target, query))
        target.state, target.shown = state, shown
        self.errors.pop(target.block_id, None)

    def problems(self) -> dict[str, str]:
        """What the Slack client would refuse before submitting, by block_id."""
        found: dict[str, str] = {}
        for item in self.fields:
            problem = client_check(item)
            if problem:
                found[item.block_id] = problem
        return found

    def state_values(self) -> dict[str, dict[str, dict[str, Any]]]:
        """`view.state.values` as Slack submits it: every input, by block_id then action_id."""
        values: dict[str, dict[str, dict[str, Any]]] = {}
        for item in self.fields:
            values.setdefault(item.block_id, {})[item.action_id] = item.state
        return values

    def needing_answers(self) -> list[Field]:
        """Fields to ask next: those with an error when there are any, else every field."""
        if self.errors:
            return [f for f in self.fields if f.block_id in self.errors]
        return list(self.fields)


# ----- initial values ------------------------------------------------------------------------------
def _option_state(option: dict[str, Any] | None) -> dict[str, Any] | None:
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
        text = _rich_text_to_plain(element.get("initial_value"))
        state["rich_text_value"] = _plain_to_rich_text(text)
        return state, text
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element.get("initial_option")
        state["selected_option"] = _option_state(option)
        return state, plain(option.get("text"), viewer) if option else ""
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        options = element.get("initial_options") or []
        state["selected_options"] = [_option_state(o) for o in options]
        return state, ", ".join(plain(o.get("text"), viewer) for o in options)
    if kind == "users_select":
        user_id = element.get("initial_user")
        state["selected_user"] = user_id
        return state, _user_text(user_id, viewer) if user_id else ""
    if kind == "multi_users_select":
        users = list(element.get("initial_users") or [])
        state["selected_users"] = users
        return state, ", ".join(_user_text(u, viewer) for u in users)
    if kind in ("conversations_select", "channels_select"):
        key = "conversation" if kind.startswith("conv") else "channel"
        channel = element.get(f"initial_{key}")
        state[f"selected_{key}"] = channel
        return state, _channel_text(channel, viewer) if channel else ""
    if kind in ("multi_conversations_select", "multi_channels_select"):
        key = "conversations" if "conversations" in kind else "channels"
        channels = list(element.get(f"initial_{key}") or [])
        state[f"selected_{key}"] = channels
        return state, ", ".join(_channel_text(c, viewer) for c in channels)
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


def _user_text(user_id: str, viewer: Viewer) -> str:
    return "@" + (viewer.user_name(user_id) or user_id)


def _channel_text(channel_id: str, viewer: Viewer) -> str:
    return "#" + (viewer.channel_name(channel_id) or channel_id)


def _plain_to_rich_text(text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}] if text else []}],
    }


def _rich_text_to_plain(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    parts = []
    for section in value.get("elements") or []:
        parts.append("".join(str(e.get("text", "")) for e in section.get("elements") or []))
    return "\n".join(parts)


# ----- answers -------------------------------------------------------------------------------------
Suggest = Callable[[str], list[dict[str, Any]]]


def parse_answer(target: Field, text: str, viewer: Viewer, directory: Directory,
                 suggest: Suggest | None = None) -> tuple[dict[str, Any], str]:
    """Turn typed text into the element's state value, or raise FieldError saying what to type."""
    element, kind = target.element, target.kind
    state: dict[str, Any] = {"type": kind}
    clearing = text.casefold() in CLEAR_WORDS
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        value = text.replace("\\n", "\n") if target.multiline else text
        if clearing:
            value = ""
        state["value"] = value or None
        return state, value
    if kind == "rich_text_input":
        value = "" if clearing else text.replace("\\n", "\n")
        state["rich_text_value"] = _plain_to_rich_text(value)
        return state, value
    if kind in ("static_select", "radio_buttons"):
        if clearing:
            state["selected_option"] = None
            return state, ""
        option = pick_option(flat_options(element), text, viewer)
        state["selected_option"] = _option_state(option)
        return state, plain(option.get("text"), viewer)
    if kind in ("multi_static_select", "checkboxes"):
        chosen = [] if clearing else [pick_option(flat_options(element), part, viewer) for part in _split(text)]
        _check_max(element, chosen)
        state["selected_options"] = [_option_state(o) for o in chosen]
        return state, ", ".join(plain(o.get("text"), viewer) for o in chosen)
    if kind in ("external_select", "multi_external_select"):
        if suggest is None:
            raise FieldError("epos try can only search options inside a form")
        return _external(target, text, viewer, suggest, clearing)
    if kind == "users_select":
        user_id = None if clearing else _user(text, directory)
        state["selected_user"] = user_id
        return state, _user_text(user_id, viewer) if user_id else ""
    if kind == "multi_users_select":
        users = [] if clearing else [_user(part, directory) for part in _split(text)]
        _check_max(element, users)
        state["selected_users"] = users
        return state, ", ".join(_user_text(u, viewer) for u in users)
    if kind in ("conversations_select", "channels_select"):
        key = "conversation" if kind.startswith("conv") else "channel"
        channel = None if clearing else _channel(text, directory, allow_people=_takes_dms(element))
        state[f"selected_{key}"] = channel
        return state, _channel_text(channel, viewer) if channel else ""
    if kind in ("multi_conversations_select", "multi_channels_select"):
        key = "conversations" if "conversations" in kind else "channels"
        channels = [] if clearing else [_channel(p, directory, allow_people=_takes_dms(element)) for p in _split(text)]
        _check_max(element, channels)
        state[f"selected_{key}"] = channels
        return state, ", ".join(_channel_text(c, viewer) for c in channels)
    if kind == "datepicker":
        day = None if clearing else parse_day(text, viewer)
        state["selected_date"] = day.isoformat() if day else None
        return state, state["selected_date"] or ""
    if kind == "timepicker":
        moment = None if clearing else parse_time(text)
        state["selected_time"] = moment.strftime("%H:%M") if moment else None
        if element.get("timezone"):
            state["timezone"] = element["timezone"]
        return state, state["selected_time"] or ""
    if kind == "datetimepicker":
        if clearing:
            state["selected_date_time"] = None
            return state, ""
        day_text, _, time_text = text.partition(" ")
        day, moment = parse_day(day_text, viewer), parse_time(time_text.strip() or "00:00")
        local = datetime.combine(day, moment, tzinfo=viewer.timezone)
        try:
            state["selected_date_time"] = int(local.timestamp())
        except (OverflowError, ValueError):
            raise FieldError(f"{text!r} is out of range; type a date like 2026-11-16 15:00") from None
        return state, local.strftime("%Y-%m-%d %H:%M")
    raise FieldError(f"epos try cannot fill a {kind} field yet")


def choose(element: dict[str, Any], block_id: str, text: str, viewer: Viewer, directory: Directory) -> dict[str, Any]:
    """What a select, overflow menu or picker in a message sends when `text` is chosen in it."""
    kind = str(element.get("type", ""))
    if kind == "overflow":
        option = pick_option(flat_options(element), text, viewer)
        return {"selected_option": _option_state(option)}
    target = Field(block_id=block_id, action_id=str(element.get("action_id", "")), element=element, label="",
                   optional=True, hint="", dispatch=False, state={}, shown="")
    state, _shown = parse_answer(target, text, viewer, directory)
    return {key: value for key, value in state.items() if key != "type"}


def _takes_dms(element: dict[str, Any]) -> bool:
    """A conversations select offers DMs unless its filter leaves them out; a channels select never does."""
    if "conversations" not in str(element.get("type", "")):
        return False
    include = (element.get("filter") or {}).get("include")
    return not include or "im" in include or "mpim" in include


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _check_max(element: dict[str, Any], chosen: list[Any]) -> None:
    most = element.get("max_selected_items")
    if most and len(chosen) > int(most):
        raise FieldError(f"choose at most {most}")


def pick_option(options: list[dict[str, Any]], text: str, viewer: Viewer) -> dict[str, Any]:
    """An option by its number in the list, its text (or a unique start of it), or its value."""
    if is_number(text) and 1 <= int(text) <= len(options):
        return options[int(text) - 1]
    wanted = normalise(text)
    for candidates in (
        [o for o in options if normalise(plain(o.get("text"), viewer)) == wanted],
        [o for o in options if normalise(str(o.get("value", ""))) == wanted],
        [o for o in options if normalise(plain(o.get("text"), viewer)).startswith(wanted)],
        [o for o in options if wanted in normalise(plain(o.get("text"), viewer))],
    ):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            names = ", ".join(plain(o.get("text"), viewer) for o in candidates[:6])
            raise FieldError(f"{text!r} matches several options ({names}); type more, or its number")
    listed = ", ".join(f"{i}) {plain(o.get('text'), viewer)}" for i, o in enumerate(options[:12], 1))
    raise FieldError(f"{text!r} is not an option; choose one of {listed}")


def _external(target: Field, text: str, viewer: Viewer, suggest: Suggest, clearing: bool) -> tuple[dict[str, Any], str]:
    multi = target.kind.startswith("multi_")
    state: dict[str, Any] = {"type": target.kind}
    if clearing:
        state["selected_options" if multi else "selected_option"] = [] if multi else None
        return state, ""
    chosen = []
    for part in _split(text) if multi else [text]:
        if is_number(part) and target.offered and 1 <= int(part) <= len(target.offered):
            chosen.append(target.offered[int(part) - 1])
            continue
        offered = suggest(part)
        if not offered:
            raise FieldError(f"nothing matches {part!r}; try other words")
        exact = [o for o in offered if normalise(plain(o.get("text"), viewer)) == normalise(part)]
        if exact or len(offered) == 1:
            chosen.append((exact or offered)[0])
            continue
        target.offered = offered
        listed = "  ".join(f"{i}) {plain(o.get('text'), viewer)}" for i, o in enumerate(offered[:12], 1))
        raise FieldError(f"{part!r} matches several: {listed} — type the number or more of the name")
    _check_max(target.element, chosen)
    if multi:
        state["selected_options"] = [_option_state(o) for o in chosen]
    else:
        state["selected_option"] = _option_state(chosen[0])
    return state, ", ".join(plain(o.get("text"), viewer) for o in chosen)


def _user(text: str, directory: Directory) -> str:
    user_id = directory.user_id(text.lstrip("@"))
    if user_id is None:
        raise FieldError(f"{text!r} is not a persona or user id; :who lists the personas")
    return user_id


def _channel(text: str, directory: Directory, *, allow_people: bool) -> str:
    channel_id = directory.channel_id(text.lstrip("#"))
    if channel_id is None and allow_people:
        channel_id = directory.user_id(text.lstrip("@"))
    if channel_id is None:
        raise FieldError(f"{text!r} is not a channel; :channels lists them")
    return channel_id


def parse_day(text: str, viewer: Viewer, today: Callable[[], date] | None = None) -> date:
    """YYYY-MM-DD, or `today`, `tomorrow`, a weekday name (the next one) or `+3d`, in the viewer's zone."""
    current = today() if today else viewer.now().astimezone(viewer.timezone).date()
    word = text.strip().casefold()
    if word == "today":
        return current
    if word == "tomorrow":
        return current + timedelta(days=1)
    if word in WEEKDAYS:
        ahead = (WEEKDAYS.index(word) - current.weekday()) % 7 or 7
        return current + timedelta(days=ahead)
    relative = _RELATIVE_DAYS.match(word)
    if relative:
        try:
            return current + timedelta(days=int(relative.group(1)))
        except OverflowError:
            raise FieldError(f"{text!r} is too far away; type a date like {current.isoformat()}") from None
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise FieldError(f"{text!r} is not a date; type YYYY-MM-DD (e.g. {current.isoformat()}), today or +3d") from None


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise FieldError(f"{text!r} is not a time; type HH:MM, e.g. 14:30")
    return time(int(match.group(1)), int(match.group(2)))


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
        return not _rich_text_to_plain(state["rich_text_value"]).strip()
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
