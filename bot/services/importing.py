"""What every import file (assets, engagements, the roster) is checked for, whatever it holds."""

from __future__ import annotations

from typing import Any

from bot.errors import InvalidInput
from models.schemas.importing import ImportProblem

# PostgreSQL text cannot hold U+0000, and no one types it: a file carrying one is damaged.
NUL_MESSAGE = "contains a NUL character (U+0000), which cannot be stored; the file may be damaged, remove it"


class ImportInvalid(InvalidInput):
    """An import file with problems; each names its item (or line) and field. Nothing was written."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the file; nothing was imported")
        self.problems = problems


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def fields_with_nul(raw: dict[Any, Any]) -> list[str]:
    """The fields of one imported item whose name or value holds a NUL character."""
    return [str(key).replace("\x00", "\\0") for key, value in raw.items() if _has_nul(key) or _has_nul(value)]
