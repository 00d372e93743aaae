"""The scheduler: APScheduler ticks once a minute; the database decides what each tick does.

Every process that runs epos (each `epos run`, each `epos serve` worker, `epos scheduler`) may run
a scheduler of its own; they never share a job store (APScheduler's jobs live in memory). Each tick
runs every job in `bot.jobs.MINUTE_JOBS`, and each job claims what it posts in `job_claims`, so
however many schedulers tick, a digest or a nudge goes out once. The first tick runs right at start,
which is how a bot that was down across a scheduled slot catches up.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from bot import clock, revocation, telemetry
from bot.blocks import speedup
from bot.config import Settings
from bot.jobs import MINUTE_JOBS, Job
from bot.services import ticks
from bot.services.claims import process_owner

log = logging.getLogger(__name__)

TICK_JOB_ID = "epos-tick"
# A tick that starts this late (the process was suspended, the previous tick overran) still runs;
# older ones are dropped, and `coalesce` folds a backlog into one run.
MISFIRE_GRACE_SECONDS = 50


def tick(
    client: WebClient,
    settings: Settings,
    now: datetime,
    *,
    owner: str | None = None,
    jobs: tuple[Job, ...] = MINUTE_JOBS,
) -> dict[str, int]:
    """Run every due job once at `now`. A failing job is logged and does not stop the others.

    Returns, per job that ran, how many things it did (posts, reminders, rows tidied)."""
    owner = owner or process_owner()
    try:
        ticks.record(owner, now)
    except Exception as error:  # the jobs below say more about a database that is down
        log.warning("could not record this tick (%s: %s)", type(error).__name__, error)
    done: dict[str, int] = {}
    if revocation.revoked() is not None:
        # Nothing is claimed, so every post that falls due waits for a process with a valid token.
        return done
    for job in jobs:
        try:
            done[job.name] = job.run(client, settings, now, owner=owner)
        except Exception:
            telemetry.JOBS.labels(job.name, "failed").inc()
            log.exception("scheduled job %s failed; the next tick tries again", job.name)
        else:
            telemetry.JOBS.labels(job.name, "did_something" if done[job.name] else "nothing_due").inc()
    return done


# The tick's thread runs this much nicer than request handling (Linux niceness, 0-19).
TICK_NICENESS = 10
_niced = threading.local()


def yield_to_requests() -> None:
    """Lower the calling thread's CPU priority, once: a 09:00 burst of a thousand nudges is CPU work that
    may take minutes, while an ack has three seconds; the kernel then serves the request threads (in this
    process or a web worker beside it) first. Only the tick's own thread is affected (Linux schedules
    threads by their own niceness); elsewhere, or where it is not allowed, nothing changes."""
    if getattr(_niced, "done", False):
        return
    _niced.done = True
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TICK_NICENESS)
    except (AttributeError, OSError) as error:
        log.debug("the tick keeps its CPU priority: %s", error)


class Scheduler:
    """One APScheduler BackgroundScheduler with the minute tick, pinned to EPOS_TIMEZONE."""

    def __init__(
        self,
        settings: Settings,
        client: WebClient,
        *,
        now: Callable[[], datetime] = clock.now,
        owner: str | None = None,
    ) -> None:
        speedup.install()  # its jobs render blocks, and `epos scheduler` runs without the App
        self.settings = settings
        self.client = client
        self.owner = owner or process_owner()
        self._now = now
        self._lock = threading.Lock()
        self.last_result: dict[str, int] | None = None
        self.ticks = 0
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
            timezone=settings.timezone,
            daemon=True,
        )

    def run_tick(self, now: datetime | None = None) -> dict[str, int]:
        """One tick at `now` (default: the clock). Serialised per instance, like APScheduler runs it."""
        with self._lock:
            result = tick(self.client, self.settings, now or self._now(), owner=self.owner)
            self.last_result = result
            self.ticks += 1
            return result

    def _scheduled_tick(self) -> None:
        yield_to_requests()
        self.run_tick()

    def start(self, *, tick_now: bool = True) -> Scheduler:
        trigger = CronTrigger(minute="*", second=0, timezone=self.settings.timezone)
        extra = {"next_run_time": datetime.now(self.settings.timezone)} if tick_now else {}
        self._scheduler.add_job(
            self._scheduled_tick, trigger, id=TICK_JOB_ID, name="epos minute tick", replace_existing=True, **extra
        )
        self._scheduler.start()
        log.info("scheduler started (every minute, timezone %s)", self.settings.epos_timezone)
        return self

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def next_tick_at(self) -> datetime | None:
        job = self._scheduler.get_job(TICK_JOB_ID)
        return job.next_run_time if job is not None else None

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop ticking; with `wait`, a tick in progress finishes first (its claims stay consistent)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
            log.info("scheduler stopped")


_background: Scheduler | None = None


def start_in_process(settings: Settings, client: WebClient) -> Scheduler | None:
    """The scheduler beside the Slack listener (both run modes), unless SCHEDULER_IN_BOT is off."""
    global _background
    if not settings.scheduler_in_bot:
        log.info("SCHEDULER_IN_BOT is off: this process does not tick; run `epos scheduler` somewhere")
        return None
    if _background is None or not _background.running:
        _background = Scheduler(settings, client).start()
    return _background
