"""Every benchmark, one after the other: `.venv/bin/python -m bench` (6 to 11 minutes on 2 cores), or
`.venv/bin/python -m bench --quick` (about 1.5 minutes, smaller sizes).

    search   epos search vs brute-force rapidfuzz vs SQLite FTS5 (1k, 10k, 100k assets)
    stats    epos stats, digest figures and the nudge scan at 100k engagements / 1M stage changes,
             on SQLite and PostgreSQL (EPOS_BENCH_POSTGRESQL, default postgresql+psycopg://postgres@127.0.0.1:5432/)
    ack      ack latency of `epos serve` vs a no-op Bolt app, with the example catalogue and 10k assets
    memory   RSS of the serving process with 100k assets, index warm
    import   `epos assets import` of 100k rows: longest write transaction and peak memory, on SQLite
             (and PostgreSQL when EPOS_BENCH_POSTGRESQL is set)
    fanout   the 09:00 burst: 1,000 nudges and the digest against Slack's rate limits, acks meanwhile

Each runs in a process of its own, prints its table and writes bench/results/<name>.json; a summary of
the targets comes last. `--only ack memory` runs a subset. Results and their reading: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
NAMES = ("search", "stats", "ack", "memory", "import", "fanout")


def runs(quick: bool) -> dict[str, list[list[str]]]:
    """Per benchmark, the command lines (module and arguments) a full or quick run makes."""
    return {
        "search": [["bench.search_bench"] + (["--quick"] if quick else [])],
        "stats": [["bench.stats_bench"] + (["--quick"] if quick else [])],
        "ack": [
            ["bench.ack_bench"] + (["--quick"] if quick else []),
            ["bench.ack_bench", "--assets", "10000", "--output", str(RESULTS / "ack_10k.json")]
            + (["--quick"] if quick else []),
        ],
        "memory": [["bench.memory_bench", "--assets", "10000" if quick else "100000"]],
        "import": [["bench.import_bench", "--rows", "10000" if quick else "100000"]],
        "fanout": [["bench.fanout_bench"] + (["--quick"] if quick else [])],
    }


def summary(since: float) -> list[str]:
    """The targets of the results this run wrote (files older than `since` are from earlier runs)."""
    lines = []
    for name in ("search", "stats", "ack", "ack_10k", "memory", "import", "fanout"):
        path = RESULTS / f"{name}.json"
        if not path.exists() or path.stat().st_mtime < since:
            continue
        data = json.loads(path.read_text())
        if name == "search":
            lines.extend(f"search: {line}" for line in data.get("verdicts", []))
        elif name == "stats":
            for database, checks in data.get("targets", {}).items():
                lines.append(f"stats ({database}): " + _checks(checks))
        elif name == "fanout":
            lines.append(f"fanout ({data['ses']:,} SEs, time at {data['speed']:g}x): " + _checks(data["targets"]))
        elif name.startswith("ack"):
            lines.append(f"{name} ({data.get('catalogue')}): " + _checks(data.get("targets", {})))
        elif name == "import":
            for database, checks in data.get("targets", {}).items():
                lines.append(f"import ({data['rows']:,} rows, {database}): longest write "
                             f"{data[database]['longest_write_s']} s, peak {data[database]['peak_mb']} MB, "
                             + _checks(checks))
        else:
            lines.append(f"memory ({data['assets']:,} assets): worker RSS {data['worker_mb']['VmRSS']} MB, "
                         + _checks({"under_300mb": data["target_under_300mb"]}))
    return lines


def _checks(checks: dict[str, bool]) -> str:
    return ", ".join(f"{key}={'yes' if met else 'NO'}" for key, met in checks.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about 2 minutes")
    parser.add_argument("--only", nargs="+", choices=NAMES, help="run just these")
    args = parser.parse_args(argv)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    failed = []
    began, began_at = time.perf_counter(), time.time()
    for name, commands in runs(args.quick).items():
        if args.only and name not in args.only:
            continue
        for command in commands:
            print(f"\n=== {name}: {' '.join(command)}", flush=True)
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env)
            print(f"=== {name} took {time.perf_counter() - started:.0f} s", flush=True)
            if result.returncode:
                failed.append(" ".join(command))
    print(f"\n=== summary ({time.perf_counter() - began:.0f} s in all; load average now "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    for line in summary(began_at):
        print(line)
    for command in failed:
        print(f"FAILED to run: {command}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
