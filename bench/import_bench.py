"""`epos assets import` of a large generated CSV: its longest write transaction, its peak memory, its time.

    .venv/bin/python -m bench.import_bench                       # 100k rows, SQLite
    .venv/bin/python -m bench.import_bench --rows 10000 --postgresql postgresql+psycopg://postgres@127.0.0.1:5432/

The import runs in a process of its own (so its peak memory is its own) on a fresh database, with every
`db.transaction()` it opens timed: on SQLite each holds the one write lock that a click's write waits for;
on PostgreSQL the batches lock nothing anyone else needs, and only the last transaction (`last_write_s`,
which makes the import live) holds the catalogue revision row that votes and shares wait for. Targets: the longest write
transaction well under Slack's 3-second ack, peak memory (VmHWM) under 300 MB. Prints a table and writes
`bench/results/import.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS_PATH = Path(__file__).parent / "results" / "import.json"
ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 300
TARGET_WRITE_S = 1.0
WORDS = ("observability", "security", "kubernetes", "logging", "tracing", "alerting", "siem", "apm", "search")


def write_csv(path: Path, rows: int) -> None:
    """A catalogue of `rows` published assets, written a line at a time."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("title,type,summary,url,topics,products,owner,status\n")
        for n in range(rows):
            topic, other = WORDS[n % len(WORDS)], WORDS[(n * 7) % len(WORDS)]
            out.write(f"{topic.capitalize()} for team {n}: {other} in practice,demo,"
                      f"How team {n} runs {topic} and {other} day to day.,https://assets.example.com/bench/{n},"
                      f"{topic};{other},Observability,U0BENCH{n % 40:02d},published\n")


def child(database_url: str, path: Path) -> dict[str, Any]:
    """Run the import here, timing each unit of work; the figures go to the parent as JSON."""
    from bot import db
    from bot.services import assets

    db.upgrade(database_url)
    db.configure(database_url)
    durations: list[float] = []
    plain = db.transaction

    @contextmanager
    def timed():  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        with plain() as session:
            yield session
        durations.append(time.perf_counter() - started)

    db.transaction = timed  # type: ignore[assignment]
    started = time.perf_counter()
    report = assets.import_file(path, "csv")
    took = time.perf_counter() - started
    peak = _status_mb().get("VmHWM", 0.0)
    return {"report": report.model_dump(), "seconds": round(took, 1), "write_transactions": len(durations),
            "longest_write_s": round(max(durations), 3), "peak_mb": peak,
            "longest_five_writes_s": [round(d, 3) for d in sorted(durations)[-5:]],
            "last_write_s": round(durations[-1], 3)}


def _status_mb() -> dict[str, float]:
    figures = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = round(int(value.split()[0]) / 1024, 1)
    return figures


def _postgresql_database(server_url: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"epos_import_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url.rstrip("/") + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(server_url.rstrip("/") + "/postgres").set(database=name).render_as_string(hide_password=False)
    return url, drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgresql", metavar="SERVER_URL", default=os.environ.get("EPOS_BENCH_POSTGRESQL"),
                        help="also on this PostgreSQL server (default: EPOS_BENCH_POSTGRESQL, if set)")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    parser.add_argument("--child", nargs=2, metavar=("DATABASE_URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0

    results: dict[str, Any] = {"rows": args.rows, "python": platform.python_version(),
                               "load_average_at_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "catalogue.csv"
        write_csv(path, args.rows)
        results["file_mb"] = round(path.stat().st_size / 1024 / 1024, 1)
        databases: dict[str, tuple[str, Any]] = {"sqlite": (f"sqlite:///{scratch}/bench.db", None)}
        if args.postgresql:
            databases["postgresql"] = _postgresql_database(args.postgresql)
        for name, (url, drop) in databases.items():
            try:
                run = subprocess.run([sys.executable, "-m", "bench.import_bench", "--child", url, str(path)],
                                     capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
                if run.returncode != 0:
                    print(run.stderr, file=sys.stderr)
                    return 1
                results[name] = json.loads(run.stdout.strip().splitlines()[-1])
            finally:
                if drop:
                    drop()
    print(f"\n`epos assets import` of {args.rows:,} new assets ({results['file_mb']} MB of CSV)\n")
    print(f"{'database':<12}{'seconds':>9}{'write txs':>11}{'longest write s':>17}{'peak MB':>9}")
    targets = {}
    for name in ("sqlite", "postgresql"):
        if name in results:
            figures = results[name]
            print(f"{name:<12}{figures['seconds']:>9}{figures['write_transactions']:>11}"
                  f"{figures['longest_write_s']:>17}{figures['peak_mb']:>9}")
            targets[name] = {"longest_write_under_1s": figures["longest_write_s"] < TARGET_WRITE_S,
                             "peak_under_300mb": figures["peak_mb"] < TARGET_MB}
    results["targets"] = targets
    results["load_average_at_end"] = os.getloadavg()[0]
    print(f"\nload average {results['load_average_at_start']:.1f} at the start, "
          f"{results['load_average_at_end']:.1f} at the end (2 cores)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
