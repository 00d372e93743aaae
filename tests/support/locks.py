"""Holding the lock a write needs from another connection, as a long import does."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest


@contextmanager
def writes_locked_out(database_url: str, table: str) -> Iterator[None]:
    """Until the block ends, another connection holds the lock a write to `table` needs: SQLite's one
    write lock, or on PostgreSQL the table's."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))
        holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


def slow_claims(monkeypatch: pytest.MonkeyPatch, seconds: float, *, landing: bool = False) -> threading.Event:
    """From now on this process is like another replica (one that never saw earlier copies of a delivery)
    whose database answers each delivery's claim `seconds` late: after the person's answer was due, and
    (`landing`) still in time for the delivery's first write, however loaded the machine running the test.
    The event returned is set once a late claim has landed."""
    from bot.services import deliveries

    deliveries.reset_here()
    if landing:
        monkeypatch.setattr(deliveries, "SETTLE_BY_SECONDS", seconds + 5)
    claim_now, landed = deliveries._claim_now, threading.Event()

    def late(*args: object, **kwargs: object) -> object:
        time.sleep(seconds)
        try:
            return claim_now(*args, **kwargs)
        finally:
            landed.set()

    monkeypatch.setattr(deliveries, "_claim_now", late)
    return landed
