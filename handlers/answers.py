"""Answering a command in its ack when the answer is ready in time, at its response_url when it is not.

An answer carried by the ack reaches the person with no second request: nothing more for the process to
send, and nothing for Slack to receive and route. But Slack shows the person a failure when the ack
does not come within 3 seconds, and an answer can be slow to make (the first search after start builds
the index; a search after another process's bulk import catches up on every changed asset). So each
answer has a budget: when it runs out, the command is acked empty and the answer follows at the
command's response_url once it is ready.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond

from bot.errors import EposError
from handlers.errors import report

log = logging.getLogger(__name__)

# Well inside Slack's 3 s, leaving room for the way back to Slack and a busy process.
ACK_BUDGET_SECONDS = 1.0
# The watcher checks at most this often under load, instead of waking once per command.
WATCH_GRANULARITY_SECONDS = 0.05

Message = dict[str, Any]


class _PendingAnswer:
    """One command's ack, sent once: with the answer, or empty when the budget runs out first."""

    __slots__ = ("ack", "deadline", "lock", "acked")

    def __init__(self, ack: Ack, deadline: float) -> None:
        self.ack, self.deadline = ack, deadline
        self.lock = threading.Lock()
        self.acked = False

    def ack_with(self, message: Message) -> bool:
        """Ack with the answer; False when the empty ack went first."""
        with self.lock:
            if self.acked:
                return False
            self.acked = True
            self.ack(**message)
            return True

    def ack_empty(self) -> None:
        with self.lock:
            if not self.acked:
                self.acked = True
                self.ack()


class _Watcher:
    """One thread for the whole process that acks, empty, every command whose answer is late."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        # Soonest deadline first; the number keeps equal deadlines in arrival order.
        self._pending: list[tuple[float, int, _PendingAnswer]] = []
        self._arrivals = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, pending: _PendingAnswer) -> None:
        with self._changed:
            heapq.heappush(self._pending, (pending.deadline, next(self._arrivals), pending))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="epos-ack-watcher", daemon=True)
                self._thread.start()
            elif self._pending[0][2] is pending:
                self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending:
                    self._changed.wait()
                wait = self._pending[0][0] - time.monotonic()
                if wait > 0:
                    self._changed.wait(max(wait, WATCH_GRANULARITY_SECONDS))
                    continue
                _, _, late = heapq.heappop(self._pending)
            try:
                late.ack_empty()
            except Exception:
                log.exception("could not ack a command whose answer was late")


_watcher = _Watcher()


def answer_command(ack: Ack, respond: Respond, make_answer: Callable[[], Message]) -> None:
    """Reply to a command with the message `make_answer` returns; only the person who typed it sees it."""
    pending = _PendingAnswer(ack, time.monotonic() + ACK_BUDGET_SECONDS)
    _watcher.watch(pending)
    try:
        message = {**make_answer(), "response_type": "ephemeral"}
    except EposError as refusal:
        # Expected: a refusal or bad input is the answer, in the same place the answer would be.
        message = {"text": report(refusal, "command"), "response_type": "ephemeral"}
    except BaseException:
        # Slack still hears back in time; the error handler apologises at the response_url.
        pending.ack_empty()
        raise
    if not pending.ack_with(message):
        respond(**message)
