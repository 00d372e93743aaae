"""An import held halfway through, in a thread of its own, for tests of what everyone else sees meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from bot.errors import Conflict
from bot.services.importing import WRITE_BATCH

T = TypeVar("T")


def paused(records: Iterable[T], halfway: threading.Event, resume: threading.Event, *,
           then_fail: bool) -> Iterator[T]:
    """The records of a file, stopping after two write batches until told to go on, then failing if asked to."""
    for n, record in enumerate(records):
        if n == 2 * WRITE_BATCH:
            halfway.set()
            assert resume.wait(60)
            if then_fail:
                raise OSError("the disk holding the file went away")
        yield record


def in_background(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """`work` started in a thread; its outcome (what it returned, or the file or conflict error it raised)
    is in the list once the thread is joined."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except (OSError, Conflict) as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome
