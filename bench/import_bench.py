"""`epos assets import` and `epos engagements import` of large generated CSVs: the longest write
transaction, peak memory and time of each, and the acks of a serving bot beside the engagement import.

    .venv/bin/python -m bench.import_bench                       # 100k rows, SQLite
    .venv/bin/python -m bench.import_bench --rows 10000 --postgresql postgresql+psycopg://postgres@127.0.0.1:5432/

The import runs in a process of its own (so its peak memory is its own) on a fresh database, with every
`db.transaction()` it opens timed: on SQLite each holds the one write lock that a click's write waits for;
on PostgreSQL the batches lock nothing anyone else needs, and only the last transaction (`last_write_s`,
which makes the import live) holds the catalogue revision row that votes and shares wait for. Targets: the longest write
transaction well under Slack's 3-second ack, peak memory (VmHWM) under 300 MB.

Each import on SQLite (the database where a writer blocks others: assets, engagements, roster) runs while
`epos serve` on the same database answers signed `/engagement` and `/asset` commands and Home tabs from a few clients: reported are
the acks' p99 and maximum, how many took 3 s or more or were not 200, and the server's log lines saying
`database is locked` or apologising, and each worker's RSS at the end (the answers read the imported rows).
`--kind roster-update` and `--kind assets-update` import a file first (untimed), then, beside the bot, a
second one changing every row, whose last transaction applies them all.
Prints a table and writes `bench/results/import.json`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
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


def write_csv(path: Path, rows: int, *, summary: str = "How team {n} runs {topic} and {other} day to day.") -> None:
    """A catalogue of `rows` published assets, written a line at a time; `summary` is formatted for each."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("title,type,summary,url,topics,products,owner,status\n")
        for n in range(rows):
            topic, other = WORDS[n % len(WORDS)], WORDS[(n * 7) % len(WORDS)]
            out.write(f"{topic.capitalize()} for team {n}: {other} in practice,demo,"
                      f"{summary.format(n=n, topic=topic, other=other)},https://assets.example.com/bench/{n},"
                      f"{topic};{other},Observability,U0BENCH{n % 40:02d},published\n")


def write_engagements_csv(path: Path, rows: int) -> None:
    """`rows` engagements, each with a four-step history, written a line at a time."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("account,opportunity,owner,seller,focus,opened_at,history\n")
        for n in range(rows):
            out.write(f"Account {n},Account {n} platform,U0BENCH{n % 40:02d},U0SELL{n % 60:02d},"
                      f"{WORDS[n % len(WORDS)]},2026-03-02T09:00:00Z,preparation@2026-03-02T09:00:00Z; "
                      "discovery@2026-03-09T10:00:00Z; demo@2026-03-20T15:00:00Z; poc@2026-04-01T08:00:00Z\n")


def write_roster_csv(path: Path, rows: int, *, capacity: int = 4) -> None:
    """`rows` DevRel people, written a line at a time."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("slack_id,name,topics,timezone,work_start,work_end,weekly_capacity,active,out_of_office_until\n")
        for n in range(rows):
            out.write(f"U0BR{n:06d},Bench Person {n},{WORDS[n % len(WORDS)]};{WORDS[(n * 5) % len(WORDS)]},"
                      f"Europe/Berlin,09:00,17:30,{capacity},true,\n")


def child(kind: str, database_url: str, path: Path) -> dict[str, Any]:
    """Run the import here, timing each unit of work; the figures go to the parent as JSON."""
    from bot import db
    from bot.services import assets, engagements, roster

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
    if kind == "roster":
        result = roster.import_roster_file(path)
        report: Any = {"added": len(result.added), "updated": len(result.updated), "unchanged": len(result.unchanged)}
    else:
        report = (assets if kind == "assets" else engagements).import_file(path, "csv").model_dump()
    took = time.perf_counter() - started
    peak = _status_mb().get("VmHWM", 0.0)
    return {"report": report, "seconds": round(took, 1), "write_transactions": len(durations),
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


def _run_child(kind: str, url: str, path: Path) -> dict[str, Any]:
    run = subprocess.run([sys.executable, "-m", "bench.import_bench", "--child", kind, url, str(path)],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if run.returncode != 0:
        raise SystemExit(run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1])


def beside_the_bot(kind: str, url: str, path: Path, scratch: str, *, before: Path | None = None) -> dict[str, Any]:
    """An import in a child process while `epos serve` on the same database answers clients; `before`, a
    file of the same kind imported (untimed) before the server starts."""
    from bench.ack_bench import (SECRET, TOKEN, free_port, percentile, rss_mb, start_server, stop_server, wait_healthy,
                                 worker_pids)
    from bench.slack_sink import SinkProcess
    from tests.support.wire import SlackWire

    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
           "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT)}
    for command in (["engagements", "import", str(ROOT / "examples" / "engagements.yaml")],
                    ["roster", "import", str(ROOT / "examples" / "roster.yaml")],
                    *([[kind, "import", str(before)]] if before else [])):
        subprocess.run([sys.executable, "-m", "bot", *command], env=env, cwd=scratch, check=True,
                       stdout=subprocess.DEVNULL)
    log_path = Path(scratch) / "serve.log"
    with SinkProcess() as sink, log_path.open("w") as log:
        env["SLACK_API_URL"] = sink.api_url
        port = free_port()
        server = start_server([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=scratch, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz", server)
            wire = SlackWire(f"http://127.0.0.1:{port}/slack/events", SECRET, response_url_base=sink.base_url)
            samples: list[tuple[float, int]] = []
            stop = threading.Event()

            def client(number: int) -> None:
                for n in itertools.count():
                    if stop.is_set():
                        return
                    started = time.monotonic()
                    try:
                        if n % 4 == 2:
                            status = wire.event({"type": "app_home_opened", "user": "U0BENCH01", "channel": "D0HOME01",
                                                 "tab": "home", "event_ts": f"{number}.{n}"}).status
                        elif n % 4 == 3:
                            status = wire.command("/asset", "observability demo", user_id="U0A1B2C3D",
                                                  response_name=f"c{number}-{n}").status
                        else:
                            text = "list" if n % 4 else "account 7 demo"
                            status = wire.command("/engagement", text, user_id="U0A1B2C3D",
                                                  response_name=f"c{number}-{n}").status
                    except OSError:
                        status = 0
                    samples.append(((time.monotonic() - started) * 1000, status))
                    time.sleep(0.05)

            clients = [threading.Thread(target=client, args=(number,), daemon=True) for number in range(4)]
            for thread in clients:
                thread.start()
            try:
                figures = _run_child(kind, url, path)
            finally:
                stop.set()
                for thread in clients:
                    thread.join(timeout=30)
            # What each worker holds after serving beside the import: its answers read the imported rows.
            workers_mb = [rss_mb(pid) for pid in worker_pids(server.pid)]
        finally:
            stop_server(server)
    logged = log_path.read_text()
    latencies = [ms for ms, _ in samples]
    return {**figures, "acks": len(samples), "ack_p99_ms": round(percentile(latencies, 0.99), 1),
            "ack_max_ms": round(max(latencies), 1),
            "late_or_failed": sum(1 for ms, status in samples if status != 200 or ms >= 3000),
            "locked": logged.count("database is locked"), "apologies": logged.count("ref="), "worker_rss_mb": workers_mb,
            # What the server was doing when it met the lock, once each.
            "locked_in": _locked_in(logged)}


def _locked_in(logged: str) -> list[str]:
    """The log record (not its traceback) under which each `database is locked` appeared, once each."""
    found: set[str] = set()
    record = ""
    for line in logged.splitlines():
        if line and not line[0].isspace() and not line.startswith(("Traceback", "sqlite3.", "sqlalchemy.", "The above",
                                                                   "During handling", "[SQL", "(Background")):
            record = line
        if "database is locked" in line:
            found.add(record[:200])
    return sorted(found)[:5]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgresql", metavar="SERVER_URL", default=os.environ.get("EPOS_BENCH_POSTGRESQL"),
                        help="also on this PostgreSQL server (default: EPOS_BENCH_POSTGRESQL, if set)")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    parser.add_argument("--kind", choices=("all", "assets", "engagements", "roster", "roster-update", "assets-update"),
                        default="all",
                        help="which imports to measure (default: all three; roster-update and assets-update, not in "
                             "all: a second import of the file changing every person or asset, whose go-live "
                             "applies them all)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "DATABASE_URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], Path(args.child[2]))))
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
        for name, (url, drop) in databases.items() if args.kind in ("all", "assets") else ():
            try:
                # On SQLite, where an import's writes block the bot's, beside a serving bot as the others.
                results[name] = (beside_the_bot("assets", url, path, scratch) if name == "sqlite"
                                 else _run_child("assets", url, path))
            finally:
                if drop:
                    drop()
        if args.kind in ("all", "engagements"):
            engagement_file = Path(scratch) / "engagements.csv"
            write_engagements_csv(engagement_file, args.rows)
            results["engagements"] = {"file_mb": round(engagement_file.stat().st_size / 1024 / 1024, 1),
                                      **beside_the_bot("engagements", f"sqlite:///{scratch}/engagements.db",
                                                       engagement_file, scratch)}
        if args.kind in ("all", "roster"):
            roster_file = Path(scratch) / "roster.csv"
            write_roster_csv(roster_file, args.rows)
            results["roster"] = {"file_mb": round(roster_file.stat().st_size / 1024 / 1024, 1),
                                 **beside_the_bot("roster", f"sqlite:///{scratch}/roster.db", roster_file, scratch)}
        if args.kind == "roster-update":
            first, changed = Path(scratch) / "roster.csv", Path(scratch) / "roster-changed.csv"
            write_roster_csv(first, args.rows)
            write_roster_csv(changed, args.rows, capacity=5)
            results["roster_update"] = {
                "file_mb": round(changed.stat().st_size / 1024 / 1024, 1),
                **beside_the_bot("roster", f"sqlite:///{scratch}/roster.db", changed, scratch, before=first)}
        if args.kind == "assets-update":
            changed = Path(scratch) / "catalogue-changed.csv"
            write_csv(changed, args.rows, summary="How team {n} runs {topic} and {other} this year.")
            results["assets_update"] = {
                "file_mb": round(changed.stat().st_size / 1024 / 1024, 1),
                **beside_the_bot("assets", f"sqlite:///{scratch}/assets.db", changed, scratch, before=path)}
    if "sqlite" in results:
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
    for kind, command, noun in (("sqlite", "assets", "new assets"), ("engagements", "engagements", "new engagements"),
                                ("roster", "roster", "new DevRel people"),
                                ("roster_update", "roster", "changes to DevRel people already on the roster"),
                                ("assets_update", "assets", "changes to assets already in the catalogue")):
        figures = results.get(kind)
        if figures is None or "acks" not in figures:
            continue
        print(f"\n`epos {command} import` of {args.rows:,} {noun} on SQLite, beside `epos serve`\n")
        print(f"{'seconds':>9}{'write txs':>11}{'longest write s':>17}{'peak MB':>9}{'acks':>7}{'ack p99 ms':>12}"
              f"{'ack max ms':>12}{'late/failed':>13}{'locked':>8}{'apologies':>11}")
        print(f"{figures['seconds']:>9}{figures['write_transactions']:>11}{figures['longest_write_s']:>17}"
              f"{figures['peak_mb']:>9}{figures['acks']:>7}{figures['ack_p99_ms']:>12}{figures['ack_max_ms']:>12}"
              f"{figures['late_or_failed']:>13}{figures['locked']:>8}{figures['apologies']:>11}")
        print(f"  each worker's RSS afterwards: {', '.join(f'{mb:g} MB' for mb in figures['worker_rss_mb'])}")
        for record in figures["locked_in"]:
            print(f"  locked under: {record}")
        targets[f"{kind if kind.endswith('_update') else command}_beside_the_bot"] = {
            "longest_write_under_1s": figures["longest_write_s"] < TARGET_WRITE_S,
            "peak_under_300mb": figures["peak_mb"] < TARGET_MB,
            "every_ack_within_3s": figures["late_or_failed"] == 0 and figures["acks"] > 0,
            "no_lock_errors_or_apologies": figures["locked"] == 0 and figures["apologies"] == 0,
        }
    return _finish(results, targets, args.output)


def _finish(results: dict[str, Any], targets: dict[str, Any], output: Path) -> int:
    results["targets"] = targets
    results["load_average_at_end"] = os.getloadavg()[0]
    print(f"\nload average {results['load_average_at_start']:.1f} at the start, "
          f"{results['load_average_at_end']:.1f} at the end (2 cores)")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
