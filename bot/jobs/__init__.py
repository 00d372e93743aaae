"""Scheduled work. Jobs are thin: they claim what is due, call services, and tell people through
`bot.notify` (the weekly digest, a report on a schedule rather than news of a change, posts its own).

Every job has the signature `run(client, settings, now) -> int` (how many things it did) and is
safe to call on every tick from every process: what is due, and who does it, is decided in the
database. The registry lists them in the order one tick runs them; each module is imported on the
first tick (keeping `import bot.jobs` light and free of import cycles), and one that cannot be
loaded fails that job's run loudly without stopping the others.
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

    def resolve(self) -> JobFunction:
        function = getattr(importlib.import_module(self.module), self.function, None)
        if not callable(function):
            raise ImportError(f"{self.module} has no job function {self.function}")
        return function

    def run(self, client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
        """How many things the job did (posts, reminders, rows tidied)."""
        function = self.resolve()
        extra: dict[str, Any] = {"owner": owner} if self.takes_owner else {}
        return int(function(client, settings, now, **extra) or 0)


MINUTE_JOBS: tuple[Job, ...] = (
    Job("devrel-timers", "bot.jobs.devrel", "run_due_devrel_timers"),
    Job("esat-reminders", "bot.jobs.esat", "send_due_esat_reminders", takes_owner=True),
    Job("nudges", "bot.jobs.nudges", "send_due_nudges", takes_owner=True),
    Job("asset-reviews", "bot.jobs.asset_reviews", "send_due_reviews", takes_owner=True),
    Job("digest", "bot.jobs.digest", "post_due_digest", takes_owner=True),
    Job("playbook-redraws", "bot.jobs.playbooks", "redraw_withdrawn_playbooks"),
    Job("stage-webhooks", "bot.jobs.hooks", "send_due_hooks", takes_owner=True),
    Job("housekeeping", "bot.jobs", "tidy_up", takes_owner=True),
)

HOUSEKEEPING_JOB = "housekeeping"
KEEP_CLAIMS_FOR = timedelta(days=90)


def tidy_up(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
    """Once a day (in EPOS_TIMEZONE): forget old delivery keys, long-finished claims and webhook calls, and stopped
    schedulers."""
    from bot.services import claims, deliveries, hooks, ticks

    period = now.astimezone(settings.timezone).date().isoformat()
    if not claims.claim(HOUSEKEEPING_JOB, period, owner=owner, now=now):
        return 0
    forgotten = deliveries.forget_older_than(now - deliveries.KEEP_FOR)
    forgotten += claims.forget_done_before(now - KEEP_CLAIMS_FOR)
    forgotten += ticks.forget_before(now - ticks.FORGET_AFTER)
    forgotten += hooks.forget_before(now - KEEP_CLAIMS_FOR)
    claims.complete(HOUSEKEEPING_JOB, period, owner=owner, now=now)
    if forgotten:
        log.info("housekeeping forgot %d old delivery keys, claims and scheduler ticks", forgotten)
    return forgotten
