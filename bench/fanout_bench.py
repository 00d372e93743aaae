"""The 09:00 burst at organisation scale: 1,000 SEs due for their nudge at the same minute, and the Monday
digest with its per-SE thread reply, against a mock Slack that enforces Slack's rate limits.

    .venv/bin/python -m bench.fanout_bench              # 1,000 SEs, in real time (5 to 9 minutes)
    .venv/bin/python -m bench.fanout_bench --quick      # 200 SEs
    .venv/bin/python -m bench.fanout_bench --cache cold --speed 5   # nobody cached yet; Slack's waits 5x faster
    .venv/bin/python -m bench --only fanout

Four processes share the machine: this one (the load generator), the mock Slack (`bench.slack_sink
--limits`: 429 with Retry-After over a method's tier per minute, and over about one post a second per
channel with bursts of three), `epos serve` with `SCHEDULER_IN_BOT=false` answering signed /asset commands,
and the scheduler (this module with `--burst`), which ticks every simulated minute from Monday 09:00 in
Europe/Berlin on the same SQLite database.

Simulated time: the scheduler's clock, its per-channel pacer, the mock's rate limits and the Retry-After
waits all run `--speed` times faster than the wall clock, so 20 minutes of them take 4 at `--speed 5`. The
bot's own work is not sped up, so every simulated duration counts it `--speed` times over: the figures
are an upper bound on what the same burst takes in real time (and the burst's CPU load on the serving
process is `--speed` times denser than it would be). The default is real time (`--speed 1`): with the
week-old cache nothing waits long on Slack's limits, and the burst is over in a few minutes.

Measured: when each SE's nudge and the digest, its thread reply and its chart arrived at the mock Slack
(simulated minutes after 09:00), posts lost or doubled, the calls Slack rate-limited, and the ack latency
of `epos serve` (p50/p99 of HTTP 200 for /asset) without the burst, during it, and without it again
after it (on a shared machine, the two quiet stretches show how far the latency drifts by itself). For
each stretch, where the cores went: the serving workers (and their CPU per request), the mock Slack, the
scheduler, the machine's load average, and the acks whose delivery check gave up waiting for SQLite's
write lock.
Targets: every nudge within 5 minutes of 09:00, the digest and its thread within 20, none lost, none
twice, and the ack p99 during the burst within 1.5x the p99 without it. Writes bench/results/fanout.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.ack_bench import (SECRET, TOKEN, Load, cpu_seconds, free_port, percentile, settle_workers, start_server,
                             stop_server, wait_healthy, worker_pids)
from bench.engagement_data import History, load_sqlite, se_id
from bench.slack_sink import SinkProcess
from tests.support.wire import SlackWire

ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = Path(__file__).parent / "results" / "fanout.json"
ZONE = "Europe/Berlin"
MONDAY_0900 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, a Monday
DIGEST_CHANNEL = "C0DIGEST1"
NUDGE_TARGET_MIN = 5.0
DIGEST_TARGET_MIN = 20.0
ACK_RATIO_TARGET = 1.5
# The scheduler gives up this many simulated minutes after 09:00, done or not.
GIVE_UP_MIN = 30.0
# What the server logs when an ack's delivery check gave up waiting for the database (the write lock).
CLAIM_GAVE_UP = "could not claim a delivery in time"


# ----- data -------------------------------------------------------------------------------------------
def burst_history(ses: int) -> History:
    """Each SE: one engagement stale since October (a nudge is due), and one won last week (a digest line)."""
    now = MONDAY_0900.replace(tzinfo=None)
    history = History(now=MONDAY_0900)
    stale_since = now - timedelta(days=40)
    won_at = now - timedelta(days=4)
    for n in range(ses):
        owner = se_id(n)
        for kind, index in (("open", 2 * n + 1), ("won", 2 * n + 2)):
            opened = stale_since - timedelta(days=10)
            closed = won_at if kind == "won" else None
            history.engagements.append((
                index, f"Account {index:06d}", f"Opportunity {index}", owner, "U0SL00001", "observability", "", "",
                None, opened, "poc" if kind == "open" else "closed", stale_since, closed or stale_since, closed,
                "won" if kind == "won" else None, None, None, owner, opened, closed or stale_since,
            ))
            history.changes.append((2 * index - 1, index, None, "poc", None, owner, opened, stale_since, "", None))
            if kind == "won":
                history.changes.append((2 * index, index, "poc", "closed", "won", owner, won_at, won_at, "", None))
    return history


def seed_people(path: str, ses: int, *, fetched_days_ago: int) -> None:
    """The SEs in epos's Slack user cache, as fetched `fetched_days_ago` (past FRESH_FOR: stale)."""
    fetched = (datetime.now(UTC) - timedelta(days=fetched_days_ago)).replace(tzinfo=None)
    connection = sqlite3.connect(path)
    try:
        connection.executemany("INSERT INTO slack_users (user_id, name, timezone, fetched_at) VALUES (?, ?, ?, ?)",
                               [(se_id(n), f"SE {n}", ZONE, fetched.isoformat(sep=" ", timespec="microseconds"))
                                for n in range(ses)])
        connection.commit()
    finally:
        connection.close()


# ----- the scheduler under test (a child process) -------------------------------------------------------
def run_burst(speed: float) -> int:
    """Tick every simulated minute from Monday 09:00 until every scheduled post is done (or GIVE_UP_MIN)."""
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    from bot import db, outbox
    from bot.app import MAX_RETRIES, make_client
    from bot.config import load_settings
    from bot.jobs.digest import THREAD_JOB
    from bot.scheduler import tick, yield_to_requests
    from bot.services import claims, digest, nudges

    class SimulatedRetryAfter(RateLimitErrorRetryHandler):
        """Slack's Retry-After (in simulated seconds here) waited out on the simulated clock."""

        def prepare_for_next_attempt(self, **kwargs: Any) -> None:
            real_sleep = time.sleep
            try:
                time.sleep = lambda seconds: real_sleep(seconds / speed)  # type: ignore[assignment]
                super().prepare_for_next_attempt(**kwargs)
            finally:
                time.sleep = real_sleep  # type: ignore[assignment]

    settings = load_settings()
    db.configure(settings.database_url)
    client = make_client(settings)
    client.retry_handlers = [h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)]
    client.retry_handlers.append(SimulatedRetryAfter(max_retry_count=MAX_RETRIES))
    outbox.PACER = outbox.Pacer(outbox.PER_CHANNEL_INTERVAL / speed)

    ses = int(os.environ["EPOS_BENCH_SES"])
    periods = [nudges.period(se_id(n), MONDAY_0900.astimezone(settings.timezone).date()) for n in range(ses)]
    week = digest.due_week(MONDAY_0900, settings.timezone, settings.digest_slot)
    assert week is not None
    yield_to_requests()  # as the scheduler's tick thread does
    began = time.monotonic()
    print(json.dumps({"began": began}), flush=True)
    ticks = 0
    while True:
        simulated = (time.monotonic() - began) * speed
        now = MONDAY_0900 + timedelta(seconds=simulated)
        result = tick(client, settings, now)
        ticks += 1
        finished = (len(claims.done_periods(nudges.JOB, periods)) == ses and claims.done_periods(digest.JOB, [week])
                    and claims.done_periods(THREAD_JOB, [week]))
        after = (time.monotonic() - began) * speed
        print(json.dumps({"tick_at_min": round(simulated / 60, 2), "took_min": round((after - simulated) / 60, 2),
                          "did": result}), flush=True)
        if finished or after / 60 > GIVE_UP_MIN:
            print(json.dumps({"ticks": ticks, "finished": bool(finished), "cpu_s": round(time.process_time(), 1)}),
                  flush=True)
            return 0
        # Like APScheduler with coalescing: the next tick is at the next whole minute after this one ends.
        next_minute = (int(after // 60) + 1) * 60
        time.sleep(max(0.0, (next_minute - after) / speed))


# ----- the measurement -----------------------------------------------------------------------------------
def load_until(load: Load, clients: int, stop: threading.Event) -> list[tuple[float, float, int]]:
    """Requests from `clients` threads until `stop`: (sent at, ms to the ack, status) each."""
    samples: list[tuple[float, float, int]] = []
    lock = threading.Lock()
    counter = iter(range(10**9))

    def client() -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
            sent = time.monotonic()
            ms, status = load.one(n)
            with lock:
                samples.append((sent, ms, status))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def ack_figures(samples: list[tuple[float, float, int]]) -> dict[str, Any]:
    latencies = [ms for _, ms, _ in samples]
    return {"requests": len(samples), "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1), "max_ms": round(max(latencies), 1),
            "errors": sum(1 for _, _, status in samples if status != 200)}


class Window:
    """Where the two cores went while one stretch of load ran: CPU seconds of the serving workers, the
    mock Slack and this load generator, the machine's load, and the acks whose delivery check gave up
    waiting for SQLite's write lock (from the server's log)."""

    def __init__(self, workers: list[int], sink_pid: int, server_log: Path) -> None:
        self.workers, self.sink_pid, self.server_log = workers, sink_pid, server_log

    def _now(self) -> tuple[float, float, float, float, int]:
        return (time.monotonic(), cpu_seconds(self.workers), cpu_seconds([self.sink_pid]), time.process_time(),
                self._claims_given_up())

    def _claims_given_up(self) -> int:
        return self.server_log.read_text(errors="replace").count(CLAIM_GAVE_UP)

    def __enter__(self) -> Window:
        self.start = self._now()
        return self

    def __exit__(self, *_: object) -> None:
        end = self._now()
        seconds = end[0] - self.start[0]
        self.figures = {
            "seconds": round(seconds, 1),
            "serve_cores": round((end[1] - self.start[1]) / seconds, 2),
            "sink_cores": round((end[2] - self.start[2]) / seconds, 2),
            "load_generator_cores": round((end[3] - self.start[3]) / seconds, 2),
            "claims_given_up": end[4] - self.start[4],
            "load_average": round(os.getloadavg()[0], 1),
        }

    def per_request(self, acks: dict[str, Any]) -> dict[str, Any]:
        """The figures with the serving workers' CPU per answered request."""
        cpu = self.figures["serve_cores"] * self.figures["seconds"]
        return self.figures | {"serve_cpu_ms_per_request": round(1000 * cpu / max(acks["requests"], 1), 2)}


def deliveries(posts: list[dict[str, Any]], began: float, speed: float, ses: int) -> dict[str, Any]:
    """Simulated minutes after 09:00 of each kind of post, and what was lost or doubled."""
    def minutes(at: float) -> float:
        return (at - began) * speed / 60

    by_period: dict[tuple[str, str], list[float]] = {}
    for post in posts:
        if post["job"]:
            by_period.setdefault((post["job"], post["period"]), []).append(minutes(post["at"]))
    nudge_times = sorted(min(times) for (job, _), times in by_period.items() if job == "nudge")
    digest_times = [min(times) for (job, _), times in by_period.items() if job == "digest"]
    thread_times = [min(times) for (job, _), times in by_period.items() if job == "digest-thread"]
    return {
        "nudges_delivered": len(nudge_times),
        "nudges_lost": ses - len(nudge_times),
        "nudge_first_min": round(nudge_times[0], 2) if nudge_times else None,
        "nudge_p50_min": round(statistics.median(nudge_times), 2) if nudge_times else None,
        "nudge_last_min": round(nudge_times[-1], 2) if nudge_times else None,
        "digest_min": round(digest_times[0], 2) if digest_times else None,
        "thread_min": round(thread_times[0], 2) if thread_times else None,
        "posted_twice": sum(1 for times in by_period.values() if len(times) > 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ses", type=int, default=1000)
    parser.add_argument("--speed", type=float, default=1.0,
                        help="simulated seconds per wall-clock second (Slack's limits, the pacer, the ticks)")
    parser.add_argument("--cache", choices=("stale", "cold"), default="stale",
                        help="the SEs' Slack user cache: fetched 8 days ago (the weekly state), or empty (a first run)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent /asset clients")
    parser.add_argument("--baseline-seconds", type=float, default=30.0, help="ack load without the burst")
    parser.add_argument("--quick", action="store_true", help="200 SEs, a shorter baseline")
    parser.add_argument("--burst", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    if args.burst:
        return run_burst(args.speed)
    if args.quick:
        args.ses, args.baseline_seconds = min(args.ses, 200), min(args.baseline_seconds, 15.0)

    with tempfile.TemporaryDirectory() as scratch, \
            SinkProcess("--limits", "--speed", str(args.speed), "--people", str(args.ses), "--tz", ZONE) as sink:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": sink.api_url,
            "DATABASE_URL": f"sqlite:///{scratch}/bench.db", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
            "EPOS_TIMEZONE": ZONE, "DIGEST_CHANNEL": DIGEST_CHANNEL, "SCHEDULER_IN_BOT": "false",
            "EPOS_BENCH_SES": str(args.ses),
        }
        print(f"  building {args.ses:,} SEs' engagements ...", flush=True)
        load_sqlite(f"{scratch}/bench.db", burst_history(args.ses))
        if args.cache == "stale":
            seed_people(f"{scratch}/bench.db", args.ses, fetched_days_ago=8)
        subprocess.run([sys.executable, "-m", "bot", "assets", "import", str(ROOT / "examples/assets.yaml")], env=env,
                       cwd=scratch, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        server_log = Path(scratch) / "serve.log"
        with server_log.open("w") as log_file:
            server = start_server([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port",
                                   str(port)], env=env, cwd=scratch, stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz", server)
            workers = worker_pids(server.pid)
            settle_workers(workers)
            wire = SlackWire(f"http://127.0.0.1:{port}/slack/events", SECRET, response_url_base=sink.base_url)
            Load(wire, "warm-").run(50, args.clients)

            def quiet_acks(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
                print(f"  acks without the burst, {name} ({args.baseline_seconds:.0f} s) ...", flush=True)
                stop = threading.Event()
                threading.Timer(args.baseline_seconds, stop.set).start()
                with Window(workers, sink.process.pid, server_log) as window:
                    acks = ack_figures(load_until(Load(wire, f"quiet-{name}-"), args.clients, stop))
                return acks, window.per_request(acks)

            quiet, quiet_window = quiet_acks("before")

            print("  the 09:00 burst, with the same ack load ...", flush=True)
            scheduler = subprocess.Popen([sys.executable, "-m", "bench.fanout_bench", "--burst", "--speed",
                                          str(args.speed)], env=env, cwd=scratch, stdout=subprocess.PIPE, text=True)
            assert scheduler.stdout is not None
            began = json.loads(scheduler.stdout.readline())["began"]
            stop = threading.Event()
            loaded: list[list[tuple[float, float, int]]] = []
            loader = threading.Thread(target=lambda: loaded.append(load_until(Load(wire, "burst-"), args.clients,
                                                                              stop)))
            with Window(workers, sink.process.pid, server_log) as burst_window:
                loader.start()
                ticks = [json.loads(line) for line in scheduler.stdout]
                burst_ended = time.monotonic()
            stop.set()
            loader.join()
            scheduler.wait()
            during = ack_figures([s for s in loaded[0] if s[0] <= burst_ended])
            burst_window.figures["scheduler_cores"] = round(
                ticks[-1].get("cpu_s", 0.0) / burst_window.figures["seconds"], 2)
            # The machine is shared: a second quiet stretch tells its drift from the burst's effect.
            after, after_window = quiet_acks("after")
            windows = {"without_burst": quiet_window, "during_burst": burst_window.per_request(during),
                       "without_burst_after": after_window}
            posts = sink.ask("posts")
            calls = sink.ask("calls")
        finally:
            stop_server(server)

    delivered = deliveries(posts, began, args.speed, args.ses)
    delivered["chart_uploads"] = calls.get("files.completeUploadExternal", {}).get("ok", 0)
    limited = {method: counts["ratelimited"] for method, counts in calls.items() if counts.get("ratelimited")}
    targets = {
        "nudges_within_5_min": delivered["nudges_lost"] == 0 and (delivered["nudge_last_min"] or 99) <= NUDGE_TARGET_MIN,
        "digest_and_thread_within_20_min": all(delivered[key] is not None and delivered[key] <= DIGEST_TARGET_MIN
                                               for key in ("digest_min", "thread_min")),
        "none_lost": delivered["nudges_lost"] == 0 and delivered["digest_min"] is not None
                     and delivered["thread_min"] is not None,
        "none_twice": delivered["posted_twice"] == 0,
        "ack_p99_within_1_5x": during["p99_ms"] <= ACK_RATIO_TARGET * max(quiet["p99_ms"], 1.0),
    }

    print(f"\nThe 09:00 burst: {args.ses:,} SEs due for a nudge and the Monday digest, mock Slack enforcing "
          f"Slack's rate limits, " + ("in real time" if args.speed == 1 else
          f"time simulated at {args.speed:g}x (simulated minutes count the bot's own work {args.speed:g} times "
          "over: an upper bound)") + f"; Slack user cache: {args.cache}; {os.cpu_count()} cores "
          "shared by all processes\n")
    print(f"nudges delivered      {delivered['nudges_delivered']:,} of {args.ses:,}; first at "
          f"{delivered['nudge_first_min']} min, half by {delivered['nudge_p50_min']} min, last at "
          f"{delivered['nudge_last_min']} min after 09:00 on the scheduler's clock")
    print(f"digest                at {delivered['digest_min']} min; its thread reply at {delivered['thread_min']} min; "
          f"chart uploads: {delivered['chart_uploads']}")
    print(f"posted twice          {delivered['posted_twice']}")
    print(f"rate-limited calls    {limited or 'none'}")
    print(f"scheduler ticks       {len([t for t in ticks if 'tick_at_min' in t])}: "
          + "; ".join(f"{t['tick_at_min']} min took {t['took_min']} min" for t in ticks if "tick_at_min" in t))
    print(f"\n{'ack latency of epos serve':<28}{'requests':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
          f"{'serve cores':>13}{'CPU ms/req':>12}{'sink cores':>12}{'sched cores':>13}{'claims given up':>17}"
          f"{'load':>7}")
    for name, figures, window in (("without the burst (before)", quiet, windows["without_burst"]),
                                  ("during the burst", during, windows["during_burst"]),
                                  ("without the burst (after)", after, windows["without_burst_after"])):
        print(f"{name:<28}{figures['requests']:>10}{figures['p50_ms']:>9}{figures['p99_ms']:>9}{figures['max_ms']:>9}"
              f"{figures['errors']:>8}{window['serve_cores']:>13}{window['serve_cpu_ms_per_request']:>12}"
              f"{window['sink_cores']:>12}{window.get('scheduler_cores', '-'):>13}{window['claims_given_up']:>17}"
              f"{window['load_average']:>7}")
    print(f"ack p99 during the burst: {during['p99_ms'] / max(quiet['p99_ms'], 1.0):.2f}x the p99 before it "
          f"(the target), {during['p99_ms'] / max(after['p99_ms'], 1.0):.2f}x the p99 after it")
    print("\ntargets:", ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in targets.items()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "ses": args.ses, "speed": args.speed, "cache": args.cache, "clients": args.clients, "deliveries": delivered,
        "rate_limited": limited, "ticks": ticks, "acks": {"without_burst": quiet, "during_burst": during, "without_burst_after": after},
        "windows": windows,
        "targets": targets, "cores": os.cpu_count(), "python": platform.python_version(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
