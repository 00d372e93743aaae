"""The ack watcher: a command whose answer is late is acked empty at its own deadline, whatever else waits."""

from __future__ import annotations

import threading
import time
from typing import Any

from handlers.answers import _PendingAnswer, _Watcher


class RecordingAck:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.sent = threading.Event()

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        self.sent.set()


def test_a_shorter_budget_is_not_held_behind_a_longer_one() -> None:
    watcher = _Watcher()
    patient, hurried = RecordingAck(), RecordingAck()
    watcher.watch(_PendingAnswer(patient, time.monotonic() + 30))  # type: ignore[arg-type]
    watcher.watch(_PendingAnswer(hurried, time.monotonic() + 0.05))  # type: ignore[arg-type]
    assert hurried.sent.wait(10), "the command with the short budget was never acked"
    assert hurried.calls == [{}]  # empty: its answer follows at the response_url
    assert patient.calls == []


def test_an_answer_in_time_is_the_only_ack() -> None:
    watcher = _Watcher()
    ack = RecordingAck()
    pending = _PendingAnswer(ack, time.monotonic() + 0.05)  # type: ignore[arg-type]
    watcher.watch(pending)
    assert pending.ack_with({"text": "found it"})
    time.sleep(0.3)  # the deadline passes; the watcher must not ack again
    assert ack.calls == [{"text": "found it"}]
    assert not pending.ack_with({"text": "again"})
