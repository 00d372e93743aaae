"""The mock Slack Web API in a process of its own, for benchmarks that load a running server.

In the load generator's process its request handling would compete with the clients for the GIL and
distort their clocks. The parent talks to it over stdin/stdout, one line each way:

    (start)        -> {"base_url": "http://127.0.0.1:PORT/", "api_url": ".../api/"}
    "responses"    -> {"<response name>": <time.monotonic() of its arrival>, ...}
    "posts"        -> [{"channel", "thread_ts", "at", "job", "period"}, ...] every stored chat.postMessage
    "calls"        -> {"<method>": {"ok": n, "ratelimited": n, ...}, ...}
    "quit"         -> exits

Started with `--limits` it enforces Slack's rate limits (`tests.support.slack.RateLimits`), `--speed` times
faster than the wall clock; `--people N` makes N SEs (`bench.engagement_data.se_id`) known to users.info.

`time.monotonic()` is the system-wide monotonic clock on Linux, so arrival times compare with the
parent's send times.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from bench.engagement_data import se_id
from tests.support.slack import Call, MockSlack, RateLimits


class SinkProcess:
    """The parent's handle on a sink running in a child process."""

    def __init__(self, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.slack_sink", *options], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )
        urls = self._read()
        self.base_url: str = urls["base_url"]
        self.api_url: str = urls["api_url"]

    def _read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the Slack sink process stopped")
        return json.loads(line)

    def responses(self) -> dict[str, float]:
        return dict(self.ask("responses"))

    def ask(self, command: str) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()

    def __enter__(self) -> SinkProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def serve(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limits", action="store_true")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--people", type=int, default=0)
    parser.add_argument("--tz", default="Europe/Berlin")
    args = parser.parse_args(argv)
    slack = MockSlack()
    if args.limits:
        slack.limits = RateLimits(speed=args.speed)
    for n in range(args.people):
        slack.add_user(se_id(n), name=f"SE {n}", tz=args.tz)
    # http.server listens with a backlog of 5; a burst of answers would overflow it and each dropped
    # connection would be retried a second later, which is the sink's delay, not the bot's.
    slack._server.socket.listen(1024)
    with slack:
        print(json.dumps({"base_url": slack.base_url, "api_url": slack.api_url}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "responses":
                arrived = {str(call.params.get("_name")): call.at for call in list(slack.responses)}
                print(json.dumps(arrived), flush=True)
            elif command == "posts":
                print(json.dumps([_post(call) for call in slack.calls_to("chat.postMessage")
                                  if "_fault" not in call.params]), flush=True)
            elif command == "calls":
                counts: dict[str, dict[str, int]] = {}
                for call in list(slack.calls):
                    outcome = str(call.params.get("_fault", "ok"))
                    counts.setdefault(call.method, {}).setdefault(outcome, 0)
                    counts[call.method][outcome] += 1
                print(json.dumps(counts), flush=True)
            elif command == "quit":
                break


def _post(call: Call) -> dict[str, Any]:
    payload = (call.params.get("metadata") or {}).get("event_payload") or {}
    return {"channel": call.params.get("channel"), "thread_ts": call.params.get("thread_ts"), "at": call.at,
            "job": payload.get("job"), "period": payload.get("period")}


if __name__ == "__main__":
    serve()
