"""The weekly digest job: claim the week, post to DIGEST_CHANNEL, then the per-SE thread and the chart.

Exactly once: the week's claim `digest:<week>` is completed right after the channel post succeeds.
If that post fails the claim is released and a later tick posts it (within the catch-up window);
once it succeeded, nothing posts that week again. The thread reply and the chart are extras: each
is tried twice, and a failure is logged without re-posting the digest.
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
from bot.charts import digest_chart
from bot.config import Settings
from bot.services import claims, digest, people
from bot.sharing import SharedConversation
from models.schemas.digest import Digest

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
EXTRA_ATTEMPTS = 2
NO_CHANNEL = "DIGEST_CHANNEL is not set, so the weekly digest is not posted; set it to a channel id (README › Settings)"
CHANNEL_HINT = {
    "not_in_channel": "invite the bot to the digest channel with /invite @epos",
    "channel_not_found": "check DIGEST_CHANNEL: it must be a channel id like C0123ABCD that the bot can see",
    "is_archived": "DIGEST_CHANNEL points at an archived channel; pick another",
}

_warned = threading.Event()


def post_due_digest(client: WebClient, settings: Settings, now: datetime, *, owner: str) -> int:
    """On a tick: post last week's digest if it is due and not posted yet. Returns 1 when it posted."""
    if not settings.digest_channel:
        if not _warned.is_set():
            _warned.set()
            log.warning(NO_CHANNEL)
        return 0
    week = digest.due_week(now, settings.timezone, settings.digest_slot)
    if week is None or claims.done_periods(digest.JOB, [week]):
        return 0
    return 1 if post_week(client, settings, week, now=now, owner=owner) else 0


def post_week(client: WebClient, settings: Settings, week: str, *, now: datetime, owner: str) -> str | None:
    """Claim and post one week's digest. Returns the message ts, or None when it was not posted here
    (already posted, being posted by another process, or Slack refused it and it will be retried)."""
    assert settings.digest_channel is not None
    if not claims.claim(digest.JOB, week, owner=owner, now=now, lease=LEASE):
        return None
    try:
        figures = digest.compute(week, tz=settings.timezone, now=now)
        name_of = names_for(client, figures)
        blocks, text = digest_blocks.digest_message(figures, name_of)
        response = outbox.post(client, settings.digest_channel, text=text, blocks=blocks)
    except SharedConversation as shared:
        claims.release(digest.JOB, week, shared.code, owner=owner, now=now)
        log.warning("the %s digest was not posted: %s, and the digest is for our team only; set DIGEST_CHANNEL "
                    "to a channel only your organisation is in", week, shared.sharing.describe())
        return None
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        claims.release(digest.JOB, week, code, owner=owner, now=now)
        hint = CHANNEL_HINT.get(code, "it will be retried at the next tick")
        log.warning("the %s digest was not posted (%s): %s", week, code, hint)
        return None
    except OSError as error:
        # A dropped connection or a timeout once the client's own retries are spent.
        claims.release(digest.JOB, week, f"{type(error).__name__}: {error}", owner=owner, now=now)
        log.warning("the %s digest was not posted (Slack could not be reached: %s): it will be retried at the "
                    "next tick", week, error)
        return None
    except BaseException as error:
        claims.release(digest.JOB, week, f"{type(error).__name__}: {error}", owner=owner, now=now)
        raise
    if not claims.complete(digest.JOB, week, owner=owner, now=now):
        log.warning("the %s digest was posted after this process's claim had lapsed", week)
    channel, ts = str(response["channel"]), str(response["ts"])
    log.info("posted the %s digest", week)
    thread_blocks, thread_text = digest_blocks.breakdown_message(figures, name_of)
    _extra(lambda: outbox.post(client, channel, text=thread_text, blocks=thread_blocks, thread_ts=ts),
           f"the {week} digest's per-SE thread reply")
    _extra(lambda: _upload_chart(client, channel, ts, figures), f"the {week} digest's chart")
    return ts


def _upload_chart(client: WebClient, channel: str, thread_ts: str, figures: Digest) -> None:
    title = digest_blocks.CHART_TITLE.format(week=figures.week)
    png = digest_chart(figures.trend, figures.stage_dwell_days_median, title=title,
                       slowest_stage=figures.slowest_stage)
    outbox.upload(client, channel, content=png, filename=f"epos-digest-{figures.week}.png", title=title,
                  thread_ts=thread_ts, alt_text=digest_blocks.CHART_ALT)


def _extra(action: Callable[[], object], what: str) -> bool:
    for attempt in range(1, EXTRA_ATTEMPTS + 1):
        try:
            action()
            return True
        except SlackApiError as error:
            reason = str(error.response.get("error", "unknown_error"))
        except Exception as error:  # a chart that cannot render must not undo a posted digest
            reason = f"{type(error).__name__}: {error}"
        log.warning("%s failed (attempt %d of %d): %s", what, attempt, EXTRA_ATTEMPTS, reason)
    return False


def names_for(client: WebClient | None, figures: Digest) -> Callable[[str], str]:
    """Display names of the SEs the digest mentions, so the channel post names them without pinging them."""
    user_ids = {line.owner_id for line in figures.stale} | {owner.owner_id for owner in figures.owners}
    known: dict[str, str] = {}
    for user_id in sorted(user_ids):
        if client is not None:
            known[user_id] = slack_people.person(client, user_id).name
        else:
            cached = people.cached(user_id)
            known[user_id] = cached.name if cached else user_id
    return lambda user_id: known.get(user_id, user_id)
