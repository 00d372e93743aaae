"""Typed answers turned into the state value Slack would submit, or a `FieldError` saying what to type.

Options are picked by number, text or value; people and channels by persona or channel name; dates
and times as typed (`tomorrow`, `+3d`, `14:30`) in the viewer's own timezone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.tryout.controls import flat_options, is_number, normalise
from bot.tryout.fields import Directory, Field, FieldError, channel_text, option_state, plain_to_rich_text, user_text
from bot.tryout.mrkdwn import plain
from bot.tryout.viewer import Viewer

CLEAR_WORDS = frozenset({"-", "none", "clear"})
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_RELATIVE_DAYS = re.compile(r"^([+-])(\d+)d$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Suggest = Callable[[str], list[dict[str, Any]]]
Answer = tuple[dict[str, Any], str]


def parse_answer(target: Field, text: str, viewer: Viewer, directory: Directory,
                 suggest: Suggest | None = None) -> Answer:
    """Turn typed text into the element's state value, or raise FieldError saying what to type."""
    clearing = text.casefold() in CLEAR_WORDS
    if target.kind in ("external_select", "multi_external_select"):
        if suggest is None:
            raise FieldError("epos try can only search options inside a form")
        return _external(target, text, viewer, suggest, clearing)
    for parse in (_typed, _options, _people_or_channels, _moments):
        answer = parse(target, text, viewer, directory, clearing)
        if answer is not None:
            return answer
    raise FieldError(f"epos try cannot fill a {target.kind} field yet")


def _typed(target: Field, text: str, viewer: Viewer, directory: Directory, clearing: bool) -> Answer | None:
    kind = target.kind
    state: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        value = text.replace("\\n", "\n") if target.multiline else text
        if clearing:
            value = ""
        state["value"] = value or None
        return state, value
    if kind == "rich_text_input":
        value = "" if clearing else text.replace("\\n", "\n")
        state["rich_text_value"] = plain_to_rich_text(value)
        return state, value
    return None


def _options(target: Field, text: str, viewer: Viewer, directory: Directory, clearing: bool) -> Answer | None:
    element, kind = target.element, target.kind
    state: dict[str, Any] = {"type": kind}
    if kind in ("static_select", "radio_buttons"):
        if clearing:
            state["selected_option"] = None
            return state, ""
        option = pick_option(flat_options(element), text, viewer)
        state["selected_option"] = option_state(option)
        return state, plain(option.get("text"), viewer)
    if kind in ("multi_static_select", "checkboxes"):
        chosen = [] if clearing else [pick_option(flat_options(element), part, viewer) for part in _split(text)]
        _check_max(element, chosen)
        state["selected_options"] = [option_state(o) for o in chosen]
        return state, ", ".join(plain(o.get("text"), viewer) for o in chosen)
    return None


def _people_or_channels(target: Field, text: str, viewer: Viewer, directory: Directory, clearing: bool
                        ) -> Answer | None:
    element, kind = target.element, target.kind
    state: dict[str, Any] = {"type": kind}
    if kind == "users_select":
        user_id = None if clearing else _user(text, directory)
        state["selected_user"] = user_id
        return state, user_text(user_id, viewer) if user_id else ""
    if kind == "multi_users_select":
        users = [] if clearing else [_user(part, directory) for part in _split(text)]
        _check_max(element, users)
        state["selected_users"] = users
        return state, ", ".join(user_text(u, viewer) for u in users)
    if kind in ("conversations_select", "channels_select"):
        key = "conversation" if kind.startswith("conv") else "channel"
        channel = None if clearing else _channel(text, directory, allow_people=_takes_dms(element))
        state[f"selected_{key}"] = channel
        return state, channel_text(channel, viewer) if channel else ""
    if kind in ("multi_conversations_select", "multi_channels_select"):
        key = "conversations" if "conversations" in kind else "channels"
        channels = [] if clearing else [_channel(p, directory, allow_people=_takes_dms(element)) for p in _split(text)]
        _check_max(element, channels)
        state[f"selected_{key}"] = channels
        return state, ", ".join(channel_text(c, viewer) for c in channels)
    return None


def _moments(target: Field, text: str, viewer: Viewer, directory: Directory, clearing: bool) -> Answer | None:
    element, kind = target.element, target.kind
    state: dict[str, Any] = {"type": kind}
    if kind == "datepicker":
        day = None if clearing else parse_day(text, viewer, past=looks_back(element, viewer))
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
    return None


def choose(element: dict[str, Any], block_id: str, text: str, viewer: Viewer, directory: Directory) -> dict[str, Any]:
    """What a select, overflow menu or picker in a message sends when `text` is chosen in it."""
    kind = str(element.get("type", ""))
    if kind == "overflow":
        option = pick_option(flat_options(element), text, viewer)
        return {"selected_option": option_state(option)}
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
        state["selected_options"] = [option_state(o) for o in chosen]
    else:
        state["selected_option"] = option_state(chosen[0])
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


def parse_day(text: str, viewer: Viewer, today: Callable[[], date] | None = None, *, past: bool = False) -> date:
    """YYYY-MM-DD, or `today`, `yesterday`, `tomorrow`, `+3d`, `-3d` or a weekday name, in the viewer's zone.
    A weekday name is the next one, or with `past` (a field for when something happened) the most recent."""
    current = today() if today else viewer.now().astimezone(viewer.timezone).date()
    word = text.strip().casefold()
    if word == "today":
        return current
    if word in ("yesterday", "tomorrow"):
        return current + timedelta(days=-1 if word == "yesterday" else 1)
    if word in WEEKDAYS:
        if past:
            return current - timedelta(days=(current.weekday() - WEEKDAYS.index(word)) % 7)
        ahead = (WEEKDAYS.index(word) - current.weekday()) % 7 or 7
        return current + timedelta(days=ahead)
    relative = _RELATIVE_DAYS.match(word)
    if relative:
        days = int(relative.group(2)) * (-1 if relative.group(1) == "-" else 1)
        try:
            return current + timedelta(days=days)
        except OverflowError:
            raise FieldError(f"{text!r} is too far away; type a date like {current.isoformat()}") from None
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise FieldError(f"{text!r} is not a date; type YYYY-MM-DD (e.g. {current.isoformat()}), today or +3d") from None


def looks_back(element: dict[str, Any], viewer: Viewer) -> bool:
    """A date picker that starts at today or earlier asks when something happened: epos's "When" and
    "Closed on" do. Weekday names there mean the last one, as a person means "friday" in them."""
    initial = element.get("initial_date")
    try:
        return initial is not None and date.fromisoformat(initial) <= viewer.now().astimezone(viewer.timezone).date()
    except ValueError:
        return False


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise FieldError(f"{text!r} is not a time; type HH:MM, e.g. 14:30")
    return time(int(match.group(1)), int(match.group(2)))
