"""Memory of the serving process: `epos serve` with a large catalogue, its search index warm.

    .venv/bin/python -m bench.memory_bench                 # 100k generated assets
    .venv/bin/python -m bench.memory_bench --assets 10000

Starts `epos serve` with its default workers and threads over a SQLite database holding the generated
catalogue, waits until searches have been answered (every worker builds its own index at start), runs a
few more, and reads VmRSS and VmHWM (the peak) of each gunicorn worker and of the master from /proc.
Target: each worker stays under 300 MB. Prints a table and writes `bench/results/memory.json`.
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
from pathlib import Path
from typing import Any

from bench.ack_bench import (
    QUERIES,
    SECRET,
    TOKEN,
    Load,
    free_port,
    settle_workers,
    start_server,
    stop_server,
    wait_for_answers,
    wait_healthy,
    worker_pids,
)
from bench.catalogue_db import build
from bench.slack_sink import SinkProcess
from tests.support.wire import SlackWire

RESULTS_PATH = Path(__file__).parent / "results" / "memory.json"
ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 300.0
SEARCHES = 20


def status_mb(pid: int) -> dict[str, float]:
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmRSS", "VmHWM"):
            figures[key] = round(int(line.split()[1]) / 1024, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)

    with SinkProcess() as sink, tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        build(f"{scratch}/bench.db", args.assets)
        print(f"  catalogue of {args.assets:,} assets written in {time.perf_counter() - started:.1f} s", flush=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": sink.api_url,
            "DATABASE_URL": f"sqlite:///{scratch}/bench.db", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
        }
        port = free_port()
        process = start_server(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
            workers = worker_pids(process.pid)
            at_start = [status_mb(worker) for worker in workers]
            wire = SlackWire(f"http://127.0.0.1:{port}/slack/events", SECRET, response_url_base=sink.base_url)
            load = Load(wire, "memory-")
            started = time.perf_counter()
            load.one(0)
            wait_for_answers(sink, {"memory-0"}, timeout=300, in_acks=load.answered_in_ack)
            first_answer_s = time.perf_counter() - started
            load.run(SEARCHES, 4)
            wait_for_answers(sink, {f"memory-{n}" for n in range(SEARCHES)}, timeout=60, in_acks=load.answered_in_ack)
            # Every worker has built its index once its CPU stops climbing.
            settle_workers(workers)
            time.sleep(1)
            warm = [status_mb(worker) for worker in workers]
            result: dict[str, Any] = {
                "assets": args.assets,
                "workers": len(workers),
                "worker_at_start_mb": at_start,
                "worker_mb": max(warm, key=lambda figures: figures.get("VmRSS", 0)),
                "each_worker_mb": warm,
                "master_mb": status_mb(process.pid),
                "first_answer_s": round(first_answer_s, 1),
                "searches": SEARCHES + 1,
                "queries": QUERIES,
                "python": platform.python_version(),
            }
        finally:
            stop_server(process)

    result["target_under_300mb"] = all(figures["VmRSS"] < TARGET_MB for figures in result["each_worker_mb"])
    print(f"\nMemory of `epos serve` with {args.assets:,} published assets, index warm, after "
          f"{result['searches']} searches\n")
    print(f"{'process':<28}{'RSS MB':>9}{'peak MB':>9}")
    for number, (start, warm_figures) in enumerate(zip(at_start, result["each_worker_mb"]), start=1):
        print(f"{f'worker {number}, at start':<28}{start.get('VmRSS', 0):>9}{start.get('VmHWM', 0):>9}")
        print(f"{f'worker {number}, warm':<28}{warm_figures['VmRSS']:>9}{warm_figures['VmHWM']:>9}")
    print(f"{'gunicorn master':<28}{result['master_mb']['VmRSS']:>9}{result['master_mb']['VmHWM']:>9}")
    print(f"\nfirst answer after {result['first_answer_s']} s (index build included)")
    print(f"target (each worker's RSS < {TARGET_MB:g} MB): {'met' if result['target_under_300mb'] else 'MISSED'}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
