"""Engine, sessions and migrations. Services open their own unit of work with `db.transaction()`."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

import migrations

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bot.config import Settings

MIGRATIONS_DIR = Path(migrations.__file__).parent
# Tools that run beside the live bot (migrations, imports) wait this long for SQLite's lock.
SQLITE_BUSY_TIMEOUT_MS = 15_000
# A healthy database answers `SELECT 1` in milliseconds; one that does not within this is treated as
# hung, so a form learns it with time to spare before Slack's 3 seconds, not after the statement timeout.
PING_LIMIT_SECONDS = 1.0


@dataclass(frozen=True)
class Limits:
    """How long epos waits on the database (README › Settings, DATABASE_*)."""

    connect_seconds: int = 2
    statement_seconds: float = 5.0
    lock_seconds: float = 2.0
    pool_seconds: float = 1.0
    keepalive_idle_seconds: int = 30

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(connect_seconds=settings.database_connect_timeout,
                   statement_seconds=settings.database_statement_timeout,
                   lock_seconds=settings.database_lock_timeout, pool_seconds=settings.database_pool_timeout,
                   keepalive_idle_seconds=settings.database_keepalive_idle)

    @property
    def round_trip_seconds(self) -> float:
        # Past the server's statement timeout, with room for its answer to travel back: no answer by
        # then means the connection itself hangs.
        return self.statement_seconds + 1.0

_engine: Engine | None = None
_sessions: sessionmaker[Session] | None = None
_read_sessions: sessionmaker[Session] | None = None
READONLY_OPTION = "epos_readonly"


def make_engine(url: str, *, pooled: bool = True, limits: Limits | None = None) -> Engine:
    """An engine with epos's connection settings; `pooled=False` for one-off tools such as migrations.

    With `limits` (the live bot), no wait on the database is unbounded: connecting, each statement, a
    lock, a free pooled connection, and a connection that hangs without an answer."""
    pool_args: dict[str, object] = {} if pooled else {"poolclass": NullPool}
    if url.startswith("sqlite"):
        busy_ms = int(limits.lock_seconds * 1000) if limits else SQLITE_BUSY_TIMEOUT_MS
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            **pool_args,
        )
        event.listen(engine, "connect", lambda connection, _record: _sqlite_pragmas(connection, busy_ms))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if pooled:
        pool_args = {"pool_size": 10, "max_overflow": 10}
    if limits is None:
        return create_engine(url, pool_pre_ping=True, **pool_args)
    if pooled:
        pool_args["pool_timeout"] = limits.pool_seconds
    engine = create_engine(url, pool_pre_ping=True, connect_args=_postgres_limits(limits), **pool_args)
    event.listen(engine, "do_connect", _bounded_connect)
    _bound_ping(engine)
    return engine


def _postgres_limits(limits: Limits) -> dict[str, Any]:
    statement_ms = int(limits.statement_seconds * 1000)
    return {
        "connect_timeout": limits.connect_seconds,
        # The server cancels a statement past its limit, and ends a transaction left idle as long: a
        # transaction whose COMMIT a hung network holds back is rolled back before epos gives up on
        # it (round_trip_seconds), so "nothing was changed" is true when epos says it.
        "options": f"-c statement_timeout={statement_ms} -c lock_timeout={int(limits.lock_seconds * 1000)}"
                   f" -c idle_in_transaction_session_timeout={statement_ms}",
        "keepalives": 1,
        "keepalives_idle": limits.keepalive_idle_seconds,
        "keepalives_interval": max(1, limits.keepalive_idle_seconds // 3),
        "keepalives_count": 3,
        "epos_round_trip": limits.round_trip_seconds,
    }


def _bounded_connect(_dialect, _record, cargs, cparams):  # type: ignore[no-untyped-def]
    from bot.pgconnection import BoundedConnection

    round_trip = cparams.pop("epos_round_trip")
    connection = BoundedConnection.connect(*cargs, **cparams)
    connection.round_trip_seconds = round_trip
    return connection


def _bound_ping(engine: Engine) -> None:
    """The pool's check of a connection before handing it out waits PING_LIMIT_SECONDS, and when that
    runs out the checkout fails at once (a hung database would only hang a new connection too)."""
    dialect = engine.dialect
    ping = dialect.do_ping

    def bounded_ping(dbapi_connection: Any) -> bool:
        dbapi_connection.limit_next_round_trips(PING_LIMIT_SECONDS)
        try:
            return ping(dbapi_connection)
        except Exception:
            # The ping's own clean-up fails on a connection still waiting for its answer; what
            # happened is that the database did not answer.
            if dbapi_connection.unanswered is not None:
                raise dbapi_connection.unanswered from None
            raise
        finally:
            dbapi_connection.limit_next_round_trips(None)

    dialect.do_ping = bounded_ping  # type: ignore[method-assign]


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    # A deferred transaction that reads and then writes cannot wait for the lock (SQLite fails it
    # at once as "database is locked"), so writers take the lock up front; readers stay deferred
    # so that searches never queue behind each other.
    readonly = connection.get_execution_options().get(READONLY_OPTION, False)
    connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def configure(url: str, limits: Limits | None = None) -> Engine:
    """Point the process at a database. Called once at start (and by tests, once per test).

    The bot's modes pass `limits` (a person waits on every answer); command-line tools such as imports
    leave them out, so a long import is not cut short and queues behind the bot on SQLite's lock."""
    global _engine, _sessions, _read_sessions
    if _engine is not None:
        _engine.dispose()
    _engine = make_engine(url, limits=limits)
    event.listen(_engine, "handle_error", _count_error)
    _sessions = sessionmaker(_engine, expire_on_commit=False)
    _read_sessions = sessionmaker(_engine.execution_options(**{READONLY_OPTION: True}), expire_on_commit=False)
    return _engine


def _count_error(context) -> None:  # type: ignore[no-untyped-def]
    from bot import telemetry

    telemetry.DATABASE_ERRORS.labels(type(context.original_exception).__name__).inc()


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("bot.db.configure(url) has not been called")
    return _engine


# A check the thread runs before each unit of work that may write: a Slack delivery handled before the
# database could say whether it was new settles that question before it changes anything.
_before_writing = threading.local()


def check_before_writing(check: Callable[[], None] | None) -> None:
    """Run `check` on this thread before each `transaction()` or writing `within()` from now on, and before
    each Slack call that posts (`bot.slack_client`); None: stop. Whatever `check` raises ends that unit of
    work or call before it begins; its own units of work are not checked."""
    _before_writing.check = check


def checked_before_writing() -> None:
    check = getattr(_before_writing, "check", None)
    if check is None or getattr(_before_writing, "checking", False):
        return
    _before_writing.checking = True
    try:
        check()
    finally:
        _before_writing.checking = False


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    if _sessions is None:
        raise RuntimeError("bot.db.configure(url) has not been called")
    checked_before_writing()
    with _sessions.begin() as session:
        yield session


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only unit of work; on SQLite it takes no write lock. Anything it writes is rolled back."""
    if _read_sessions is None:
        raise RuntimeError("bot.db.configure(url) has not been called")
    with _read_sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


# SQLite gives its write lock to no one in turn: a writer waiting for it polls, sleeping up to 100 ms
# between tries, and a bulk import that starts its next batch as soon as one commits takes the lock again
# before any of them wakes. A waiter could then miss it for longer than it may wait (the bot's record of
# a handled delivery, a scheduler tick, a person's save). A short pause after each batch is a window in
# which they get it: at 20 ms, a waiter polling every 100 ms is in within a few batches.
MAKE_WAY_SECONDS = 0.02


def make_way() -> None:
    """After a bulk writer's transaction: on SQLite, a pause in which waiting writers take the lock."""
    if dialect() == "sqlite":
        time.sleep(MAKE_WAY_SECONDS)


def dialect() -> str:
    return engine().dialect.name


def insert(table):  # type: ignore[no-untyped-def]
    """An INSERT of the running database's dialect, which has `on_conflict_do_nothing` / `_do_update`."""
    return (postgresql.insert if dialect() == "postgresql" else sqlite.insert)(table)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest revision; safe to run on every start."""
    command.upgrade(alembic_config(url), "heads")


def ping() -> bool:
    try:
        # Read-only: on SQLite a writing transaction would queue behind any other writer's lock.
        with engine().execution_options(**{READONLY_OPTION: True}).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


# Two at most: a health check of a hung database gives up on its own within PING_LIMIT_SECONDS plus
# the connect timeout, and checks arriving meanwhile wait their turn rather than piling up threads.
_health_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="epos-health")


def ping_within(seconds: float) -> bool:
    """`ping()`, counted as failed when it has not answered within `seconds`."""
    check = _health_checks.submit(ping)
    try:
        return check.result(timeout=seconds)
    except FutureTimeout:
        check.cancel()  # one still waiting for a thread would only answer a question nobody asks any more
        return False


class NotAnsweredInTime(exc.SQLAlchemyError):
    """The database did not answer a question epos must have answered before it writes anything."""


def unavailable(error: BaseException) -> bool:
    """Whether an error means the database could not be reached or did not answer in time (as opposed
    to a fault in what was asked of it)."""
    if isinstance(error, (exc.TimeoutError, NotAnsweredInTime)):  # no free pooled connection, or no answer
        return True
    if ran_out_waiting_for_a_lock(error):
        return True
    psycopg = _psycopg()
    return psycopg is not None and isinstance(
        _driver_error(error), (psycopg.OperationalError, psycopg.errors.IdleInTransactionSessionTimeout))


def ran_out_waiting_for_a_lock(error: BaseException) -> bool:
    """Whether an error is a wait for a lock that another transaction holds running out: the database
    itself answered, so a read, which needs no such lock, may still get through at once."""
    error = _driver_error(error)
    if isinstance(error, sqlite3.OperationalError):
        return "locked" in str(error) or "busy" in str(error)
    psycopg = _psycopg()
    return psycopg is not None and isinstance(error, (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable))


def _driver_error(error: BaseException) -> BaseException:
    return (error.orig or error) if isinstance(error, exc.DBAPIError) else error


def _psycopg():  # type: ignore[no-untyped-def]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg ships with epos
        return None
    return psycopg


@contextmanager
def within(seconds: float, *, readonly: bool = False) -> Iterator[Session]:
    """A unit of work that waits at most `seconds` for a lock or a statement, then raises, where the
    usual one would wait out SQLite's busy timeout: for work that must not hold up a person's answer."""
    if not readonly:
        checked_before_writing()
    with engine().connect() as connection:
        if readonly:
            connection = connection.execution_options(**{READONLY_OPTION: True})
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            raw = connection.connection.dbapi_connection
            usual_ms = raw.execute("PRAGMA busy_timeout").fetchone()[0]  # type: ignore[union-attr]
            # Set before BEGIN IMMEDIATE, which is where a writer waits for the lock.
            raw.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")  # type: ignore[union-attr]
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                if not sqlite:
                    milliseconds = int(seconds * 1000)
                    session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
                    session.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
                try:
                    yield session
                except BaseException:
                    session.rollback()
                    raise
                if readonly:
                    session.rollback()
                else:
                    session.commit()
        finally:
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout={usual_ms}")  # type: ignore[union-attr]


# A write that goes with a read (a search's content gap, the day's first use): the read's answer must not
# wait on a writer that holds the database (an import's batch on SQLite), nor fail because of one.
WRITE_NOW_SECONDS = 0.2
WRITE_LATER_SECONDS = 15.0


def write_soon(work: Callable[[Session], None], *, what: str, then: Callable[[], None] = lambda: None) -> None:
    """Write now if the lock comes within `WRITE_NOW_SECONDS`, else on a thread of its own that may wait
    `WRITE_LATER_SECONDS`; `then` runs once the write is done or given up, either way."""
    try:
        with within(WRITE_NOW_SECONDS) as session:
            work(session)
    except NotAnsweredInTime:
        # The delivery it goes with cannot be told from a copy: better one mark missing than two.
        _log.info("did not write down %s: the database could not say whether this was asked before", what)
        then()
        return
    except exc.SQLAlchemyError:
        threading.Thread(target=_write_later, args=(work, what, then), name="epos-write-soon", daemon=True).start()
        return
    then()


def _write_later(work: Callable[[Session], None], what: str, then: Callable[[], None]) -> None:
    try:
        with within(WRITE_LATER_SECONDS) as session:
            work(session)
    except exc.SQLAlchemyError:
        _log.warning("could not write down %s", what, exc_info=True)
    finally:
        then()
