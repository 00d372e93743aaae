"""Expected failures, typed so one error handler can turn each into a clear message for the user."""

from __future__ import annotations

from typing import Any


class EposError(Exception):
    """Base of every failure the user is meant to read. `str(error)` is that message."""


class NotFound(EposError):
    pass


class Forbidden(EposError):
    pass


class InvalidInput(EposError):
    """Bad input. `field` names the modal block or CLI field at fault when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(EposError):
    pass


class AlreadyClosed(Conflict):
    """A change asked of a closed engagement. `engagement` (its summary) lets an answer offer Reopen."""

    def __init__(self, message: str, *, engagement: Any) -> None:
        super().__init__(message)
        self.engagement = engagement


class ConfigError(EposError):
    """A missing or invalid setting; the CLI prints it as one line and exits 2."""


def first_line(error: BaseException) -> str:
    """An exception in one line, for a person: a database driver's own message rather than SQLAlchemy's
    wrapping of it, and its first line only."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
