"""Engine, sessions and migrations. Services open their own unit of work with `db.transaction()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent
SQLITE_BUSY_TIMEOUT_MS = 15_000

_engine: Engine | None = None
_sessions: sessionmaker[Session] | None = None
_read_sessions: sessionmaker[Session] | None = None
READONLY_OPTION = "epos_readonly"


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine with epos's connection settings; `pooled=False` for one-off tools such as migrations."""
    pool_args: dict[str, object] = {} if pooled else {"poolclass": NullPool}
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **pool_args,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if pooled:
        pool_args = {"pool_size": 10, "max_overflow": 10}
    return create_engine(url, pool_pre_ping=True, **pool_args)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    # A deferred transaction that reads and then writes cannot wait for the lock (SQLite fails it
    # at once as "database is locked"), so writers take the lock up front; readers stay deferred
    # so that searches never queue behind each other.
    readonly = connection.get_execution_options().get(READONLY_OPTION, False)
    connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def configure(url: str) -> Engine:
    """Point the process at a database. Called once at start (and by tests, once per test)."""
    global _engine, _sessions, _read_sessions
    if _engine is not None:
        _engine.dispose()
    _engine = make_engine(url)
    _sessions = sessionmaker(_engine, expire_on_commit=False)
    _read_sessions = sessionmaker(_engine.execution_options(**{READONLY_OPTION: True}), expire_on_commit=False)
    return _engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("bot.db.configure(url) has not been called")
    return _engine


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    if _sessions is None:
        raise RuntimeError("bot.db.configure(url) has not been called")
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


def dialect() -> str:
    return engine().dialect.name


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
        with engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@contextmanager
def within(seconds: float, *, readonly: bool = False) -> Iterator[Session]:
    """A unit of work that waits at most `seconds` for a lock or a statement, then raises, where the
    usual one would wait out SQLite's busy timeout: for work that must not hold up a person's answer."""
    with engine().connect() as connection:
        if readonly:
            connection = connection.execution_options(**{READONLY_OPTION: True})
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Set before BEGIN IMMEDIATE, which is where a writer waits for the lock.
            connection.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")  # type: ignore[union-attr]
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
                connection.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # type: ignore[union-attr]
