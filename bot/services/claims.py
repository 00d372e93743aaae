"""Exactly-once scheduled work: whoever claims (job, period) first does it, in any process on the database.

A claim is a row under the unique constraint (job, period). `claim` inserts it with
`INSERT ... ON CONFLICT DO NOTHING`; the one process whose insert lands does the work, then calls
`complete`. A claim whose work failed is `release`d: its lease is cut short so a later tick takes it
again (with `attempts` counted up), so scheduled work is retried, never lost. A claim whose holder
died keeps its lease until `lease_until`, then it too is taken again. A completed claim is never
taken again, which is what keeps a posted digest or nudge from being posted twice.

A claim for a post is also "unsure" from just before the post until Slack's answer settles it
(`mark_posting`): a post that Slack accepted but answered too late, or a holder that died mid-post,
leaves it so, and the next holder asks Slack whether the post is there before sending it again
(`bot.outbox.post_claimed`). A refusal from Slack is certain, so `release` clears it.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot import clock, db
from models import JobClaim

DEFAULT_LEASE = timedelta(minutes=10)
# A failed attempt is retried at the next tick; repeated failures back off so that a permanently
# broken destination (a deactivated user, an archived channel) is not hammered every minute.
FIRST_RETRY_AFTER = timedelta(0)
LONGEST_RETRY_AFTER = timedelta(hours=1)
ERROR_TEXT = 2000


class ClaimState(BaseModel, frozen=True):
    job: str
    period: str
    claimed_by: str
    claimed_at: datetime
    lease_until: datetime
    attempts: int
    done_at: datetime | None
    last_error: str
    posting_since: datetime | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def unsure(self) -> bool:
        """A post was sent under this claim and nobody knows whether Slack has it."""
        return not self.done and self.posting_since is not None


def process_owner() -> str:
    """A name for this process that no other process (on this host or another) shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def retry_delay(attempts: int) -> timedelta:
    """How long a released claim waits before it may be taken again, after `attempts` failed tries."""
    if attempts <= 1:
        return FIRST_RETRY_AFTER
    minutes = 2 ** min(attempts - 2, 10)
    return min(timedelta(minutes=minutes), LONGEST_RETRY_AFTER)


def claim(job: str, period: str, *, owner: str, now: datetime | None = None, lease: timedelta = DEFAULT_LEASE) -> bool:
    """True when this caller now holds (job, period) and must do the work; False when it is done or
    held by someone else whose lease has not run out."""
    now = now or clock.now()
    fresh = (
        db.insert(JobClaim)
        .values(job=job, period=period, claimed_by=owner, claimed_at=now, lease_until=now + lease, attempts=1,
                done_at=None, last_error="")
        .on_conflict_do_nothing(index_elements=["job", "period"])
        .returning(JobClaim.id)
    )
    # Taking over an abandoned claim is guarded by the same conditions that made it abandoned, so of
    # two processes racing for it only one UPDATE matches the row.
    takeover = (
        update(JobClaim)
        .where(
            JobClaim.job == job,
            JobClaim.period == period,
            JobClaim.done_at.is_(None),
            JobClaim.lease_until <= now,
        )
        .values(claimed_by=owner, claimed_at=now, lease_until=now + lease, attempts=JobClaim.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    with db.transaction() as session:
        # RETURNING rather than rowcount: an ORM insert's rowcount is not reliable on every driver.
        if session.execute(fresh).scalar() is not None:
            return True
        return session.execute(takeover).rowcount == 1


def complete(job: str, period: str, *, owner: str, now: datetime | None = None) -> bool:
    """Mark the work done. False when this owner no longer holds the claim (its lease ran out and
    another process took it over), which the caller should log: the work may then happen twice."""
    with db.transaction() as session:
        return complete_in(session, job, period, owner=owner, now=now or clock.now())


def complete_in(session: Session, job: str, period: str, *, owner: str, now: datetime) -> bool:
    """`complete` inside the caller's unit of work, so the work's own writes and the claim commit together."""
    statement = (
        update(JobClaim)
        .where(JobClaim.job == job, JobClaim.period == period, JobClaim.claimed_by == owner, JobClaim.done_at.is_(None))
        .values(done_at=now, last_error="")
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1


def reopen_in(session: Session, job: str, period: str) -> None:
    """Forget a finished claim inside the caller's unit of work, so the job may claim that period again
    (work an operator asks to have done once more)."""
    session.execute(delete(JobClaim).where(JobClaim.job == job, JobClaim.period == period))


def mark_posting(job: str, period: str, *, owner: str, now: datetime) -> bool:
    """Note, before sending, that this claim's post is on its way: until `complete` or a certain
    `release`, the post may or may not be in Slack. Keeps an earlier mark, so a holder looking for an
    old unsure post still searches from the first attempt. False when this owner lost the claim."""
    statement = (
        update(JobClaim)
        .where(JobClaim.job == job, JobClaim.period == period, JobClaim.claimed_by == owner, JobClaim.done_at.is_(None))
        .values(posting_since=func.coalesce(JobClaim.posting_since, now))
        .execution_options(synchronize_session=False)
    )
    with db.transaction() as session:
        return session.execute(statement).rowcount == 1


def release(
    job: str, period: str, error: str, *, owner: str, now: datetime | None = None, unsure: bool = False
) -> bool:
    """Give the claim back after a failed attempt, noting why, so a later tick retries the work.

    `unsure`: the post may have reached Slack (no answer came), so the next holder looks for it before
    posting; otherwise Slack's refusal is certain and the next holder simply posts."""
    now = now or clock.now()
    with db.transaction() as session:
        row = session.scalars(
            select(JobClaim).where(
                JobClaim.job == job, JobClaim.period == period, JobClaim.claimed_by == owner, JobClaim.done_at.is_(None)
            )
        ).one_or_none()
        if row is None:
            return False
        row.lease_until = now + retry_delay(row.attempts)
        row.last_error = error[:ERROR_TEXT]
        if not unsure:
            row.posting_since = None
        return True


def release_in(session: Session, job: str, period: str, error: str, *, owner: str, until: datetime) -> bool:
    """`release` inside the caller's unit of work, with the caller's own back-off: the claim may be taken
    again from `until`. For work that records its own attempts beside the claim (bot/services/hooks.py)."""
    statement = (
        update(JobClaim)
        .where(JobClaim.job == job, JobClaim.period == period, JobClaim.claimed_by == owner, JobClaim.done_at.is_(None))
        .values(lease_until=until, last_error=error[:ERROR_TEXT], posting_since=None)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1


def state(job: str, period: str) -> ClaimState | None:
    with db.reading() as session:
        row = session.scalars(select(JobClaim).where(JobClaim.job == job, JobClaim.period == period)).one_or_none()
        return None if row is None else _state(row)


def done_periods(job: str, periods: list[str]) -> set[str]:
    """Which of `periods` are already done for `job` (one query, for ticks that check many)."""
    if not periods:
        return set()
    with db.reading() as session:
        return set(
            session.scalars(
                select(JobClaim.period).where(
                    JobClaim.job == job, JobClaim.period.in_(periods), JobClaim.done_at.is_not(None)
                )
            )
        )


def forget_done_before(cutoff: datetime) -> int:
    """Delete claims finished before `cutoff`; their periods are long past any catch-up window."""
    with db.transaction() as session:
        statement = delete(JobClaim).where(JobClaim.done_at.is_not(None), JobClaim.done_at < cutoff)
        return session.execute(statement).rowcount


def recent(limit: int = 20) -> list[ClaimState]:
    """The latest claims, newest first: what `epos scheduler --status` shows."""
    with db.reading() as session:
        rows = session.scalars(select(JobClaim).order_by(JobClaim.claimed_at.desc(), JobClaim.id.desc()).limit(limit))
        return [_state(row) for row in rows]


def _state(row: JobClaim) -> ClaimState:
    return ClaimState(
        job=row.job,
        period=row.period,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        lease_until=row.lease_until,
        attempts=row.attempts,
        done_at=row.done_at,
        last_error=row.last_error,
        posting_since=row.posting_since,
    )
