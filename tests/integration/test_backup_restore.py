"""The backups README › Production describes restore into an empty database that epos answers from."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.cli import main
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]


def epos(*args: str, database_url: str) -> str:
    """What `epos ARGS` prints with DATABASE_URL set and nothing else of epos's settings. The commands run in
    this process: seven interpreters starting up would prove nothing more about the backup."""
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        for name in [k for k in os.environ if k.startswith(("SLACK_", "EPOS_", "DATABASE_", "DIGEST_", "DEVREL_"))]:
            patch.delenv(name)
        patch.setenv("DATABASE_URL", database_url)
        patch.chdir(ROOT)
        assert main(list(args)) == 0
    return printed.getvalue()


def fill(database_url: str) -> None:
    epos("db", "upgrade", database_url=database_url)
    epos("assets", "import", "examples/assets.yaml", database_url=database_url)
    epos("engagements", "import", "examples/engagements.yaml", database_url=database_url)


def answers(database_url: str) -> tuple[str, str]:
    return (epos("stats", "--json", "--since", "2025-01-01", "--until", "2026-12-31", database_url=database_url),
            epos("assets", "export", database_url=database_url))


@pytest.mark.skipif(PG_URL != "", reason="the SQLite backup; the PostgreSQL run takes the pg_dump test")
@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 command is not installed")
def test_a_sqlite_backup_restores_into_a_database_epos_answers_from(tmp_path: Path) -> None:
    live, backup = tmp_path / "epos.db", tmp_path / "backup" / "epos.db"
    backup.parent.mkdir()
    fill(f"sqlite:///{live}")
    # As the README shows: an online backup, consistent while epos keeps writing (WAL mode).
    subprocess.run(["sqlite3", str(live), f".backup '{backup}'"], check=True, timeout=60)
    restored = tmp_path / "restored.db"
    shutil.copy(backup, restored)
    assert answers(f"sqlite:///{restored}") == answers(f"sqlite:///{live}")


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (EPOS_TEST_DATABASE_URL)")
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_a_pg_dump_restores_into_an_empty_database_epos_answers_from(tmp_path: Path) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    names = [f"epos_backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    live, restored = (make_url(PG_URL).set(database=name).render_as_string(hide_password=False) for name in names)
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        fill(live)
        plain = make_url(live).set(drivername="postgresql").render_as_string(hide_password=False)
        dump = tmp_path / "epos.dump"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", plain], check=True, timeout=120)
        target = make_url(restored).set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={target}", str(dump)], check=True, timeout=120)
        assert answers(restored) == answers(live)
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
