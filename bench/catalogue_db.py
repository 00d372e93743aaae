"""A SQLite database holding a generated, published asset catalogue, for benchmarks that run `epos serve`.

The rows go in with one `executemany` into a schema built by the migrations, in seconds even at 100k
assets; `epos assets import` validates and audits every row, which is right for a team's file and far
slower than a benchmark's set-up needs (docs/performance.md has its figure).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from bench.corpus import BENCH_OWNERS, TYPE_PROFILE, generate_catalogue
from bot import db

COLUMNS = (
    "id", "title", "type", "summary", "url", "topics", "products", "depth", "scope", "interactivity", "cycle",
    "owner_id", "status", "created_at", "updated_at", "share_count", "useful_count", "not_useful_count", "revision",
)


def build(path: str, size: int) -> None:
    """Create the schema at `path` and insert `size` published assets (the search benchmark's corpus)."""
    db.upgrade(f"sqlite:///{path}")
    stamp = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    rows = []
    for doc in generate_catalogue(size):
        depth, scope, interactivity, cycle = TYPE_PROFILE[doc.type]
        rows.append((
            doc.id, doc.title, doc.type, doc.summary, f"https://assets.example.com/bench/{doc.id}",
            json.dumps(list(doc.topics)), json.dumps(list(doc.products)), depth, scope, interactivity, cycle,
            BENCH_OWNERS[doc.id % len(BENCH_OWNERS)], "published", stamp, stamp, doc.shares, doc.useful,
            doc.not_useful, 1,
        ))
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.executemany(
            f"INSERT INTO assets ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})", rows
        )
        connection.execute("INSERT INTO asset_catalogue (id, revision) VALUES (1, 1)")
        connection.commit()
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()
