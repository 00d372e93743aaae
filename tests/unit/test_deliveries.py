"""Delivery claims: handled only once handling succeeded, given back on failure, never waited on for long."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot import db
from bot.services import deliveries
from bot.services.deliveries import ABANDONED_AFTER, Claim, Seen
from tests.support.locks import writes_locked_out

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_a_claim_counts_as_handled_only_once_it_succeeded(database_url: str) -> None:
    claim = deliveries.claim("action:U1:a:1", now=NOW)
    assert claim.seen is Seen.FIRST
    assert deliveries.claim("action:U1:a:1", now=NOW).seen is Seen.HANDLING
    claim.succeeded(now=NOW)
    assert deliveries.claim("action:U1:a:1", now=NOW).seen is Seen.HANDLED


def test_a_failed_claim_is_given_back_and_the_delivery_handled_again(database_url: str) -> None:
    claim = deliveries.claim("view:V1:h:abc", now=NOW)
    claim.failed()
    claim.succeeded(now=NOW)  # settled already: a failure is not turned into a success afterwards
    again = deliveries.claim("view:V1:h:abc", now=NOW)
    assert again.seen is Seen.FIRST


def test_a_claim_never_finished_is_taken_over_once_abandoned(database_url: str) -> None:
    deliveries.claim("event:Ev1", now=NOW)
    assert deliveries.claim("event:Ev1", now=NOW + ABANDONED_AFTER - timedelta(seconds=1)).seen is Seen.HANDLING
    assert deliveries.claim("event:Ev1", now=NOW + ABANDONED_AFTER + timedelta(seconds=1)).seen is Seen.FIRST


def test_a_claim_gives_up_within_slacks_three_seconds_while_writes_are_locked_out(database_url: str) -> None:
    deliveries.claim("event:EvDONE", now=NOW).succeeded(now=NOW)
    with writes_locked_out(database_url, "processed_deliveries"):
        started = time.monotonic()
        fresh = deliveries.claim("event:EvNEW", now=NOW)
        repeated = deliveries.claim("event:EvDONE", now=NOW)
        assert time.monotonic() - started < 3
    # Not known (a writer holds the lock): handled, and claimed again before it writes; known: still
    # recognised by a read.
    assert (fresh.seen, repeated.seen) == (Seen.BUSY, Seen.HANDLED)
    fresh.succeeded(now=NOW)
    assert deliveries.claim("event:EvNEW", now=NOW).seen is Seen.HANDLED


def test_first_time_still_tells_a_first_sighting(database_url: str) -> None:
    key = "asset-title-warning:t:d"
    assert deliveries.first_time(key, now=NOW) and not deliveries.first_time(key, now=NOW)
    assert deliveries.claim(key, now=NOW).seen is Seen.HANDLED


def test_a_late_vague_answer_never_takes_back_a_definite_one() -> None:
    claim = Claim("view:V1:h1:abc", Seen.UNCHECKED)
    claim.landed(Seen.FIRST)
    claim.landed(Seen.UNCHECKED)  # a wait that ran out, landing after the database's answer
    claim.landed(Seen.BUSY)
    assert claim.seen is Seen.FIRST


def test_an_event_that_went_ahead_unchecked_is_never_stopped_half_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliveries, "_claim_now", lambda *args, **kwargs: Seen.UNCHECKED)
    claim = Claim("event:EvLATE", Seen.UNCHECKED)
    claim.settle_before_writing()  # the database cannot say: an event goes ahead and writes
    claim.landed(Seen.HANDLING)  # then its claim lands: another copy is being handled too
    claim.settle_before_writing()  # its next write is not refused half-way through its handling


def test_a_form_whose_claim_cannot_be_settled_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliveries, "_claim_now", lambda *args, **kwargs: Seen.UNCHECKED)
    claim = Claim("view:V2:h1:abc", Seen.UNCHECKED)
    with pytest.raises(db.NotAnsweredInTime):
        claim.settle_before_writing()
    with pytest.raises(db.NotAnsweredInTime):  # nor at any later write of the same handling
        claim.settle_before_writing()


def test_a_write_that_goes_with_a_read_is_skipped_not_made_unclaimed(database_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliveries, "_claim_now", lambda *args, **kwargs: Seen.UNCHECKED)
    claim, done, written = Claim("command:T1", Seen.UNCHECKED), [], []
    db.check_before_writing(claim.settle_before_writing)
    try:
        # A search's content gap, say: the answer goes on, the gap is not written twice over.
        db.write_soon(lambda session: written.append(session), what="a content gap", then=lambda: done.append(1))
    finally:
        db.check_before_writing(None)
    for thread in threading.enumerate():  # a write put off to a thread of its own would be done by now
        if thread.name == "epos-write-soon":
            thread.join(20)
    assert (written, done) == ([], [1])
