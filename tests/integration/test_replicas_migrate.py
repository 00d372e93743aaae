"""Replicas started together on a database whose schema is behind: one migrates, the others wait for it,
and every one of them comes up.

Real processes (`epos db upgrade`, `epos scheduler --once`), as a rolling deploy starts them, on an
empty database and on one a migration behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot import db
from tests.conftest import BOT_TOKEN, PG_URL, _create_pg_database, _drop_pg_database
from tests.support.slack import MockSlack

REPLICAS = 3


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database no process has touched, of the kind the suite runs on."""
    if PG_URL:
        url = _create_pg_database(PG_URL)
        yield url
        _drop_pg_database(PG_URL, url)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


def head() -> str:
    return ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head() or ""


def revision_of(url: str) -> str | None:
    engine = db.make_engine(url, pooled=False)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return current


def start_together(arguments: list[str], url: str, slack: MockSlack, cwd: Path) -> list[tuple[int, str]]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "LOG_LEVEL": "WARNING",
    }
    processes = [subprocess.Popen([sys.executable, "-m", "bot", *arguments], env=env, cwd=cwd,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(REPLICAS)]
    finished = []
    for process in processes:
        _, err = process.communicate(timeout=180)
        finished.append((process.returncode, err))
    return finished


STARTS = {
    "db upgrade": ["db", "upgrade"],
    "scheduler --once": ["scheduler", "--once", "--at", "2026-11-24T07:00"],
}


@pytest.mark.parametrize("start", list(STARTS))
def test_replicas_started_together_on_an_empty_database_all_come_up(
        start: str, empty_database: str, slack: MockSlack, tmp_path: Path) -> None:
    for returncode, err in start_together(STARTS[start], empty_database, slack, tmp_path):
        assert returncode == 0, err
        assert "Traceback" not in err, err
    assert revision_of(empty_database) == head()


@pytest.mark.parametrize("start", list(STARTS))
def test_replicas_started_together_on_a_database_a_migration_behind_all_come_up(
        start: str, empty_database: str, slack: MockSlack, tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(db.alembic_config(empty_database))
    previous = script.get_revision(head()).down_revision
    assert isinstance(previous, str)
    command.upgrade(db.alembic_config(empty_database), previous)
    assert revision_of(empty_database) == previous

    for returncode, err in start_together(STARTS[start], empty_database, slack, tmp_path):
        assert returncode == 0, err
        assert "Traceback" not in err, err
    assert revision_of(empty_database) == head()
