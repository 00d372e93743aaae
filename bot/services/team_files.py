"""A data file a team may put in place of the shipped one with a setting (the playbooks, the challenge map):
loaded and checked when a process starts, or on first use by a one-off command, then shared by its threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from bot.errors import ConfigError

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
