"""What one typed line of `epos try` produced, and the signal to end the session."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.tryout.render import strip_style


class Stop(Exception):
    """`:quit`."""


@dataclass
class Step:
    """What one typed line produced."""

    lines: list[str] = field(default_factory=list)
    error: str | None = None
    # A modal answered with field errors: a script may expect that with the next `:expect`.
    field_errors: bool = False
    quit: bool = False

    @property
    def text(self) -> str:
        return strip_style("\n".join(self.lines))
