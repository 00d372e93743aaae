"""A data file a team may put in place of the shipped one with a setting (the playbooks, the challenge map):
loaded and checked when a process starts, or on first use by a one-off command, then shared by its threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from bot.errors import ConfigError
from bot.services.importing import ImportInvalid, load_yaml

T = TypeVar("T")


class TeamFile(Generic[T]):
    def __init__(self, default: Path, load: Callable[[Path], T], setting: str) -> None:
        self._default, self._load, self._setting = default, load, setting
        self._lock = threading.Lock()
        self._active: T | None = None

    def configure(self, path: Path | None) -> T:
        """Load the team's file (or the shipped one when `path` is None) and make it current."""
        loaded = self._load(path or self._default)
        with self._lock:
            self._active = loaded
        return loaded

    def current(self) -> T:
        with self._lock:
            active = self._active
        return active if active is not None else self.configure(self._configured_path())

    def _configured_path(self) -> Path | None:
        """The setting's path, for a process that did not configure the file at start (a one-off command)."""
        from bot.config import load_settings

        try:
            return getattr(load_settings(), self._setting)
        except ConfigError:
            return None


def read_yaml(path: Path, setting: str, shape: str) -> tuple[str, Any]:
    """A team file's text and what its YAML holds, or a ConfigError naming the setting (a file that cannot
    be read) or the file and the line at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{setting}: cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text; save it as UTF-8 YAML") from None
    try:
        # The import files' loader: it names the line, and refuses alias bombs and runaway nesting.
        return text, load_yaml(text, shape=shape)
    except ImportInvalid as invalid:
        problem = invalid.problems[0]
        raise ConfigError(f"{path}: {problem.where}: {problem.message}") from None
