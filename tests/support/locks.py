"""Holding the lock a write needs from another connection, as a long import does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


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
