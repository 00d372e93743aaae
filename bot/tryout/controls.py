"""The interactive elements on screen, numbered so that typing a number presses one.

Buttons, selects, pickers and overflow menus in a message, a modal or the App Home are numbered across
what is shown (`[1] Share in channel`); a control is found again by its number or its label as typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Elements a person can act on in a message, a modal or the App Home.
BUTTON = "button"
OVERFLOW = "overflow"
SELECT_TYPES = frozenset(
    {
        "static_select", "external_select", "users_select", "conversations_select", "channels_select",
        "multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select",
        "multi_channels_select",
    }
)
PICKER_TYPES = frozenset({"datepicker", "timepicker", "datetimepicker", "checkboxes", "radio_buttons"})
ACTIONABLE_TYPES = SELECT_TYPES | PICKER_TYPES | {BUTTON, OVERFLOW}
ELEMENT_NAMES = {
    "static_select": "choose one", "external_select": "search and choose", "users_select": "choose a person",
    "conversations_select": "choose a conversation", "channels_select": "choose a channel",
    "multi_static_select": "choose several", "multi_external_select": "search and choose several",
    "multi_users_select": "choose people", "multi_conversations_select": "choose conversations",
    "multi_channels_select": "choose channels", "datepicker": "date YYYY-MM-DD", "timepicker": "time HH:MM",
    "datetimepicker": "date and time", "checkboxes": "tick any", "radio_buttons": "choose one",
    OVERFLOW: "more actions",
}

_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")


@dataclass
class Control:
    """One numbered interactive element on screen."""

    number: int
    element: dict[str, Any]
    block_id: str
    source: Any
    label: str

    @property
    def kind(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", ""))

    @property
    def options(self) -> list[dict[str, Any]]:
        return flat_options(self.element)


class Controls:
    """Numbers interactive elements in the order they are shown, from 1 on.

    A step that shows more buttons numbers them after those already on screen, which keep their numbers:
    what a person reads above in the terminal still presses what it says. Only a message shown again in a
    later step (it changed) loses its old numbers, which are remembered as `redrawn`."""

    def __init__(self) -> None:
        self.items: list[Control] = []
        self.redrawn: dict[int, Any] = {}
        self._step_from = 1
        # Only ever goes up: a number once printed is never given to another control.
        self.next_number = 1

    def begin(self) -> None:
        """A new step: what it shows is numbered below what is on screen."""
        self._step_from = self.next_number

    def add(self, element: dict[str, Any], block_id: str, source: Any, label: str) -> Control:
        key = source_key(source)
        for old in [c for c in self.items if c.number < self._step_from and source_key(c.source) == key]:
            self.items.remove(old)
            self.redrawn[old.number] = old.source
        control = Control(self.next_number, element, block_id, source, label)
        self.next_number += 1
        self.items.append(control)
        return control

    def get(self, number: int) -> Control | None:
        return next((c for c in self.items if c.number == number), None)

    def by_label(self, text: str) -> list[Control]:
        """Controls whose label is `text`, else those it starts, ignoring case and emoji (`👍 Useful`): those
        the last step showed first, as a label names what a person has just read."""
        wanted = label_key(text)
        last = [c for c in self.items if c.number >= self._step_from]
        for shown in (last, self.items):
            exact = [c for c in shown if label_key(c.label) == wanted]
            found = exact or [c for c in shown if wanted and label_key(c.label).startswith(wanted)]
            if found:
                return found
        return []

    def numbers(self) -> str:
        """The numbers on screen, as a person reads them: `1–5, 8–9`."""
        spans: list[list[int]] = []
        for number in sorted(c.number for c in self.items):
            if spans and number == spans[-1][1] + 1:
                spans[-1][1] = number
            else:
                spans.append([number, number])
        return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)

    def __len__(self) -> int:
        return len(self.items)


def source_key(source: Any) -> Any:
    """What a control was shown on: a message by its number, a modal or the App Home by its view."""
    number = getattr(source, "number", None)
    return ("post", number) if number is not None else source


def is_number(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also accepts `²` and other digits `int()` refuses."""
    return text.isascii() and text.isdigit()


def normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def label_key(text: str) -> str:
    """A button label as typed: without emoji (pictographs or `:shortcodes:`), case or extra spaces."""
    text = _SHORTCODE.sub(" ", text)
    return normalise("".join(c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cf", "Mn")))


def flat_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options
