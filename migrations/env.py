"""Alembic environment: the URL comes from bot.db.alembic_config, the target schema from `models`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

import models
from bot.db import make_engine

# Any fixed number: every epos process that migrates takes the same PostgreSQL advisory lock.
MIGRATION_LOCK = 0x65706F73

config = context.config
target_metadata = models.Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url, pooled=False)
    with engine.connect() as connection, connection.begin():
        take_migration_lock(connection)
        # Alembic reads the schema's revision only now, inside the transaction that holds the lock,
        # so a process that waited finds the work done and migrates nothing.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        context.run_migrations()
    engine.dispose()


def take_migration_lock(connection: Connection) -> None:
    """Replicas started together would each create the same tables (and fail on the duplicates): the
    first to take the lock migrates, the others wait here until it commits.

    On PostgreSQL a transaction-level advisory lock, released by the commit; on SQLite the transaction
    already holds the write lock (bot.db begins every writing transaction with BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
