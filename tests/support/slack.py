"""The Slack stand-in as the tests use it: `bot.slackmock.MockSlack` plus what only tests (and the
benchmarks) need. It can be told to misbehave (429, 5xx, ok:false, slowness, dropped connections, a
call carried out but answered too late) for a number of calls, to enforce Slack's rate limits, to give
another answer for a method, and it waits for calls: handlers go on working after their ack."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import slackmock
from bot.slackmock import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, Call, Message, Request

__all__ = ["APP_ID", "BOT_ID", "BOT_USER_ID", "POST_BURST", "TEAM_ID", "TIER_PER_MINUTE", "Call", "Fault", "Message", "MockSlack",
           "RateLimits"]


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    delay: float = 0.0
    retry_after: int | None = None
    drop: bool = False
    times: int = 1
    # Carry the call out (a post is stored) and only then wait `delay` before answering: Slack accepted
    # it, but a client with a shorter timeout never hears so.
    accept: bool = False


# Slack's Web API limits, per method per workspace, as calls per minute by tier; `chat.postMessage` is
# limited per channel instead: about one message a second, short bursts allowed (docs: rate limits).
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "users.info": 4, "users.list": 2, "conversations.open": 3, "conversations.history": 3,
    "conversations.replies": 3, "chat.update": 3, "chat.unfurl": 3, "chat.getPermalink": 4, "views.publish": 4,
    "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4,
}
POSTS_PER_SECOND_PER_CHANNEL = 1.0
POST_BURST = 3


class RateLimits:
    """Token buckets like Slack's limits: a method's tier per minute (a minute's worth may come at once),
    and one post a second per channel with a burst of POST_BURST. Over the limit, the seconds to wait
    (Slack's `Retry-After`). `speed` runs the limits' clock that many times faster than the wall clock,
    for benchmarks that simulate an hour in minutes; the `Retry-After` given is then in simulated seconds."""

    def __init__(self, *, speed: float = 1.0) -> None:
        self.speed = speed
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def now(self) -> float:
        return time.monotonic() * self.speed

    def wait_needed(self, method: str, params: dict[str, Any]) -> int:
        """0 when the call may go ahead (and is counted), else the whole seconds to wait first."""
        if method == "chat.postMessage":
            key, rate, capacity = f"post:{params.get('channel')}", POSTS_PER_SECOND_PER_CHANNEL, float(POST_BURST)
        elif method in METHOD_TIERS:
            per_minute = TIER_PER_MINUTE[METHOD_TIERS[method]]
            key, rate, capacity = method, per_minute / 60, float(per_minute)
        else:
            return 0
        with self._lock:
            current = self.now()
            tokens, since = self._buckets.get(key, (capacity, current))
            tokens = min(capacity, tokens + (current - since) * rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, current)
                return 0
            self._buckets[key] = (tokens, current)
            return max(1, math.ceil((1 - tokens) / rate))


class MockSlack(slackmock.MockSlack):
    def __init__(self) -> None:
        super().__init__()
        self.faults: dict[str, list[Fault]] = {}
        # Another answer for a method than the stand-in's own (an error, a shape it does not know).
        self.answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        # Set to enforce Slack's rate limits (429 with Retry-After), as the benchmarks do.
        self.limits: RateLimits | None = None
        self._arrivals: list[Callable[[str], None]] = []

    # ----- misbehaving -----------------------------------------------------------------------
    def fail(self, method: str, **fault: Any) -> None:
        """Make the next `times` calls of `method` misbehave (see Fault)."""
        with self._lock:
            self.faults.setdefault(method, []).append(Fault(**fault))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def on_arrival(self, watch: Callable[[str], None]) -> None:
        """Call `watch(method)` as each call arrives, before any fault delays or drops it."""
        self._arrivals.append(watch)

    def _next_fault(self, method: str) -> Fault | None:
        for watch in list(self._arrivals):
            watch(method)
        with self._lock:
            queue = self.faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def serve(self, request: Request) -> None:
        method, params = request.method, request.params
        if method == "response_url":
            # `fail("response_url", delay=...)` slows the sink down; it records the post after the delay.
            fault = self._next_fault(method)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            return super().serve(request)
        wait = self.limits.wait_needed(method, params) if self.limits is not None else 0
        if wait:
            self._record(Call(method, {**params, "_fault": "ratelimited"}))
            return request.reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
        fault = self._next_fault(method)
        if fault is None:
            return super().serve(request)
        if fault.accept:
            answer = self._answer(method, params)
            self._record(Call(method, {**params, "_fault": "answered_late"}, answer=answer))
            time.sleep(fault.delay)
            try:
                return request.reply(200, answer)
            except OSError:  # the client gave up waiting and closed the connection
                return None
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            self._record(Call(method, {**params, "_fault": "drop"}))
            request.handler.close_connection = True
            request.handler.connection.shutdown(2)
            return None
        if fault.retry_after is not None:
            self._record(Call(method, {**params, "_fault": "ratelimited"}))
            return request.reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)})
        if fault.status >= 500:
            self._record(Call(method, {**params, "_fault": f"http_{fault.status}"}))
            return request.reply(fault.status, {"ok": False, "error": "fatal_error"})
        if fault.error:
            self._record(Call(method, {**params, "_fault": fault.error}))
            return request.reply(200, {"ok": False, "error": fault.error})
        return super().serve(request)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in self.answers:
            return self.answers[method](params)
        return super()._answer(method, params)

    # ----- inspection ------------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.responses.clear()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda _c: True,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Wait until `count` calls of `method` match; handlers go on working after their ack."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                source = self.responses if method == "response_url" else self.calls
                found = [c for c in source if c.method == method and predicate(c)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(f"expected {count} {method} call(s), saw {len(found)}; methods seen: {seen}")
                self._changed.wait(remaining)
