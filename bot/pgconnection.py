"""A psycopg connection that never waits on the server for ever.

A database behind a hung network (or a frozen host) keeps the TCP connection open and acknowledges
every byte, so neither TCP keepalives nor the server's statement timeout end the wait: the server
never sees the statement. Here every round trip has a limit of its own; past it the connection is
closed, so nothing more is sent on it, and the caller gets an OperationalError.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors


class DatabaseDidNotAnswer(psycopg.OperationalError):
    """The database did not answer a round trip within its limit; the connection was closed."""


class BoundedConnection(psycopg.Connection[Any]):
    round_trip_seconds: float | None = None
    _next_limit: float | None = None
    # Set when a round trip ran out of time while the connection was left open (a ping).
    unanswered: DatabaseDidNotAnswer | None = None

    def limit_next_round_trips(self, seconds: float | None) -> None:
        """A shorter limit for the round trips until it is set back to None (the pool's ping)."""
        self._next_limit = seconds

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:  # type: ignore[override]
        limit = timeout if timeout is not None else (self._next_limit or self.round_trip_seconds)
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except errors._WaitTimeout:
            # Whatever was sent may still reach the server later; closing sends no COMMIT, and the
            # server's idle-in-transaction timeout rolls back a transaction left open. A ping's
            # connection is left to the pool, which discards it and fails the checkout at once
            # instead of trying a new connection (that a hung database would hold as long again).
            unanswered = DatabaseDidNotAnswer(f"the database did not answer within {limit:g} s")
            if self._next_limit is None:
                self.close()
            else:
                self.unanswered = unanswered
            raise unanswered from None
