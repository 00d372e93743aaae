"""Scheduled work. Jobs are thin: they call services, render with blocks, and post.

Every job has the signature `run(client, settings, now) -> int` (how many things it did) and is
safe to call on every tick from every process: what is due, and who does it, is decided in the
database. The registry lists them in the order one tick runs them; each is imported when it is
first needed, so a job whose module is not part of this build is skipped and the others still run.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot.config import Settings

log = logging.getLogger(__name__)

JobFunction = Callable[..., int]


@dataclass(frozen=True)
class Job:
    name: str
    module: str
    function: str
    # Jobs of ours take the claim owner (the scheduler instance); other domains' jobs do not need it.
    takes_owner: bool = False

    def resolve(self) -> JobFunction | None:
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as error:
            if error.name == self.module:
                return None
            raise
        return getattr(module, self.function, None)

    def run(self, client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int | None:
        """What the job did, or None when it is not part of this build."""
        function = self.resolve()
        if function is None:
            return None
        extra: dict[str, Any] = {"owner": owner} if self.takes_owner else {}
        return int(function(client, settings, now, **extra) or 0)


MINUTE_JOBS: tuple[Job, ...] = (
    Job("devrel-timers", "bot.jobs.devrel", "run_due_devrel_timers"),
    Job("esat-reminders", "bot.jobs.esat", "send_due_esat_reminders"),
    Job("nudges", "bot.jobs.nudges", "send_due_nudges", takes_owner=True),
    Job("digest", "bot.jobs.digest", "post_due_digest", takes_owner=True),
    Job("housekeeping", "bot.jobs", "tidy_up", takes_owner=True),
)

HOUSEKEEPING_JOB = "housekeeping"
KEEP_CLAIMS_FOR = timedelta(days=90)


def tidy_up(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
    """Once a day (in EPOS_TIMEZONE): forget old delivery keys and long-finished claims."""
    from bot.services import claims, deliveries

    period = now.astimezone(settings.timezone).date().isoformat()
    if not claims.claim(HOUSEKEEPING_JOB, period, owner=owner, now=now):
        return 0
    forgotten = deliveries.forget_older_than(now - deliveries.KEEP_FOR)
    forgotten += claims.forget_done_before(now - KEEP_CLAIMS_FOR)
    claims.complete(HOUSEKEEPING_JOB, period, owner=owner, now=now)
    if forgotten:
        log.info("housekeeping forgot %d old delivery keys and claims", forgotten)
    return forgotten
