"""Driving `epos try` in tests: a line typed, and a person's input scripted for the prompt loop."""

from __future__ import annotations

from collections.abc import Callable

from bot.tryout.session import TrySession


def run(session: TrySession, line: str) -> str:
    """What the session shows for `line`, which must not be refused."""
    step = session.handle(line)
    assert step.error is None, step.error
    return step.text


def scripted(events: list[object]) -> Callable[[str], str]:
    """A prompt's `read` that gives each line in turn, and raises each exception (Ctrl-C, end of input)."""

    def read(_prompt: str) -> str:
        event = events.pop(0)
        if isinstance(event, BaseException):
            raise event
        return str(event)

    return read
