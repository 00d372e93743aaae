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
    """Numbers interactive elements in the order they are shown, starting at 1."""

    def __init__(self) -> None:
        self.items: list[Control] = []

    def add(self, element: dict[str, Any], block_id: str, source: Any, label: str) -> Control:
        control = Control(len(self.items) + 1, element, block_id, source, label)
        self.items.append(control)
        return control

    def get(self, number: int) -> Control | None:
        return self.items[number - 1] if 1 <= number <= len(self.items) else None

    def by_label(self, text: str) -> list[Control]:
        """Controls whose label is `text`, else those it starts, ignoring case and emoji (`👍 Useful`)."""
        wanted = label_key(text)
        exact = [c for c in self.items if label_key(c.label) == wanted]
        return exact or [c for c in self.items if wanted and label_key(c.label).startswith(wanted)]

    def __len__(self) -> int:
        return len(self.items)


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
