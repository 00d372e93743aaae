"""Who is looking at the terminal, and how emphasis is shown to them.

A `Viewer` decides how mentions, channels and dates read; its `Style` decides whether bold, dim and
colours are drawn with terminal codes or left plain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Style:
    """Terminal emphasis. Plain (the default) keeps transcripts readable as text files."""

    color: bool = False

    def _wrap(self, code: str, text: str) -> str:
        if not self.color or not text:
            return text
        # An inner reset would end this style early; start it again after each one.
        inner = text.replace("\x1b[0m", f"\x1b[0m\x1b[{code}m")
        return f"\x1b[{code}m{inner}\x1b[0m"

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def italic(self, text: str) -> str:
        return self._wrap("3", text)

    def strike(self, text: str) -> str:
        return self._wrap("9", text)

    def accent(self, text: str) -> str:
        return self._wrap("36", text)

    def warn(self, text: str) -> str:
        return self._wrap("33", text)

    def error(self, text: str) -> str:
        return self._wrap("31", text)


@dataclass
class Viewer:
    """Who is looking, which decides how mentions, channels and dates read."""

    user_name: Callable[[str], str | None] = lambda _user_id: None
    channel_name: Callable[[str], str | None] = lambda _channel_id: None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    style: Style = field(default_factory=Style)
