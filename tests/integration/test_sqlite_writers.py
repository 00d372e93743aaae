"""Two processes writing to one SQLite file at once both succeed (WAL, busy timeout, BEGIN IMMEDIATE)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import func, select

from bot import db
from models import ProcessedDelivery
from tests.conftest import PG_URL

WRITER = """
import sys
from bot import db
from bot.services import deliveries
db.configure(sys.argv[1])
for n in range(int(sys.argv[3])):
    # Each key is written by both processes: one insert wins, the other is a no-op, neither fails.
    deliveries.first_time(f"k{n}")
    deliveries.first_time(f"{sys.argv[2]}-{n}")
print("done")
"""


@pytest.mark.skipif(bool(PG_URL), reason="SQLite locking only")
def test_two_processes_write_at_once_without_database_is_locked(database_url: str) -> None:
    writes = 300
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, database_url, name, str(writes)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    results = [w.communicate(timeout=120) for w in writers]
    for writer, (out, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err
        assert "database is locked" not in err
        assert out.strip() == "done"
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedDelivery)) == 3 * writes
