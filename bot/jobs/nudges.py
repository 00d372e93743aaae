"""The nudge job: one DM per SE with all their stale engagements, at NUDGE_TIME in their timezone.

Each SE's day is claimed as `nudge:<SE>:<local date>`, so however many processes tick, an SE gets
one DM that day. A DM that Slack refuses (a deactivated user, `channel_not_found`) releases only
that SE's claim, to be retried at a later tick within the day's window; the other SEs go on. A DM
whose answer was lost is looked for in the SE's DM before it is sent again (`bot.outbox.post_claimed`).
The job claims; `bot.notify.nudges` sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.blocks import nudges as nudge_blocks
from bot.config import Settings
from bot.notify import nudges as notify
from bot.notify.zones import Zones
from bot.services import claims, engagements, nudges
from models.schemas.nudges import NudgeRun, SeNudge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    sent: bool
    error: str = ""


def due_nudges(settings: Settings, now: datetime, zone_for: Callable[[str], ZoneInfo]) -> list[tuple[str, date, datetime]]:
    """The SEs to DM on this tick, with their local day and nudge time: their nudge time has come, they
    were not nudged today, and their DM would list something.

    Cheapest question first, since the scheduler asks every minute: which SEs have anything stale (one
    query), whose nudge time it is, who is done today (one query), and only then, for the SEs left, whose
    DM would list anything (one query per nudge time, in one session). Reading every stale line on every
    tick cost seconds at 100k open engagements (docs/performance.md)."""
    waiting: list[tuple[str, ZoneInfo, date, datetime]] = []
    owners = engagements.stale_owners(now)
    if isinstance(zone_for, Zones):
        zone_for.prefetch(owners)  # one query for a thousand SEs' timezones, not one each
    for se in owners:
        tz = zone_for(se)
        state, due_at = nudges.day_state(now, tz, settings.nudge_at)
        if state == "due":
            waiting.append((se, tz, nudges.local_day(now, tz), due_at))
    if not waiting:
        return []
    done = nudges.done_today([se for se, _, _, _ in waiting], {se: day for se, _, day, _ in waiting})
    left = [(se, tz, day, due_at) for se, tz, day, due_at in waiting if se not in done]
    if not left:
        return []
    # Only what was already stale at nudge time: an engagement going stale at 14:00 waits for tomorrow.
    sendable = nudges.sendable({se: (due_at, tz) for se, tz, _, due_at in left}, now=now,
                               cooldown_days=settings.nudge_cooldown_days)
    return [(se, day, due_at) for se, _, day, due_at in left if se in sendable]


def send_due_nudges(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
    """On a tick: DM every SE whose nudge time has come today and who was not nudged yet. Returns DMs sent."""
    zone_for = Zones(client, settings.timezone)
    sent = 0
    for se, day, due_at in due_nudges(settings, now, zone_for):
        result = send_to(client, settings, se, day, now=now, owner=owner, stale_by=due_at, zone_for=zone_for)
        sent += result.sent
    return sent


def send_now(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> NudgeRun:
    """`epos nudges`: DM every SE with something stale now, whatever the hour; still once per local day."""
    zone_for = Zones(client, settings.timezone)
    sent: list[str] = []
    failed: dict[str, str] = {}
    skipped: list[str] = []
    quiet: list[str] = []
    for nudge in nudges.stale_by_owner(now, cooldown_days=settings.nudge_cooldown_days, zone_for=zone_for):
        if not nudge.lines:
            quiet.append(nudge.owner_id)
            continue
        day = nudges.local_day(now, zone_for(nudge.owner_id))
        result = send_to(client, settings, nudge.owner_id, day, now=now, owner=owner, zone_for=zone_for)
        if result.sent:
            sent.append(nudge.owner_id)
        elif result.error:
            failed[nudge.owner_id] = result.error
        else:
            skipped.append(nudge.owner_id)
    return NudgeRun(sent=sent, failed=failed, skipped=skipped, quiet=quiet)


def send_to(
    client: WebClient, settings: Settings, se: str, day: date, *, now: datetime, owner: str,
    stale_by: datetime | None = None, zone_for: Callable[[str], ZoneInfo] | None = None,
) -> SendResult:
    """Claim the SE's day, and DM them what is stale now (and was by `stale_by`). `zone_for`: the run's
    lookup, so a tick of a thousand SEs reads each one's timezone once."""
    period = nudges.period(se, day)
    if not claims.claim(nudges.JOB, period, owner=owner, now=now, lease=nudges.CLAIM_LEASE):
        return SendResult(sent=False)
    try:
        zone_for = zone_for or Zones(client, settings.timezone)
        # Read again under the claim: a snooze or an update since the tick began counts.
        found = nudges.stale_by_owner(now, cooldown_days=settings.nudge_cooldown_days, zone_for=zone_for, owner_id=se)
        nudge = found[0] if found else SeNudge(owner_id=se, lines=[], quiet=[])
        lines = [line for line in nudge.lines if stale_by is None or line.stale_since <= stale_by]
        if not lines:
            nudges.record_sent(se, day, [], claimant=owner, now=now)
            return SendResult(sent=False)
        zone = zone_for(se)
    except BaseException as error:
        claims.release(nudges.JOB, period, f"{type(error).__name__}: {error}", owner=owner, now=now)
        raise
    posted = notify.send(client, replace(nudge, lines=lines), zone, cooldown_days=settings.nudge_cooldown_days,
                         job=nudges.JOB, period=period, owner=owner, now=now)
    if posted.outcome == "refused":
        log.warning("the nudge DM to %s failed (%s); it is retried later today", se, posted.error)
        return SendResult(sent=False, error=posted.error)
    if posted.outcome == "unsure":
        log.warning("the nudge DM to %s may not have arrived (%s); a later tick looks for it in the DM and sends "
                    "it only if it is not there", se, posted.error)
        return SendResult(sent=False, error="unreachable")
    shown = lines[: nudge_blocks.MAX_LINES]
    # Only the engagements the DM showed start their cooldown; those beyond "and N more" come next time.
    if not nudges.record_sent(se, day, [line.id for line in shown], claimant=owner, now=now):
        log.warning("the nudge to %s was sent after this process's claim had lapsed", se)
    # Found in the DM from an earlier attempt: done today, but not sent by this call.
    return SendResult(sent=posted.outcome == "posted")
