"""The asset review job: one DM per verifier listing their assets due for review, and one per admin with
the admins' queue, each at NUDGE_TIME on a weekday.

A verifier's DM comes at NUDGE_TIME in their own timezone and is claimed as `asset-review:<verifier>:<local
date>`, so however many processes tick, they get at most one that day; the assets it lists are noted as
asked (`review_reminded_at`) with the claim, so each is asked about once per review period. A verifier
Slack says has left gets no DM; the admins' queue takes their assets.

The admins' queue comes at NUDGE_TIME in EPOS_TIMEZONE, claimed per admin and day
(`asset-admin-queue:<admin>:<date>`): assets overdue for longer than ASSET_ARCHIVE_AFTER_DAYS, proposed
for archiving once per review period, and the due assets of verifiers who left. Every admin that day sees
the same list: what one admin's DM noted today still counts as unasked for the others.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from slack_sdk import WebClient

from bot import slack_people
from bot.blocks.asset_review import MAX_LINES
from bot.config import Settings
from bot.notify import asset_reviews as notify
from bot.notify.zones import Zones
from bot.services import asset_due, asset_review, claims, nudges
from models.schemas.assets import DueAsset

log = logging.getLogger(__name__)

JOB = asset_review.JOB
ADMIN_JOB = asset_review.ADMIN_JOB


def send_due_reviews(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
    """On a tick: the verifiers' DMs whose time has come, then the admins' queue. Returns DMs sent."""
    asset_due.configure(settings.review_days())
    zones = Zones(client, settings.timezone)
    return _verifiers(client, settings, now, owner=owner, zones=zones) + _admins(
        client, settings, now, owner=owner, zones=zones)


def _verifiers(client: WebClient, settings: Settings, now: datetime, *, owner: str, zones: Zones) -> int:
    pending = asset_review.to_remind(now)
    if not pending:
        return 0
    by_verifier: dict[str, list[DueAsset]] = defaultdict(list)
    for item in pending:
        by_verifier[item.verifier_id].append(item)
    zones.prefetch(by_verifier)
    due: list[tuple[str, str, datetime]] = []
    for verifier, items in by_verifier.items():
        tz = zones(verifier)
        state, at = nudges.day_state(now, tz, settings.nudge_at)
        # Only what was due by the DM's time: an asset falling due at 14:00 waits for tomorrow's.
        if state == "due" and any(item.due_at <= at for item in items):
            due.append((verifier, asset_review.period(verifier, nudges.local_day(now, tz)), at))
    done = claims.done_periods(JOB, [period for _, period, _ in due])
    return sum(_send_one(client, verifier, period, at, now=now, owner=owner)
               for verifier, period, at in due if period not in done)


def _send_one(client: WebClient, verifier: str, period: str, at: datetime, *, now: datetime, owner: str) -> int:
    if not claims.claim(JOB, period, owner=owner, now=now, lease=asset_review.CLAIM_LEASE):
        return 0
    try:
        if slack_people.has_left(client, verifier):
            log.info("an asset verifier has left; their assets go to the admins' queue")
            claims.complete(JOB, period, owner=owner, now=now)
            return 0
        # Read again under the claim: a Verify since the tick began counts.
        items = [item for item in asset_review.to_remind(now, verifier_id=verifier) if item.due_at <= at]
        if not items:
            claims.complete(JOB, period, owner=owner, now=now)
            return 0
    except BaseException as error:
        claims.release(JOB, period, f"{type(error).__name__}: {error}", owner=owner, now=now)
        raise
    posted = notify.send_review(client, verifier, items, job=JOB, period=period, owner=owner, now=now)
    if not posted.landed:
        log.warning("the asset review DM to %s did not arrive (%s); it is retried later today", verifier, posted.error)
        return 0
    # Those beyond "and N more" are asked about next time.
    if not asset_review.record_reminded(JOB, period, [item.id for item in items[:MAX_LINES]], claimant=owner, now=now):
        log.warning("the asset review DM to %s was sent after this process's claim had lapsed", verifier)
    return int(posted.outcome == "posted")


def _admins(client: WebClient, settings: Settings, now: datetime, *, owner: str, zones: Zones) -> int:
    if not settings.epos_admins:
        return 0
    tz = settings.timezone
    state, _ = nudges.day_state(now, tz, settings.nudge_at)
    if state != "due":
        return 0
    day = nudges.local_day(now, tz)
    periods = {admin: asset_review.period(admin, day) for admin in settings.epos_admins}
    done = claims.done_periods(ADMIN_JOB, list(periods.values()))
    since = datetime.combine(day, time(0), tzinfo=tz)
    sent = 0
    for admin, period in periods.items():
        if period in done or not claims.claim(ADMIN_JOB, period, owner=owner, now=now, lease=asset_review.CLAIM_LEASE):
            continue
        try:
            proposals = asset_review.to_propose(now, after=timedelta(days=settings.asset_archive_after_days),
                                                asked_since=since)
            handed_over = _handed_over(client, now, since, zones)
            if not proposals and not handed_over:
                claims.complete(ADMIN_JOB, period, owner=owner, now=now)
                continue
        except BaseException as error:
            claims.release(ADMIN_JOB, period, f"{type(error).__name__}: {error}", owner=owner, now=now)
            raise
        posted = notify.send_admin_queue(client, admin, proposals, handed_over,
                                         archive_after_days=settings.asset_archive_after_days,
                                         job=ADMIN_JOB, period=period, owner=owner, now=now)
        if not posted.landed:
            log.warning("the admins' asset queue DM did not arrive (%s); it is retried later today", posted.error)
            continue
        # Only what the DM showed counts as asked; those beyond "and N more" come on the next weekday.
        shown_handed_over = handed_over[:max(0, MAX_LINES - len(proposals))]
        asset_review.record_reminded(ADMIN_JOB, period, [item.id for item in shown_handed_over], claimant=owner,
                                     now=now, proposed_ids=[item.id for item in proposals[:MAX_LINES]])
        sent += posted.outcome == "posted"
    return sent


def _handed_over(client: WebClient, now: datetime, since: datetime, zones: Zones) -> list[DueAsset]:
    """Due assets of verifiers who left. Slack is asked only about verifiers whose own DM day (today or the
    last) is done with assets still unasked: the only ones the verifier job passed over."""
    by_verifier: dict[str, list[DueAsset]] = defaultdict(list)
    for item in asset_review.to_remind(now, asked_since=since):
        by_verifier[item.verifier_id].append(item)
    if not by_verifier:
        return []
    days: dict[str, list[date]] = {}
    for verifier in by_verifier:
        today = nudges.local_day(now, zones(verifier))
        days[verifier] = [today, today - timedelta(days=1)]
    periods = {asset_review.period(v, d): v for v, ds in days.items() for d in ds}
    passed_over = {periods[p] for p in claims.done_periods(JOB, list(periods))}
    left = [v for v in sorted(passed_over) if slack_people.has_left(client, v)]
    return sorted((item for v in left for item in by_verifier[v]), key=lambda item: (item.due_at, item.id))
