"""Stats, digest and nudge scan at scale, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.stats_bench            # 100k engagements, 1M stage changes, 100k open
    .venv/bin/python -m bench.stats_bench --quick    # a tenth of that
    .venv/bin/python -m bench.stats_bench --databases sqlite

What is timed, per database, after the history is bulk-loaded and analysed:
* `epos stats`: `metrics.team_metrics` over the 12 weeks before `now` and over all time;
* the weekly digest's figures: `digest.compute` for the week before `now`;
* MTTC (mean, median, count) the way epos computes it, and one hand-written SQL query computing the
  same figures, over both windows; the two must agree;
* the nudge scan over 100k open engagements: `engagements.stale_engagements` (what the digest reads),
  `nudges.stale_by_owner` for every SE (what `epos nudges --dry-run` reads), and the selection the
  scheduler's minute tick makes (`bot.jobs.nudges.due_nudges`) when every SE is due and when none is.

Each figure is the median of at least three runs after one warm-up run (the warm-up fills SQLAlchemy's
statement cache, as a long-running process has; quick figures run for half a second); the warm-up time
is reported as `first`. PostgreSQL runs in a
scratch database `epos_bench_<random>` that is dropped afterwards. Prints a table and writes
`bench/results/stats.json`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text

from bench.engagement_data import (
    History,
    generate_history,
    generate_open,
    load_postgresql,
    load_sqlite,
    scratch_postgresql,
)
from bot import db
from bot.services import digest, engagements, metrics, nudges, playbooks
from models.base import UTCDateTime
from models.schemas.engagements import Figures

RESULTS_PATH = Path(__file__).parent / "results" / "stats.json"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
# A Monday morning: the digest of the week just ended is due, and nudges are due in UTC.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
EVER = datetime(2000, 1, 1, tzinfo=UTC)
TWELVE_WEEKS = timedelta(weeks=12)
TARGET_SECONDS = 1.0
TARGET_RATIO = 1.5
RUNS = 3

HAND_MTTC = {
    # The middle value(s) by ROW_NUMBER over the window's closing times, and the mean, in one statement.
    "sqlite": """
        WITH days AS (
            SELECT julianday(closed_at) - julianday(opened_at) AS d
            FROM engagements
            WHERE closed_at >= :since AND closed_at < :until
        ), ranked AS (
            SELECT d, ROW_NUMBER() OVER (ORDER BY d) AS rn, COUNT(*) OVER () AS n FROM days
        )
        SELECT (SELECT AVG(d) FROM days), AVG(d), (SELECT COUNT(*) FROM days)
        FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
    """,
    "postgresql": """
        SELECT AVG(d), percentile_cont(0.5) WITHIN GROUP (ORDER BY d), COUNT(d)
        FROM (
            SELECT EXTRACT(EPOCH FROM closed_at - opened_at) / 86400.0 AS d
            FROM engagements
            WHERE closed_at >= :since AND closed_at < :until
        ) AS days
    """,
}


def hand_written_mttc(since: datetime, until: datetime) -> Figures:
    statement = text(HAND_MTTC[db.dialect()]).bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
    )
    with db.engine().connect() as connection:
        mean, median, count = connection.execute(statement, {"since": since, "until": until}).one()
    return Figures(mean=None if mean is None else float(mean), median=None if median is None else float(median),
                   count=int(count or 0))


def epos_mttc(since: datetime, until: datetime) -> Figures:
    """MTTC (mean, median, count) as epos computes it for `epos stats` and the digest."""
    return metrics.mttc(since, until)


def timed(action: Callable[[], Any]) -> dict[str, Any]:
    """First (warm-up) run, then the median and max of RUNS more, in milliseconds; and the last result.
    Quick actions run until half a second has passed (at most 50 times), so that their median is not at
    the mercy of whatever else the machine did in one instant."""
    gc.collect()
    started = time.perf_counter()
    result = action()
    first = (time.perf_counter() - started) * 1000
    samples: list[float] = []
    began = time.perf_counter()
    while len(samples) < RUNS or (time.perf_counter() - began < 0.5 and len(samples) < 50):
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
    return {"first_ms": round(first, 1), "median_ms": round(statistics.median(samples), 1),
            "max_ms": round(max(samples), 1), "runs": len(samples), "result": result}


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


def bench_history(url: str, history: History, load: Callable[[History], None]) -> dict[str, Any]:
    started = time.perf_counter()
    load(history)
    load_s = time.perf_counter() - started
    db.configure(url)
    since_12w = NOW - TWELVE_WEEKS
    week = digest.previous_week(NOW, ZoneInfo("UTC"))
    figures: dict[str, Any] = {"load_s": round(load_s, 1)}
    runs = {
        "stats_12_weeks": lambda: metrics.team_metrics(since_12w, NOW),
        "stats_all_time": lambda: metrics.team_metrics(EVER, NOW),
        "digest_figures": lambda: digest.compute(week, tz=ZoneInfo("UTC"), now=NOW),
        "mttc_epos_12_weeks": lambda: epos_mttc(since_12w, NOW),
        "mttc_sql_12_weeks": lambda: hand_written_mttc(since_12w, NOW),
        "mttc_epos_all_time": lambda: epos_mttc(EVER, NOW),
        "mttc_sql_all_time": lambda: hand_written_mttc(EVER, NOW),
    }
    for name, action in runs.items():
        outcome = timed(action)
        result = outcome.pop("result")
        figures[name] = outcome
        print(f"    {name:<22} {outcome['median_ms']:>9.1f} ms (first {outcome['first_ms']:.1f})", flush=True)
        if name.startswith("mttc_"):
            figures[name]["figures"] = result.model_dump()
        if name == "digest_figures":
            figures[name]["owners"] = len(result.owners)
            figures[name]["stale_total"] = result.stale_total
    for window in ("12_weeks", "all_time"):
        ours, theirs = figures[f"mttc_epos_{window}"]["figures"], figures[f"mttc_sql_{window}"]["figures"]
        figures[f"mttc_agree_{window}"] = (
            ours["count"] == theirs["count"] and _close(ours["mean"], theirs["mean"])
            and _close(ours["median"], theirs["median"])
        )
    figures["cli_stats_s"] = cli_stats_seconds(url)
    return figures


def cli_stats_seconds(url: str) -> float:
    """Wall time of the command itself, `epos stats` over the 12 weeks, start-up included."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EPOS_", "DATABASE_", "SLACK_"))}
    env["DATABASE_URL"] = url
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    until = (NOW - timedelta(days=1)).date().isoformat()
    since = (NOW - TWELVE_WEEKS).date().isoformat()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "stats", "--since", since, "--until", until], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return round(time.perf_counter() - started, 2)


def bench_nudges(url: str, history: History, load: Callable[[History], None]) -> dict[str, Any]:
    """The stale scan (what the digest and `epos nudges --dry-run` read), and the scheduler's minute tick
    selection: at 09:05 UTC on a Monday, when every SE's nudge is due, and at 20:00, when none is."""
    from bot.config import Settings
    from bot.jobs import nudges as nudge_job

    load(history)
    db.configure(url)
    utc = ZoneInfo("UTC")
    settings = Settings(nudge_time="09:00", nudge_cooldown_days=3)

    def zone_for(_: str) -> ZoneInfo:
        return utc

    morning, evening = NOW.replace(hour=9, minute=5), NOW.replace(hour=20, minute=0)
    scan = timed(lambda: len(engagements.stale_engagements(NOW)))
    stale = scan.pop("result")
    everyone = timed(lambda: sum(len(n.lines) for n in nudges.stale_by_owner(NOW, cooldown_days=3, zone_for=zone_for)))
    lines = everyone.pop("result")
    tick_due = timed(lambda: len(nudge_job.due_nudges(settings, morning, zone_for)))
    due = tick_due.pop("result")
    tick_idle = timed(lambda: len(nudge_job.due_nudges(settings, evening, zone_for)))
    tick_idle.pop("result")
    for label, figure, note in (("stale_engagements", scan, f"{stale} stale"),
                                ("stale_by_owner (all SEs)", everyone, f"{lines} lines to send"),
                                ("tick at 09:05", tick_due, f"{due} SEs due"),
                                ("tick at 20:00", tick_idle, "none due")):
        print(f"    {label:<24} {figure['median_ms']:>9.1f} ms ({note})", flush=True)
    return {"open": history.open_count, "stale": stale, "lines_to_send": lines, "ses_due_at_0905": due,
            "stale_engagements": scan, "stale_by_owner": everyone, "tick_0905": tick_due, "tick_2000": tick_idle}


def verdicts(results: dict[str, Any]) -> dict[str, dict[str, bool]]:
    out = {}
    for name, figures in results["databases"].items():
        stats, scan = figures["stats"], figures["nudges"]
        limit = TARGET_SECONDS * 1000
        out[name] = {
            "stats_12_weeks_under_1s": stats["stats_12_weeks"]["median_ms"] <= limit,
            "stats_all_time_under_1s": stats["stats_all_time"]["median_ms"] <= limit,
            "digest_under_1s": stats["digest_figures"]["median_ms"] <= limit,
            "mttc_within_1_5x_12_weeks": stats["mttc_epos_12_weeks"]["median_ms"]
            <= TARGET_RATIO * max(stats["mttc_sql_12_weeks"]["median_ms"], 0.1),
            "mttc_within_1_5x_all_time": stats["mttc_epos_all_time"]["median_ms"]
            <= TARGET_RATIO * max(stats["mttc_sql_all_time"]["median_ms"], 0.1),
            "mttc_figures_agree": stats["mttc_agree_12_weeks"] and stats["mttc_agree_all_time"],
            "stale_scan_under_1s": scan["stale_engagements"]["median_ms"] <= limit,
            "nudge_tick_under_1s": max(scan["tick_0905"]["median_ms"], scan["tick_2000"]["median_ms"]) <= limit,
        }
    return out


def print_table(results: dict[str, Any]) -> None:
    print(f"\nStats, digest and nudge scan: {results['engagements']:,} engagements, {results['stage_changes']:,} "
          f"stage changes; nudge scan over {results['open_engagements']:,} open engagements\n")
    rows = [
        ("epos stats, 12 weeks", "stats", "stats_12_weeks"),
        ("epos stats, all time", "stats", "stats_all_time"),
        ("digest figures (1 week)", "stats", "digest_figures"),
        ("MTTC epos, 12 weeks", "stats", "mttc_epos_12_weeks"),
        ("MTTC hand SQL, 12 weeks", "stats", "mttc_sql_12_weeks"),
        ("MTTC epos, all time", "stats", "mttc_epos_all_time"),
        ("MTTC hand SQL, all time", "stats", "mttc_sql_all_time"),
        ("stale_engagements", "nudges", "stale_engagements"),
        ("stale_by_owner, all SEs", "nudges", "stale_by_owner"),
        ("nudge tick, 09:05 (due)", "nudges", "tick_0905"),
        ("nudge tick, 20:00 (idle)", "nudges", "tick_2000"),
    ]
    names = list(results["databases"])
    print(f"{'median ms (first)':<26}" + "".join(f"{name:>24}" for name in names))
    for label, group, key in rows:
        cells = []
        for name in names:
            figure = results["databases"][name][group][key]
            cells.append(f"{figure['median_ms']:>12.1f} ({figure['first_ms']:>8.1f})")
        print(f"{label:<26}" + "".join(f"{cell:>24}" for cell in cells))
    print(f"{'epos stats CLI wall s':<26}" + "".join(
        f"{results['databases'][n]['stats']['cli_stats_s']:>24.2f}" for n in names))
    print(f"{'bulk load s':<26}" + "".join(f"{results['databases'][n]['stats']['load_s']:>24.1f}" for n in names))
    print()
    for name, checks in results["targets"].items():
        print(f"targets {name}: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in checks.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k engagements, 100k stage changes, 10k open")
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--postgresql", default=os.environ.get("EPOS_BENCH_POSTGRESQL", DEFAULT_SERVER),
                        help="server URL ending in / (a scratch database is created there and dropped)")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    count, changes, open_count = 100_000 // scale, 1_000_000 // scale, 100_000 // scale

    playbooks.configure(None)
    started = time.perf_counter()
    history = generate_history(count, changes, now=NOW)
    open_history = generate_open(open_count, now=NOW)
    print(f"generated {count:,} engagements / {changes:,} stage changes and {open_count:,} open engagements "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    results: dict[str, Any] = {
        "now": NOW.isoformat(), "engagements": count, "stage_changes": changes, "open_engagements": open_count,
        "closed_engagements": count - history.open_count, "esat_ratings": len(history.esat),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "databases": {},
    }
    databases = list(args.databases)
    if "postgresql" in databases and not postgresql_reachable(args.postgresql):
        print(f"  PostgreSQL at {args.postgresql} cannot be reached; running on SQLite only "
              "(point --postgresql or EPOS_BENCH_POSTGRESQL at a server)", flush=True)
        databases.remove("postgresql")
        results["postgresql_skipped"] = True
    for name in databases:
        print(f"  {name}", flush=True)
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as scratch:
                stats_path, nudge_path = f"{scratch}/stats.db", f"{scratch}/nudges.db"
                figures = {
                    "stats": bench_history(f"sqlite:///{stats_path}", history, lambda h: load_sqlite(stats_path, h)),
                    "nudges": bench_nudges(f"sqlite:///{nudge_path}", open_history,
                                           lambda h: load_sqlite(nudge_path, h)),
                }
                db.engine().dispose()
        else:
            with scratch_postgresql(args.postgresql) as stats_url:
                stats = bench_history(stats_url, history, lambda h: load_postgresql(stats_url, h))
                results["postgresql_version"] = _server_version()
            with scratch_postgresql(args.postgresql) as nudge_url:
                figures = {"stats": stats,
                           "nudges": bench_nudges(nudge_url, open_history, lambda h: load_postgresql(nudge_url, h))}
        results["databases"][name] = figures
    results["targets"] = verdicts(results)
    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {args.output}")
    return 0


def postgresql_reachable(server: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(server.rstrip("/").replace("postgresql+psycopg://", "postgresql://", 1) + "/postgres",
                             connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _server_version() -> str:
    with db.engine().connect() as connection:
        return str(connection.execute(text("SHOW server_version")).scalar())


if __name__ == "__main__":
    raise SystemExit(main())
