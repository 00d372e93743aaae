"""De-duplication of Slack deliveries: a retried event or a double click is handled once.

A delivery is claimed before it is handled and counts as handled only once its handling succeeded; a
failed handling gives the claim back, so the same delivery sent again (a form the person submits again
after an apology) is handled then. A claim that was never finished (the process died mid-way) may be
taken over after `ABANDONED_AFTER`.

A claim the database does not answer in time leaves the delivery's answer free to go ahead, but not its
writes: before its first write the claim is settled (`Claim.settle_before_writing`). A delivery then found
handled elsewhere changes nothing (`Repeated`); one whose claim the database still cannot answer writes
nothing either, and the person is told so (`db.NotAnsweredInTime`): nothing a person sent is written
unclaimed. Events alone, acknowledged before their listeners run, are then handled unchecked.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot import clock, db
from models import ProcessedDelivery

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=2)
# Longer than any listener runs (a database wait, then Slack calls with their retries), so a claim this
# old and unfinished belongs to a process that died.
ABANDONED_AFTER = timedelta(minutes=5)
# The claim is made before the person has had any answer, within Slack's 3 seconds; a database busy
# for longer (an import writing, a lock held) must not spend that time, so the claim gives up early.
CLAIM_WAIT_SECONDS = 0.4
# The write's wait, then a read that needs no lock: all the check may add to a person's answer.
CLAIM_ANSWER_SECONDS = 0.6
# Recording that a delivery was handled happens after the person was answered, so it may wait out a
# writer that holds the lock for a while (an import's batch): given up, a redelivery would be handled twice.
RECORD_WAIT_SECONDS = 15.0
# Until when, counted from the claim's start, a delivery handled unchecked waits at its first write for
# its claim: the write would wait on the same database anyway, and a "nothing was changed" must still
# reach the person within Slack's 3 seconds.
SETTLE_BY_SECONDS = 1.2


class Seen(StrEnum):
    FIRST = "first"  # claimed: handle it
    HANDLED = "handled"  # handled before: change nothing
    HANDLING = "handling"  # being handled right now, by this or another process
    UNCHECKED = "unchecked"  # the database did not answer in time: go ahead, but settle it before writing
    BUSY = "busy"  # a writer held the lock and no copy has been seen: as UNCHECKED, and worth asking again


def first_time(key: str, *, now: datetime | None = None) -> bool:
    """True the first time `key` is seen, in this process or any other sharing the database."""
    now = now or clock.now()
    statement = (
        db.insert(ProcessedDelivery)
        .values(key=key[:255], seen_at=now, done_at=now)
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: with psycopg, SQLAlchemy reports rowcount -1 for this statement.
        .returning(ProcessedDelivery.key)
    )
    with db.transaction() as session:
        return session.execute(statement).first() is not None


NOT_YET_KNOWN = frozenset({Seen.UNCHECKED, Seen.BUSY})


class Repeated(Exception):
    """A delivery handled unchecked turned out, before its first write, to be a copy of one handled (or
    being handled) elsewhere: nothing is written, and the copy is answered as one."""

    def __init__(self, claim: Claim) -> None:
        super().__init__(f"a repeated delivery ({claim.kind})")
        self.claim = claim


class Claim:
    """One delivery's claim, settled once: `succeeded` when its handling is done, `failed` when not.

    A claim the database did not answer in time (`UNCHECKED`) adopts the database's answer should it land
    while the delivery is still being handled; landing later, it is settled at once the way the handling
    went. Either way the row the late claim wrote is never left saying "being handled"."""

    def __init__(self, key: str, seen: Seen, *, claimed_at: datetime | None = None) -> None:
        self.key = key
        self.seen = seen
        self.claimed_at = claimed_at or clock.now()
        self.settled = False
        self.handled = False
        self.attempt: Future[Seen] | None = None  # the database's answer, still to come
        self._started = time.monotonic()
        self._settle_tried = False
        self._went_ahead = False  # an event handled unchecked: its writes are under way
        self._lock = threading.Lock()

    def settle_before_writing(self) -> None:
        """Before each write of the handling, and each post to Slack: a claim not yet answered is waited for
        (or made again) once; a copy of a delivery handled or being handled elsewhere raises `Repeated`, and
        a delivery whose claim the database still cannot answer raises `db.NotAnsweredInTime`, so nothing is
        written or posted. An event goes ahead instead, and once it has, it is never stopped half-way."""
        with self._lock:
            seen, tried, went_ahead = self.seen, self._settle_tried, self._went_ahead
            self._settle_tried = True
        if went_ahead:
            return
        if seen in NOT_YET_KNOWN and not tried:
            self.landed(self._awaited())
            with self._lock:
                seen = self.seen
        if seen in (Seen.HANDLED, Seen.HANDLING):
            raise Repeated(self)
        if seen in NOT_YET_KNOWN:
            if self.kind == "event":
                # Acknowledged before its listener ran, an event has nobody to send it again: handled
                # unchecked (and recorded once handled) rather than lost. A person can send the rest again.
                with self._lock:
                    self._went_ahead = True
                return
            raise db.NotAnsweredInTime("could not tell whether this delivery was handled before")

    def _awaited(self) -> Seen:
        # At least one short wait for a lock, even for a listener that spent its time elsewhere first.
        left = max(self._started + SETTLE_BY_SECONDS - time.monotonic(), CLAIM_WAIT_SECONDS)
        attempt = self.attempt
        if attempt is not None and not attempt.cancelled():
            try:
                seen = attempt.result(timeout=left)
            except Exception:  # no answer in time, or none at all: asking again would not help
                return Seen.UNCHECKED
            if seen is not Seen.BUSY:
                return seen
            left = max(self._started + SETTLE_BY_SECONDS - time.monotonic(), CLAIM_WAIT_SECONDS)
        # Never sent (the claims before it held every thread), or a writer held the lock: once more.
        return _claim_now(self.key, self.claimed_at, wait=left)

    def succeeded(self, *, now: datetime | None = None) -> None:
        with self._lock:
            if self.settled or self.seen in (Seen.HANDLED, Seen.HANDLING):
                return
            self.settled = self.handled = True
            seen = self.seen
        self._record(seen, now or clock.now())

    def failed(self, *, within: float | None = None) -> None:
        """Nothing was done: give the claim back so that the same delivery, sent again, is handled.
        With `within`, the caller waits at most that long; past it the claim is given back in the
        background (an answer to the person must not wait on a busy database)."""
        with self._lock:
            if self.settled or self.seen in (Seen.HANDLED, Seen.HANDLING):
                return
            self.settled = True
            if self.seen is not Seen.FIRST:
                return  # nothing was written to give back (a late claim gives itself back when it lands)
        if within is not None:
            try:
                with db.within(within) as session:
                    self._give_back(session)
                return
            except SQLAlchemyError:
                threading.Thread(target=self._give_back_now, name="epos-give-back", daemon=True).start()
                return
        self._give_back_now()

    def landed(self, seen: Seen) -> None:
        """The database's answer to a claim that was not answered in time. A definite answer is never
        taken back by a vaguer one that lands after it (a wait that ran out, a lock that was held)."""
        with self._lock:
            if not self.settled:
                if not (seen in NOT_YET_KNOWN and self.seen not in NOT_YET_KNOWN):
                    self.seen = seen
                return
            handled = self.handled
        if seen is not Seen.FIRST:
            return
        # Not on the claim's own thread: the few of those must stay free for the claims of new deliveries.
        settle = (lambda: self._record(Seen.FIRST, clock.now())) if handled else self._give_back_now
        threading.Thread(target=settle, name="epos-late-claim", daemon=True).start()

    def current(self, now: datetime) -> bool:
        """Whether this claim, made in this process, still speaks for its delivery."""
        with self._lock:
            given_back = self.settled and not self.handled
        return not given_back and now - self.claimed_at < ABANDONED_AFTER

    def _record(self, seen: Seen, now: datetime) -> None:
        try:
            with db.within(RECORD_WAIT_SECONDS) as session:
                if seen is Seen.FIRST:
                    session.execute(update(ProcessedDelivery)
                                    .where(ProcessedDelivery.key == self.key, ProcessedDelivery.done_at.is_(None))
                                    .values(done_at=now))
                else:
                    session.execute(db.insert(ProcessedDelivery).values(key=self.key, seen_at=now, done_at=now)
                                    .on_conflict_do_update(index_elements=["key"], set_={"done_at": now}))
        except SQLAlchemyError:
            # Handled all the same; only a repeat of it would now be handled again.
            log.warning("could not record a handled delivery (%s)", self.kind, exc_info=True)

    def _give_back_now(self) -> None:
        try:
            with db.transaction() as session:
                self._give_back(session)
        except SQLAlchemyError:
            log.warning("could not give back the claim on a failed delivery (%s); it lapses in %s",
                        self.kind, ABANDONED_AFTER, exc_info=True)

    def _give_back(self, session: Any) -> None:
        session.execute(delete(ProcessedDelivery)
                        .where(ProcessedDelivery.key == self.key, ProcessedDelivery.done_at.is_(None)))

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


# A few at once: a claim takes milliseconds, and while the database does not answer, requests past these
# wait their half second in the queue and are handled unchecked rather than piling up threads.
_claims = ThreadPoolExecutor(max_workers=4, thread_name_prefix="epos-claim")
# The claims this process holds, while their requests do. A copy of a delivery that reaches this process
# again (Slack's retry, a double click, a form submitted twice) is told apart here even while the
# database is too slow to say, or has not yet recorded the first as handled.
_here: weakref.WeakValueDictionary[str, Claim] = weakref.WeakValueDictionary()
_here_lock = threading.Lock()


def claim(key: str, *, now: datetime | None = None) -> Claim:
    """Claim a delivery for handling. The person's answer waits at most `CLAIM_ANSWER_SECONDS` for it,
    whatever the database does (a lock held, a connection that does not answer): past that the delivery
    is handled unchecked, and recorded once handled."""
    key, now = key[:255], now or clock.now()
    with _here_lock:
        held = _here.get(key)
        if held is not None and held.current(now):
            return Claim(key, Seen.HANDLED if held.handled or held.seen is Seen.HANDLED else Seen.HANDLING,
                         claimed_at=now)
        mine = _here[key] = Claim(key, Seen.UNCHECKED, claimed_at=now)
    attempt = mine.attempt = _claims.submit(_claim_now, key, now)
    try:
        mine.landed(attempt.result(timeout=CLAIM_ANSWER_SECONDS))
    except FutureTimeout:
        # Not started yet (the database is holding the claims before it): it never will be.
        attempt.cancel()
        log.warning("could not claim a delivery in time (%s): the database did not answer", mine.kind)
        attempt.add_done_callback(lambda late: mine.landed(late.result())
                                  if not late.cancelled() and late.exception() is None else None)
    return mine


def in_flight(key: str) -> Claim | None:
    """The claim this process holds on a delivery, if its request is still going."""
    return _here.get(key[:255])


def reset_here() -> None:
    """Forget this process's claims: they speak for a database that is no longer the one in use."""
    with _here_lock:
        _here.clear()


def _claim_now(key: str, now: datetime, *, wait: float = CLAIM_WAIT_SECONDS) -> Seen:
    try:
        with db.within(wait) as session:
            inserted = session.execute(
                db.insert(ProcessedDelivery).values(key=key, seen_at=now, done_at=None)
                .on_conflict_do_nothing().returning(ProcessedDelivery.key)
            ).first()
            if inserted is not None:
                return Seen.FIRST
            taken_over = session.execute(
                update(ProcessedDelivery)
                .where(ProcessedDelivery.key == key, ProcessedDelivery.done_at.is_(None),
                       ProcessedDelivery.seen_at < now - ABANDONED_AFTER)
                .values(seen_at=now).returning(ProcessedDelivery.key)
            ).first()
            if taken_over is not None:
                return Seen.FIRST
            done_at = session.scalar(select(ProcessedDelivery.done_at).where(ProcessedDelivery.key == key))
            return Seen.HANDLED if done_at is not None else Seen.HANDLING
    except SQLAlchemyError as error:
        log.warning("could not claim a delivery in time (%s): %s", key.split(":", 1)[0], type(error).__name__)
        if not db.ran_out_waiting_for_a_lock(error):
            # The database itself did not answer: a read would wait as long again, before the person's answer.
            return Seen.UNCHECKED
    return _seen_without_waiting(key)


def _seen_without_waiting(key: str) -> Seen:
    """What a read (which takes no write lock) says when the claim could not be made in time."""
    try:
        with db.within(CLAIM_WAIT_SECONDS, readonly=True) as session:
            row = session.execute(select(ProcessedDelivery.done_at).where(ProcessedDelivery.key == key)).first()
    except SQLAlchemyError:
        return Seen.UNCHECKED
    if row is None:
        return Seen.BUSY
    return Seen.HANDLED if row.done_at is not None else Seen.HANDLING


def forget_older_than(cutoff: datetime) -> int:
    with db.transaction() as session:
        return session.execute(delete(ProcessedDelivery).where(ProcessedDelivery.seen_at < cutoff)).rowcount
