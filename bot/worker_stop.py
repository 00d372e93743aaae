"""How an `epos serve` worker stops: told to (SIGTERM, SIGINT, SIGQUIT) or left without its master, it
finishes what it acknowledged and exits, within STOP_GRACE whatever its threads are doing.

gunicorn's worker looks for its master only between rounds of its event loop, and once the loop ends it
leaves through `sys.exit`, which waits for every non-daemon thread: the request threads, Bolt's listener
threads with their queue of acknowledged work, the scheduler's tick. Workers whose master had been
killed went on for minutes working off that queue, holding cores and gigabytes, and a SIGTERM then ended
only a loop that had already ended. Here a watch thread notices a missing master whatever the loop is
doing, and from the moment a stop begins the worker has STOP_GRACE (gunicorn's graceful timeout) in all:
past it, it logs how much work it cut off and exits at once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from types import FrameType
from typing import Any

from bot.request_buffering import RequestBufferingWorker

log = logging.getLogger(__name__)

# How often the watch thread looks for the master and at the clock: a stop is noticed this late at most.
WATCH_SECONDS = 0.5
# The exit status of a worker that had to cut acknowledged work off (as `epos run`'s).
EXIT_CUT_OFF = 1


class StoppingWorker(RequestBufferingWorker):
    """The worker `epos serve` runs: the request gathering of RequestBufferingWorker, and a bounded stop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # time.monotonic() past which the worker exits whatever is still running; None until a stop begins.
        self.stop_by: float | None = None
        self.stop_reason = ""

    def init_process(self) -> None:
        # Before the app loads: a master killed while this worker builds its app is noticed too.
        threading.Thread(target=self._watch, name="epos-worker-watch", daemon=True).start()
        super().init_process()

    def begin_stop(self, reason: str) -> None:
        """Start the clock of the stop (once; signal handlers call this, so it only sets attributes)."""
        if self.stop_by is None:
            self.stop_reason = reason
            self.stop_by = time.monotonic() + float(self.cfg.graceful_timeout)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.begin_stop("told to stop (SIGTERM)")
        super().handle_exit(sig, frame)

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        self.begin_stop("told to stop at once (SIGINT or SIGQUIT)")
        super().handle_quit(sig, frame)

    def handle_abort(self, sig: int, frame: FrameType | None) -> None:
        self.begin_stop("aborted by its master (SIGABRT)")
        super().handle_abort(sig, frame)

    def is_parent_alive(self) -> bool:
        # The event loop may see the master gone before the watch thread does: the same bound from then.
        if super().is_parent_alive():
            return True
        self._master_gone()
        return False

    def run(self) -> None:
        super().run()
        self.begin_stop("its event loop ended")

    def _watch(self) -> None:
        scheduler_stopped = False
        while True:
            time.sleep(WATCH_SECONDS)
            if self.stop_by is None and os.getppid() != self.ppid:
                self._master_gone()
                self.alive = False
                self.method_queue.defer(lambda: None)  # wakes the event loop, as gunicorn's SIGTERM handler does
            if self.stop_by is None:
                continue
            if not scheduler_stopped:
                scheduler_stopped = True
                _stop_ticking()
            if time.monotonic() >= self.stop_by:
                self._cut_off()

    def _master_gone(self) -> None:
        if self.stop_by is None:
            log.warning("the gunicorn master (pid %s) is gone; this worker (pid %s) stops", self.ppid, os.getpid())
        self.begin_stop("its master is gone")

    def _cut_off(self) -> None:
        unfinished = _unfinished_listener_work(self)
        log.warning("STOP_GRACE (%gs) ran out: worker %s (%s) exits with unfinished work cut off (%d pending)",
                    float(self.cfg.graceful_timeout), os.getpid(), self.stop_reason, unfinished)
        for handler in logging.getLogger().handlers:
            try:
                handler.flush()
            except (OSError, ValueError):  # a log that cannot be flushed must not keep the process alive
                pass
        # sys.exit would wait for the very threads that are still busy.
        os._exit(EXIT_CUT_OFF)


def _stop_ticking() -> None:
    """No new scheduler tick in a stopping worker; a tick under way runs on within the grace."""
    from bot import scheduler

    running = scheduler._background
    if running is not None:
        try:
            running.shutdown(wait=False)
        except Exception:
            log.debug("the scheduler did not stop cleanly", exc_info=True)


def _unfinished_listener_work(worker: Any) -> int:
    from bot.app import ListenerExecutor

    app = getattr(getattr(getattr(worker, "wsgi", None), "bolt", None), "app", None)
    executor = getattr(getattr(app, "listener_runner", None), "listener_executor", None)
    return executor.wait_until_settled(0) if isinstance(executor, ListenerExecutor) else 0
