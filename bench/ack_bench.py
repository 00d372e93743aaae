"""Ack latency under load: `epos serve` against a no-op Bolt app under the same gunicorn settings (the floor).

    .venv/bin/python -m bench.ack_bench                      # 2,000 signed /asset requests, 50 clients
    .venv/bin/python -m bench.ack_bench --assets 100000      # over a generated 100k catalogue
    .venv/bin/python -m bench.ack_bench --catalogue examples/assets.yaml
    .venv/bin/python -m bench.ack_bench --quick              # 500 requests

For each server: the same number of gunicorn workers and threads, one warm-up round of 50 requests not
counted, then the clients send the requests as fast as they are answered. The floor and epos are
measured in turn, three rounds by default, and the medians over the rounds reported (other work on a
shared machine comes and goes; the server's CPU per request is the steadiest figure). Reported: p50/p99/max time to
HTTP 200 (the ack), errors (anything but 200, and connection failures), requests per second, the
server's CPU time per request (its workers' user + system time over the run, answers included), and for
epos also each search's answer, which the ack carries (or, when it is not ready within epos's ack
budget, is posted to the command's `response_url` after an empty ack): how many arrived, how many in
the ack, and p50/p99 from sending the command to the answer's arrival, what the person sees. The mock
Slack that receives answers at a response_url runs in its own process. Prints a table and writes `bench/results/ack.json`.
The load generator, the mock Slack and the server share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.slack_sink import SinkProcess
from tests.support.wire import SlackWire

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-0000"
USER = "U0BENCH01"
QUERIES = ["demo observability", "k8s walkthrough", "siem proofshop", "obervability", "logging workshop",
           "vector search", "kubernetes security", "dashbords", "otel tracing demo", "apm"]
RESULTS_PATH = Path(__file__).parent / "results" / "ack.json"
ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 50
TARGET_P99_MS = 250.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(command: list[str], **popen: Any) -> subprocess.Popen[bytes]:
    """A server (gunicorn and its workers) in a session of its own, for stop_server to end all of it."""
    return subprocess.Popen(command, start_new_session=True, **popen)


def stop_server(server: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM to the server's whole process group (its master and every worker, even one whose master
    is gone), then SIGKILL to whatever of it is left after `grace` seconds. Workers left behind would hold
    cores and gigabytes through whatever runs next on the machine."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    try:
        server.wait(timeout=grace)
    except subprocess.TimeoutExpired:  # a loaded machine can take longer to drain its workers
        pass
    while time.monotonic() < deadline:
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait()


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early ({process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def wait_for_answers(sink: SinkProcess, names: set[str], timeout: float, *,
                     in_acks: dict[str, float] | None = None) -> dict[str, float]:
    """When each command's answer arrived: with its ack (`in_acks`), or at its response_url."""
    deadline = time.monotonic() + timeout
    while True:
        arrived = {**sink.responses(), **(in_acks or {})}
        if names <= arrived.keys() or time.monotonic() > deadline:
            return arrived
        time.sleep(0.25)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered))) - 1))]


class Load:
    """Signed /asset commands from a pool of clients, each with its own response_url name."""

    def __init__(self, wire: SlackWire, prefix: str) -> None:
        self.wire, self.prefix = wire, prefix
        self.sent_at: dict[str, float] = {}
        # Commands answered in the ack itself: when that answer arrived.
        self.answered_in_ack: dict[str, float] = {}
        self.lock = threading.Lock()

    def one(self, n: int) -> tuple[float, int]:
        name = f"{self.prefix}{n}"
        fields = self.wire.command_fields("/asset", QUERIES[n % len(QUERIES)], user_id=USER, response_name=name)
        body = urllib.parse.urlencode(fields).encode()
        started = time.monotonic()
        with self.lock:
            self.sent_at[name] = started
        try:
            response = self.wire.post(body, content_type="application/x-www-form-urlencoded", timeout=30)
        except OSError:
            return (time.monotonic() - started) * 1000, 0
        finished = time.monotonic()
        if response.status == 200 and response.body.startswith(b"{") and b'"blocks"' in response.body:
            with self.lock:
                self.answered_in_ack[name] = finished
        return (finished - started) * 1000, response.status

    def run(self, requests: int, clients: int) -> tuple[list[tuple[float, int]], float]:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            began = time.monotonic()
            samples = list(pool.map(self.one, range(requests)))
            return samples, time.monotonic() - began


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: children of the master process."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                children.append(int(entry))
    return sorted(children)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def settle_workers(workers: list[int], timeout: float = 300) -> None:
    """Wait until no worker used more than a tenth of a core over the last second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = [cpu_seconds([worker]) for worker in workers]
        time.sleep(1)
        if all(cpu_seconds([worker]) - used < 0.1 for worker, used in zip(workers, before)):
            return


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure(name: str, command: list[str], env: dict[str, str], cwd: str, sink: SinkProcess, args: argparse.Namespace,
            *, answers: bool, round_number: int = 1) -> dict[str, Any]:
    port = free_port()
    process = start_server(command + ["--bind" if "gunicorn" in command else "--port", _bind(command, port)],
                           env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        wire = SlackWire(f"http://127.0.0.1:{port}/slack/events", SECRET, response_url_base=sink.base_url)
        prefix = f"{name.split()[0]}-r{round_number}-"
        # Each worker builds its own search index at start; the load waits until they all have.
        settle_workers(worker_pids(process.pid))
        if answers:
            # The first search waits for the index; start timing once an answer has come back.
            first = Load(wire, prefix + "first-")
            first.one(0)
            wait_for_answers(sink, {prefix + "first-0"}, timeout=180, in_acks=first.answered_in_ack)
        Load(wire, prefix + "warm-").run(WARM_UP, args.clients)
        load = Load(wire, prefix)
        workers = worker_pids(process.pid)
        cpu_before = cpu_seconds(workers)
        samples, elapsed = load.run(args.requests, args.clients)
        if answers:
            wait_for_answers(sink, set(load.sent_at), timeout=120, in_acks=load.answered_in_ack)
        cpu_per_request = (cpu_seconds(workers) - cpu_before) / args.requests * 1000
        latencies = [ms for ms, _ in samples]
        figures: dict[str, Any] = {
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies), 1),
            "errors": sum(1 for _, status in samples if status != 200),
            "requests_per_s": round(args.requests / elapsed, 1),
            # The server's own CPU per request (its answers' work included): steady whatever else runs.
            "server_cpu_ms_per_request": round(cpu_per_request, 2),
        }
        if answers:
            arrived = wait_for_answers(sink, set(load.sent_at), timeout=120, in_acks=load.answered_in_ack)
            figures["answered_in_ack"] = len(load.answered_in_ack)
            waits = [(arrived[n] - sent) * 1000 for n, sent in load.sent_at.items() if n in arrived]
            figures["answered"] = len(waits)
            figures["answer_p50_ms"] = round(statistics.median(waits), 1) if waits else None
            figures["answer_p99_ms"] = round(percentile(waits, 0.99), 1) if waits else None
        figures["worker_rss_mb"] = [rss_mb(pid) for pid in worker_pids(process.pid)]
        return figures
    finally:
        stop_server(process)


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds; errors and answers added up; the last round's memory."""
    summary: dict[str, Any] = {}
    for key in ("p50_ms", "p99_ms", "max_ms", "requests_per_s", "server_cpu_ms_per_request", "answer_p50_ms",
                "answer_p99_ms"):
        values = [run[key] for run in runs if run.get(key) is not None]
        if values:
            summary[key] = round(statistics.median(values), 2 if key == "server_cpu_ms_per_request" else 1)
    summary["errors"] = sum(run["errors"] for run in runs)
    if any("answered" in run for run in runs):
        summary["answered"] = sum(run.get("answered", 0) for run in runs)
        summary["answered_in_ack"] = sum(run.get("answered_in_ack", 0) for run in runs)
    summary["worker_rss_mb"] = runs[-1]["worker_rss_mb"]
    return summary


def _row(name: str, figures: dict[str, Any]) -> str:
    return (f"{name:<28}{figures['p50_ms']:>9}{figures['p99_ms']:>9}{figures['max_ms']:>9}{figures['errors']:>8}"
            f"{figures['requests_per_s']:>8}{figures.get('answered', '-')!s:>10}"
            f"{figures.get('answer_p50_ms', '-')!s:>12}{figures.get('answer_p99_ms', '-')!s:>12}"
            f"{figures['server_cpu_ms_per_request']:>12}{', '.join(str(r) for r in figures['worker_rss_mb']):>16}")


def _bind(command: list[str], port: int) -> str:
    return f"127.0.0.1:{port}" if "gunicorn" in command else str(port)


def prepare_database(scratch: str, env: dict[str, str], args: argparse.Namespace) -> str:
    path = f"{scratch}/bench.db"
    if args.assets:
        from bench.catalogue_db import build

        build(path, args.assets)
        return f"{args.assets:,} generated assets"
    catalogue = Path(args.catalogue)
    if not catalogue.is_absolute():
        catalogue = ROOT / catalogue
    subprocess.run([sys.executable, "-m", "bot", "assets", "import", str(catalogue)], env=env, cwd=scratch,
                   check=True, stdout=subprocess.DEVNULL)
    return str(args.catalogue)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--catalogue", default="examples/assets.yaml", help="asset file to import first")
    parser.add_argument("--assets", type=int, default=0, help="instead, a generated catalogue of N assets")
    parser.add_argument("--workers", type=int, help="gunicorn workers for both servers (default: epos serve's)")
    parser.add_argument("--threads", type=int, help="threads per worker for both servers (default: epos serve's)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure floor and epos in turn this many times and report the medians (default 3)")
    parser.add_argument("--quick", action="store_true", help="500 requests, one round")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.rounds = min(args.requests, 500), 1
    args.rounds = max(1, args.rounds)

    from bot.cli import build_parser

    defaults = build_parser().parse_args(["serve"])  # what `epos serve` runs with unless told otherwise
    workers = args.workers or defaults.workers
    threads = args.threads or defaults.threads
    with SinkProcess() as sink, tempfile.TemporaryDirectory() as scratch:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_"))},
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": sink.api_url,
            "DATABASE_URL": f"sqlite:///{scratch}/bench.db",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        catalogue = prepare_database(scratch, env, args)
        servers = {
            "no-op Bolt app (floor)": [sys.executable, "-m", "gunicorn", "bench.noop_app:wsgi", "-k", "gthread",
                                       "--workers", str(workers), "--threads", str(threads)],
            "epos serve": [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--workers", str(workers),
                           "--threads", str(threads)],
        }
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
        for round_number in range(1, args.rounds + 1):
            for name, command in servers.items():
                print(f"  round {round_number}: {name} ...", flush=True)
                rounds[name].append(measure(name, command, env, scratch if name == "epos serve" else str(ROOT), sink,
                                            args, answers=name == "epos serve", round_number=round_number))
    results = {name: summarise(runs) for name, runs in rounds.items()}

    floor, epos = results["no-op Bolt app (floor)"], results["epos serve"]
    print(f"\nAck latency: {args.requests:,} signed /asset requests from {args.clients} concurrent clients, "
          f"{workers} worker(s) x {threads} threads, catalogue: {catalogue}, {os.cpu_count()} cores shared with "
          f"the load generator; {args.rounds} round(s), floor and epos in turn, medians over the rounds\n")
    header = (f"{'server':<28}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}{'req/s':>8}{'answered':>10}"
              f"{'answer p50':>12}{'answer p99':>12}{'CPU ms/req':>12}{'worker RSS MB':>16}")
    print(header)
    for name, figures in results.items():
        print(_row(name, figures))
    print(f"\nepos's answers carried by the ack itself: {epos.get('answered_in_ack', 0):,} of {epos.get('answered', 0):,} "
          "(the rest came at their response_url)")
    if args.rounds > 1:
        print("\nper round:")
        for name, runs in rounds.items():
            for number, figures in enumerate(runs, start=1):
                print(_row(f"{name.split(' (')[0]} #{number}", figures))
    verdict = {
        "p99_within_250ms": epos["p99_ms"] <= TARGET_P99_MS,
        "zero_errors": epos["errors"] == 0,
        "within_2x_floor": epos["p99_ms"] <= 2 * max(floor["p99_ms"], 1.0),
        "every_search_answered": epos.get("answered") == args.requests * args.rounds,
    }
    print("\ntargets (on the medians):", ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in verdict.items()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "results": results, "rounds": rounds, "targets": verdict, "requests": args.requests,
        "clients": args.clients, "workers": workers, "threads": threads, "catalogue": catalogue,
        "cores": os.cpu_count(), "python": platform.python_version(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
