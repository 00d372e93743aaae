"""The stage webhooks' sender: each tick, the calls whose time has come, each claimed before it is sent.

A call is claimed (`stage-hook:<delivery id>`) so that of several replicas ticking at once only one sends
it; its result and its claim are recorded together (bot/services/hooks.py). A tick spends at most
TICK_BUDGET seconds on calls, so a receiver that hangs cannot hold up the digest or the nudges, and once an
address has failed in a tick its other calls wait for the next one. Then the admins are told of the calls
epos gave up on (bot/notify/hooks.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient

from bot import webhooks
from bot.config import Settings
from bot.notify import hooks as notify
from bot.services import claims, hooks

log = logging.getLogger(__name__)

TICK_BUDGET = 20.0


def send_due_hooks(client: WebClient, settings: Settings, now: datetime, *, owner: str | None = None,
                   budget: float = TICK_BUDGET, monotonic: Callable[[], float] = time.monotonic,
                   timeout: float = webhooks.TIMEOUT_SECONDS) -> int:
    """Send the stage webhook calls due at `now`; returns how many the receivers accepted (and admin DMs sent)."""
    owner = owner or claims.process_owner()
    started = monotonic()
    failed_here: set[str] = set()
    done = 0
    for call in hooks.due(now):
        if monotonic() - started > budget:
            break
        if call.url in failed_here:
            continue
        if not claims.claim(hooks.JOB, call.delivery_id, owner=owner, now=now, lease=hooks.CLAIM_LEASE):
            continue
        secret, problem, final = hooks.secret_for(call.stage)
        if secret is None:
            outcome = hooks.failed(call.delivery_id, problem, owner=owner, now=now, final=final)
            log.warning("stage webhook %s for %s not sent: %s (%s)", call.stage, call.account, problem, outcome)
            continue
        answer = webhooks.call(call.url, call.body.encode("utf-8"), secret=secret, delivery_id=call.delivery_id,
                               event=f"stage.{call.event}", now=now, timeout=timeout)
        if answer.ok:
            hooks.delivered(call.delivery_id, owner=owner, now=now)
            done += 1
            continue
        failed_here.add(call.url)
        outcome = hooks.failed(call.delivery_id, answer.error, owner=owner, now=now)
        if outcome == "gave_up":
            log.warning("gave up on the %s webhook for %s after %d attempts: %s", call.stage, call.account,
                        call.attempts + 1, answer.error)
        else:
            log.info("the %s webhook for %s failed (%s); it is tried again later", call.stage, call.account,
                     answer.error)
    return done + notify.tell_admins(client, settings, now, owner=owner)
