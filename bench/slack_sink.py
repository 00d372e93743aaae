"""The mock Slack Web API in a process of its own, for benchmarks that load a running server.

In the load generator's process its request handling would compete with the clients for the GIL and
distort their clocks. The parent talks to it over stdin/stdout, one line each way:

    (start)        -> {"base_url": "http://127.0.0.1:PORT/", "api_url": ".../api/"}
    "responses"    -> {"<response name>": <time.monotonic() of its arrival>, ...}
    "quit"         -> exits

`time.monotonic()` is the system-wide monotonic clock on Linux, so arrival times compare with the
parent's send times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bot.slackmock import MockSlack


class SinkProcess:
    """The parent's handle on a sink running in a child process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.slack_sink"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
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
        assert self.process.stdin is not None
        self.process.stdin.write("responses\n")
        self.process.stdin.flush()
        return dict(self._read())

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


def serve() -> None:
    slack = MockSlack()
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
            elif command == "quit":
                break


if __name__ == "__main__":
    serve()
