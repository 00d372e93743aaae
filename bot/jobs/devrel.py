"""The DevRel timers: expiries, escalations, reminders, lost asks, and the asks and meetings of people who
can no longer come, claimed, then told through `bot.notify.devrel`.

The database decides what is due and each timer is claimed with a guarded UPDATE (a reminder and a lost
ask also as a scheduled post's claim), so several replicas never ask anyone twice or remind twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot import clock
from bot.config import Settings
from bot.notify import devrel as notify
from bot.services import claims, devrel
from bot.services.devrel_absence import release_absent
from models.enums import RequestState
from models.schemas.devrel import DevRelRequestView, RequestUpdate

log = logging.getLogger(__name__)

# An ask decided this long ago that no message shows was lost with the process deciding it (a live
# post, retries included, is over well before), and is sent by the next tick; claimed per version.
LOST_ASK_AFTER = timedelta(minutes=5)
LOST_ASK_JOB = "devrel-ask"
REMINDER_JOB = "devrel-reminder"


def _reminder_period(request: DevRelRequestView) -> str:
    return f"{request.id}:{request.version}"


def run_due_devrel_timers(client: WebClient, settings: Settings, now: datetime | None = None) -> int:
    """Expire, escalate and remind whatever is due at `now`; returns how many timers fired.

    Safe to run on every replica at once: each timer is claimed by a guarded UPDATE before anything is
    sent, so only one replica acts on it. A reminder is a scheduled post (`bot.outbox.post_claimed`):
    sent once, retried at the next tick when it did not reach Slack, never sent twice.
    """
    now = now or clock.now()
    policy = devrel.policy_for(settings)
    due = devrel.due_timers(now=now)
    fired = 0
    for request_id, version in due.expire:
        fired += _fire(client, settings, lambda: devrel.expire(request_id, version, now=now), now)
    for request_id, version in due.escalate:
        fired += _fire(client, settings, lambda: devrel.escalate(request_id, version, policy=policy, now=now), now)
    owner = claims.process_owner()
    for request_id in due.remind:
        fired += _remind(client, settings, request_id, now=now, owner=owner)
    fired += send_lost_asks(client, settings, now)
    fired += len(send_on_absent(client, settings, now=now))
    return fired


def send_on_absent(client: WebClient, settings: Settings, *, now: datetime) -> list[RequestUpdate]:
    """The asks and meetings of people taken off the roster or out of office that day (an import, a form)
    go to someone else, and everyone concerned is told."""
    updates = release_absent(policy=devrel.policy_for(settings), now=now)
    notify.publish_released(client, settings, updates, now=now)
    return updates


def _remind(client: WebClient, settings: Settings, request_id: int, *, now: datetime, owner: str) -> int:
    """Send one due reminder once: a refused DM is sent at the next tick, one whose answer was lost is
    looked for in the DM first; it is marked reminded only once it is in Slack."""
    request = devrel.get_request(request_id)
    period = _reminder_period(request)
    if not claims.claim(REMINDER_JOB, period, owner=owner, now=now):
        return 0
    try:
        posted = notify.remind(client, settings, request, job=REMINDER_JOB, period=period, now=now, owner=owner)
    except Exception as error:
        claims.release(REMINDER_JOB, period, f"{type(error).__name__}: {error}", owner=owner, now=now, unsure=True)
        log.exception("a DevRel reminder failed; it is retried at the next tick")
        return 0
    if posted is None or posted.landed:
        devrel.claim_reminder(request_id, now=now)  # marks it reminded, with its event in the history
        claims.complete(REMINDER_JOB, period, owner=owner, now=now)
    elif posted.outcome == "refused":
        log.warning("a DevRel reminder DM failed (%s); it is retried at the next tick", posted.error)
    else:
        log.warning("a DevRel reminder DM may not have arrived (%s); the next tick looks for it before sending it "
                    "again", posted.error)
    return 1 if posted is not None and posted.outcome == "posted" else 0


def send_lost_asks(client: WebClient, settings: Settings, now: datetime) -> int:
    """Send the asks whose process stopped between deciding them and posting them; each once."""
    owner = claims.process_owner()
    sent = 0
    for request_id, version in devrel.unannounced_asks(now=now, grace=LOST_ASK_AFTER):
        period = f"{request_id}:{version}"
        if not claims.claim(LOST_ASK_JOB, period, owner=owner, now=now):
            continue
        try:
            request = devrel.get_request(request_id)
            if request.version != version or request.state is not RequestState.asking or request.candidate_id is None:
                claims.complete(LOST_ASK_JOB, period, owner=owner, now=now)
                continue
            if notify.ask(client, settings, request, now=now):
                claims.complete(LOST_ASK_JOB, period, owner=owner, now=now)
                log.info("sent a DevRel ask that a stopped process had not delivered (request %s)", request_id)
                sent += 1
            else:
                claims.release(LOST_ASK_JOB, period, "the ask could not be posted", owner=owner, now=now)
        except Exception as error:
            claims.release(LOST_ASK_JOB, period, f"{type(error).__name__}: {error}", owner=owner, now=now)
            log.exception("a lost DevRel ask could not be sent; it is retried at a later tick")
    return sent


def _fire(client: WebClient, settings: Settings, transition: Any, now: datetime) -> int:
    try:
        update = transition()
        if update is None:
            return 0
        notify.publish(client, settings, update, now=now)
        return 1
    except Exception:
        log.exception("a DevRel timer failed; it is retried at the next tick")
        return 0
