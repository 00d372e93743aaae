"""Claims: one (job, period) is done by exactly one process, retried when it fails, never redone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.services import claims

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _db(database_url: str) -> None:
    pass


def test_first_claim_wins_and_a_second_owner_is_refused() -> None:
    assert claims.claim("digest", "2026-W47", owner="a", now=NOW, lease=LEASE)
    assert not claims.claim("digest", "2026-W47", owner="b", now=NOW, lease=LEASE)
    assert not claims.claim("digest", "2026-W47", owner="a", now=NOW + timedelta(minutes=1), lease=LEASE)
    state = claims.state("digest", "2026-W47")
    assert state is not None and state.claimed_by == "a" and state.attempts == 1 and not state.done


def test_other_periods_and_jobs_are_independent() -> None:
    assert claims.claim("digest", "2026-W47", owner="a", now=NOW)
    assert claims.claim("digest", "2026-W48", owner="b", now=NOW)
    assert claims.claim("nudge", "2026-W47", owner="b", now=NOW)


def test_a_completed_claim_is_never_taken_again_even_after_its_lease() -> None:
    assert claims.claim("digest", "2026-W47", owner="a", now=NOW, lease=LEASE)
    assert claims.complete("digest", "2026-W47", owner="a", now=NOW + timedelta(seconds=5))
    later = NOW + timedelta(days=3)
    assert not claims.claim("digest", "2026-W47", owner="b", now=later, lease=LEASE)
    state = claims.state("digest", "2026-W47")
    assert state is not None and state.done and state.done_at == NOW + timedelta(seconds=5)
    assert claims.done_periods("digest", ["2026-W46", "2026-W47"]) == {"2026-W47"}


def test_an_abandoned_claim_is_taken_over_once_its_lease_runs_out() -> None:
    assert claims.claim("digest", "2026-W47", owner="crashed", now=NOW, lease=LEASE)
    assert not claims.claim("digest", "2026-W47", owner="b", now=NOW + LEASE - timedelta(seconds=1), lease=LEASE)
    assert claims.claim("digest", "2026-W47", owner="b", now=NOW + LEASE, lease=LEASE)
    state = claims.state("digest", "2026-W47")
    assert state is not None and state.claimed_by == "b" and state.attempts == 2
    # The crashed owner can no longer complete what it no longer holds.
    assert not claims.complete("digest", "2026-W47", owner="crashed", now=NOW + LEASE)
    assert claims.complete("digest", "2026-W47", owner="b", now=NOW + LEASE)


def test_a_released_claim_is_retried_at_the_next_tick_then_with_backoff() -> None:
    assert claims.claim("nudge", "U1:2026-11-23", owner="a", now=NOW, lease=LEASE)
    assert claims.release("nudge", "U1:2026-11-23", "channel_not_found", owner="a", now=NOW)
    state = claims.state("nudge", "U1:2026-11-23")
    assert state is not None and state.last_error == "channel_not_found" and not state.done

    next_tick = NOW + timedelta(minutes=1)
    assert claims.claim("nudge", "U1:2026-11-23", owner="b", now=next_tick, lease=LEASE)
    assert claims.release("nudge", "U1:2026-11-23", "channel_not_found", owner="b", now=next_tick)
    # Second failure: wait a minute more before the third try.
    assert not claims.claim("nudge", "U1:2026-11-23", owner="c", now=next_tick + timedelta(seconds=59), lease=LEASE)
    assert claims.claim("nudge", "U1:2026-11-23", owner="c", now=next_tick + timedelta(minutes=1), lease=LEASE)
    state = claims.state("nudge", "U1:2026-11-23")
    assert state is not None and state.attempts == 3 and state.claimed_by == "c"


def test_retry_backoff_is_bounded() -> None:
    assert claims.retry_delay(1) == timedelta(0)
    assert claims.retry_delay(2) == timedelta(minutes=1)
    assert claims.retry_delay(3) == timedelta(minutes=2)
    assert claims.retry_delay(50) == timedelta(hours=1)


def test_release_by_someone_who_does_not_hold_the_claim_changes_nothing() -> None:
    assert claims.claim("digest", "2026-W47", owner="a", now=NOW, lease=LEASE)
    assert not claims.release("digest", "2026-W47", "boom", owner="b", now=NOW)
    assert not claims.claim("digest", "2026-W47", owner="b", now=NOW + timedelta(minutes=1), lease=LEASE)


def test_many_threads_racing_for_one_period_yield_one_winner() -> None:
    racers = 8
    barrier = threading.Barrier(racers)
    wins: list[str] = []
    errors: list[BaseException] = []

    def race(name: str) -> None:
        try:
            barrier.wait()
            if claims.claim("digest", "2026-W47", owner=name, now=NOW, lease=LEASE):
                wins.append(name)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=race, args=(f"p{i}",)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(wins) == 1


def test_many_threads_racing_to_take_over_an_abandoned_claim_yield_one_winner() -> None:
    assert claims.claim("digest", "2026-W47", owner="crashed", now=NOW, lease=LEASE)
    racers = 8
    barrier = threading.Barrier(racers)
    wins: list[str] = []

    def race(name: str) -> None:
        barrier.wait()
        if claims.claim("digest", "2026-W47", owner=name, now=NOW + LEASE, lease=LEASE):
            wins.append(name)

    threads = [threading.Thread(target=race, args=(f"p{i}",)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    state = claims.state("digest", "2026-W47")
    assert state is not None and state.attempts == 2 and state.claimed_by == wins[0]
