"""The weekly digest job: claim the week, post to DIGEST_CHANNEL, then the per-SE thread and the chart.

Exactly once (`bot.outbox.post_claimed`): the week's claim `digest:<week>` is completed right after the
channel post lands. A post Slack refused is posted by a later tick (within the catch-up window); one
whose answer was lost is looked for in the channel first. The per-SE thread reply and the chart are
claimed the same way (`digest-thread:<week>`, `digest-chart:<week>`; the chart, which carries no
metadata, is looked for by its file name): each is tried twice, then by later ticks, and the digest
is never posted again for them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import outbox, slack_people
from bot.blocks import digest as digest_blocks
from bot.blocks import pilots as pilot_blocks
from bot.charts import digest_chart
from bot.config import Settings
from bot.services import claims, digest
from bot.sharing import SHARED
from models.schemas.digest import Digest

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
THREAD_JOB = "digest-thread"
CHART_JOB = "digest-chart"
EXTRA_ATTEMPTS = 2
NO_CHANNEL = "DIGEST_CHANNEL is not set, so the weekly digest is not posted; set it to a channel id (README › Settings)"
CHANNEL_HINT = {
    "not_in_channel": "invite the bot to the digest channel with /invite @epos",
    "channel_not_found": "check DIGEST_CHANNEL: it must be a channel id like C0123ABCD that the bot can see",
    "is_archived": "DIGEST_CHANNEL points at an archived channel; pick another",
    SHARED: "DIGEST_CHANNEL is shared with another organisation, and the digest is for our team only; set it to "
            "a channel only your organisation is in",
}

_warned = threading.Event()


def post_due_digest(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
    """On a tick: post last week's digest if it is due and not posted yet, or its thread reply and chart
    if only they are missing. Returns 1 when it posted the digest."""
    if not settings.digest_channel:
        if not _warned.is_set():
            _warned.set()
            log.warning(NO_CHANNEL)
        return 0
    week = digest.due_week(now, settings.timezone, settings.digest_slot)
    if week is None:
        return 0
    done = claims.done_periods(digest.JOB, [week])
    if not done:
        return 1 if post_week(client, settings, week, now=now, owner=owner) else 0
    if _due_again(THREAD_JOB, week, now) or _due_again(CHART_JOB, week, now):
        resume_thread(client, settings, week, now=now, owner=owner)
    return 0


def _due_again(job: str, week: str, now: datetime) -> bool:
    """Not done, and neither held by a process nor backing off after a failure."""
    state = claims.state(job, week)
    return state is None or (not state.done and state.lease_until <= now)


def post_week(client: WebClient, settings: Settings, week: str, *, now: datetime, owner: str) -> str | None:
    """Claim and post one week's digest. Returns the message ts, or None when it was not posted here
    (already posted, being posted by another process, or it did not reach Slack and will be retried)."""
    assert settings.digest_channel is not None
    if not claims.claim(digest.JOB, week, owner=owner, now=now, lease=LEASE):
        return None
    try:
        figures = digest.compute(week, tz=settings.timezone, now=now, managers=settings.epos_managers)
        name_of = names_for(client, figures)
        blocks, text = digest_blocks.digest_message(figures, name_of)
    except BaseException as error:
        claims.release(digest.JOB, week, f"{type(error).__name__}: {error}", owner=owner, now=now)
        raise
    posted = outbox.post_claimed(client, digest.JOB, week, settings.digest_channel, owner=owner, now=now,
                                 text=text, blocks=blocks)
    if posted.outcome == "refused":
        hint = CHANNEL_HINT.get(posted.error, "it will be retried at the next tick")
        log.warning("the %s digest was not posted (%s): %s", week, posted.error, hint)
        return None
    if posted.outcome == "unsure":
        log.warning("the %s digest may not have reached Slack (%s): the next tick looks for it in the channel "
                    "and posts it only if it is not there", week, posted.error)
        return None
    if not claims.complete(digest.JOB, week, owner=owner, now=now):
        log.warning("the %s digest was posted after this process's claim had lapsed", week)
    if posted.outcome == "found":
        log.info("the %s digest was already in the channel from an earlier attempt", week)
    else:
        log.info("posted the %s digest", week)
    post_thread(client, settings, figures, name_of, posted.channel, posted.ts, now=now, owner=owner)
    return posted.ts


def post_thread(client: WebClient, settings: Settings, figures: Digest, name_of: Callable[[str], str], channel: str,
                ts: str, *, now: datetime, owner: str) -> bool:
    """The per-SE breakdown in the digest's thread, then the chart, each once (claimed like the digest).
    True when both are in Slack."""
    week = figures.week
    if not claims.done_periods(THREAD_JOB, [week]):
        thread_blocks, thread_text = digest_blocks.breakdown_message(figures, name_of)
        if not _extra(lambda: outbox.post_claimed(client, THREAD_JOB, week, channel, owner=owner, now=now,
                                                  text=thread_text, blocks=thread_blocks, thread_ts=ts),
                      THREAD_JOB, week, f"the {week} digest's per-SE thread reply", now=now, owner=owner):
            return False
    if not claims.done_periods(CHART_JOB, [week]):
        return _extra(lambda: _upload_chart(client, channel, ts, figures, now=now, owner=owner), CHART_JOB, week,
                      f"the {week} digest's chart", now=now, owner=owner)
    return True


def resume_thread(client: WebClient, settings: Settings, week: str, *, now: datetime, owner: str) -> bool:
    """The digest is posted but its thread reply or chart never went out: find the digest and go on."""
    assert settings.digest_channel is not None
    try:
        found = outbox.find_posted(client, settings.digest_channel, digest.JOB, week)
    except (SlackApiError, OSError) as error:
        log.warning("the %s digest's thread waits: the digest could not be found in the channel (%s)", week, error)
        return False
    if found is None:
        # Deleted from the channel, say: there is nothing to reply under, now or at a later tick.
        for job in (THREAD_JOB, CHART_JOB):
            if claims.claim(job, week, owner=owner, now=now, lease=LEASE):
                claims.complete(job, week, owner=owner, now=now)
        log.warning("the %s digest's thread reply and chart are not posted: the digest is no longer in the "
                    "channel", week)
        return False
    figures = digest.compute(week, tz=settings.timezone, now=now, managers=settings.epos_managers)
    return post_thread(client, settings, figures, names_for(client, figures), found[0], found[1], now=now,
                       owner=owner)


def _upload_chart(client: WebClient, channel: str, thread_ts: str, figures: Digest, *, now: datetime,
                  owner: str) -> outbox.Posted:
    title = digest_blocks.CHART_TITLE.format(week=figures.week)
    png = digest_chart(figures.trend, figures.stage_dwell_days_median, title=title,
                       slowest_stage=figures.slowest_stage, pilot_trend=figures.pilot_trend,
                       pilot_name=figures.pilot.pilot.name if figures.pilot else None)
    return outbox.upload_claimed(client, CHART_JOB, figures.week, channel, thread_ts=thread_ts, owner=owner, now=now,
                                 content=png, filename=f"epos-digest-{figures.week}.png", title=title,
                                 alt_text=digest_blocks.CHART_ALT + (pilot_blocks.CHART_ALT if figures.pilot else ""))


def _extra(send: Callable[[], outbox.Posted], job: str, week: str, what: str, *, now: datetime, owner: str) -> bool:
    """Claim and send a part of the digest's thread, twice at most in this tick; later ticks go on from
    where it stopped, and the digest itself is never posted again."""
    for attempt in range(1, EXTRA_ATTEMPTS + 1):
        if not claims.claim(job, week, owner=owner, now=now, lease=LEASE):
            return False  # released with a back-off, or held by another process: a later tick goes on
        try:
            posted = send()
        except Exception as error:  # a chart that cannot render must not undo a posted digest
            claims.release(job, week, f"{type(error).__name__}: {error}", owner=owner, now=now, unsure=True)
            log.warning("%s failed (attempt %d of %d): %s", what, attempt, EXTRA_ATTEMPTS, error)
            continue
        if posted.landed:
            claims.complete(job, week, owner=owner, now=now)
            return True
        log.warning("%s did not go out (attempt %d of %d): %s", what, attempt, EXTRA_ATTEMPTS, posted.error)
    return False


def names_for(client: WebClient | None, figures: Digest) -> Callable[[str], str]:
    """Display names of the SEs the digest mentions, so the channel post names them without pinging them."""
    user_ids = {line.owner_id for line in figures.stale} | {owner.owner_id for owner in figures.owners}
    user_ids |= figures.adoption.shown_ids() if figures.adoption else set()
    user_ids |= {asset.verifier_id for asset in figures.overdue_assets}
    directory = slack_people.Directory(client)
    directory.prefetch(user_ids)
    known = {user_id: directory.person(user_id).name for user_id in sorted(user_ids)}
    return lambda user_id: known.get(user_id, user_id)
