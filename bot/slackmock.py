"""A stand-in for Slack's Web API on loopback: records every call and answers like Slack does.

The tests point the App's WebClient at it, and `epos try` runs the whole bot against it. It also
sinks `response_url` posts and file uploads, and can be told to misbehave (429, 5xx, ok:false,
slowness, dropped connections, a call carried out but answered too late) for a number of calls. Posts
keep their `metadata`, which `conversations.history` and `conversations.replies` give back when asked
with `include_all_metadata`.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TEAM_ID = "T0EPOS001"
BOT_USER_ID = "U0EPOSBOT"
BOT_ID = "B0EPOSBOT"
APP_ID = "A0EPOS001"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    # What the mock answered (ts of a post, id of an opened view, ...), for `epos try` to follow up on.
    answer: dict[str, Any] | None = None


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


@dataclass
class Message:
    channel: str
    ts: str
    params: dict[str, Any]
    thread_ts: str | None = None


# Slack's Web API limits, per method per workspace, as calls per minute by tier; `chat.postMessage` is
# limited per channel instead: about one message a second, short bursts allowed (docs: rate limits).
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "users.info": 4, "users.list": 2, "conversations.open": 3, "conversations.history": 3,
    "conversations.replies": 3, "chat.update": 3, "chat.getPermalink": 4, "views.publish": 4,
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


def _decode_params(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "application/json" in content_type:
        return json.loads(raw)
    params: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for key in ("blocks", "view", "attachments", "files", "metadata"):
        if isinstance(params.get(key), str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                pass
    return params


class MockSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.upload_names: dict[str, str] = {}
        self.messages: dict[str, list[Message]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        # Someone `add_user` never named: by default a full member of our workspace whose profile says
        # nothing (no name, no timezone), as the tests' many walk-on people are. False: Slack does not
        # know them (`user_not_found`).
        self.unnamed_users_are_members = True
        self.user_groups: dict[str, list[str]] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        # Set to install the app in an Enterprise Grid org: auth.test then names the org.
        self.enterprise_id: str | None = None
        # The token's scopes, sent as Slack does in every Web API answer's X-OAuth-Scopes header.
        self.scopes: list[str] | None = None
        # Conversations shared with other organisations (Slack Connect): channel id -> team ids, and
        # the names `team.info` gives those teams.
        self.shared: dict[str, list[str]] = {}
        self.pending_shares: set[str] = set()
        self.teams: dict[str, str] = {TEAM_ID: "epos test"}
        # Set to enforce Slack's rate limits (429 with Retry-After), as the benchmarks do.
        self.limits: RateLimits | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        # The DM channel ids conversations.open handed out, to the user each stands for: a post to a user
        # id is stored under that id, and read back through the DM's id.
        self._dm_users: dict[str, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._make_handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="mock-slack", daemon=True)

    # ----- lifecycle -------------------------------------------------------------------------
    def start(self) -> MockSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> MockSlack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    def response_url(self, name: str = "default") -> str:
        return f"{self.base_url}response/{name}"

    # ----- configuration ---------------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        *,
        name: str = "",
        tz: str = "UTC",
        team_id: str = TEAM_ID,
        enterprise_id: str | None = None,
        restricted: bool = False,
        ultra_restricted: bool = False,
        deleted: bool = False,
        bot: bool = False,
    ) -> None:
        """A user as `users.info` shows them: by default a full member of our workspace. A guest is
        `restricted` (multi-channel) or `ultra_restricted` (single-channel); a Slack Connect user from
        another organisation has another `team_id`."""
        user: dict[str, Any] = {
            "id": user_id, "team_id": team_id, "name": name or user_id.lower(), "real_name": name or user_id,
            "tz": tz, "deleted": deleted, "is_bot": bot, "is_app_user": False,
            "is_restricted": restricted or ultra_restricted, "is_ultra_restricted": ultra_restricted,
        }
        if enterprise_id:
            user["enterprise_user"] = {"enterprise_id": enterprise_id, "id": user_id, "teams": [team_id]}
        self.users[user_id] = user

    def add_user_group(self, group_id: str, members: list[str]) -> None:
        self.user_groups[group_id] = list(members)

    def share_channel(self, channel: str, organisation: str, *, team_id: str = "", pending: bool = False) -> str:
        """Share `channel` with another organisation named `organisation` (Slack Connect); returns its
        team id. `pending` leaves the invitation unaccepted (`is_pending_ext_shared`)."""
        with self._lock:
            team_id = team_id or next((t for t, n in self.teams.items() if n == organisation),
                                      f"T0EXT{len(self.teams):04d}")
            self.teams[team_id] = organisation
            if pending:
                self.pending_shares.add(channel)
            else:
                self.shared.setdefault(channel, [])
                if team_id not in self.shared[channel]:
                    self.shared[channel].append(team_id)
        return team_id

    def unshare_channel(self, channel: str) -> None:
        with self._lock:
            self.shared.pop(channel, None)
            self.pending_shares.discard(channel)

    def _conversation(self, channel: str) -> dict[str, Any]:
        """A conversation as `conversations.info` describes it, with the Slack Connect fields."""
        with self._lock:
            others = list(self.shared.get(channel, []))
            pending = channel in self.pending_shares
        is_im = channel.startswith("D")
        info: dict[str, Any] = {
            "id": channel, "name": channel.lower(), "is_channel": channel.startswith("C"),
            "is_group": False, "is_im": is_im, "is_mpim": False, "is_private": channel.startswith("G"),
            "is_shared": bool(others), "is_ext_shared": bool(others), "is_org_shared": False,
            "is_pending_ext_shared": pending, "context_team_id": TEAM_ID,
        }
        if others:
            info["shared_team_ids"] = [TEAM_ID, *others]
            info["connected_team_ids"] = [TEAM_ID, *others]
            info["internal_team_ids"] = []
        return info

    def fail(self, method: str, **fault: Any) -> None:
        """Make the next `times` calls of `method` misbehave (see Fault)."""
        with self._lock:
            self.faults.setdefault(method, []).append(Fault(**fault))

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.responses.clear()

    # ----- inspection ------------------------------------------------------------------------
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

    # ----- the Web API -----------------------------------------------------------------------
    def _record(self, call: Call, *, response: bool = False) -> None:
        with self._changed:
            (self.responses if response else self.calls).append(call)
            self._changed.notify_all()

    def _next_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _new_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ids):06d}"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in self.handlers:
            return self.handlers[method](params)
        if method == "auth.test":
            identity = {"ok": True, "url": "https://epos-test.slack.com/", "team": "epos test", "user": "epos",
                        "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID}
            return {**identity, "enterprise_id": self.enterprise_id} if self.enterprise_id else identity
        if method in ("chat.postMessage", "chat.postEphemeral"):
            channel = str(params.get("channel", ""))
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            ts = self._new_ts()
            if method == "chat.postMessage":
                with self._lock:
                    self.messages.setdefault(channel, []).append(
                        Message(channel, ts, params, params.get("thread_ts"))
                    )
                return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": params.get("text", "")}}
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
            with self._lock:
                for message in self.messages.get(channel, []):
                    if message.ts == ts:
                        message.params = {**message.params, **params}
                        return {"ok": True, "channel": channel, "ts": ts}
            return {"ok": False, "error": "message_not_found"}
        if method in ("views.open", "views.push", "views.update"):
            view = dict(params.get("view") or {})
            view_id = str(params.get("view_id") or f"V{next(self._ids):08d}")
            view.update({"id": view_id, "hash": f"h{next(self._ids)}"})
            with self._lock:
                self.views[view_id] = view
            return {"ok": True, "view": view}
        if method == "views.publish":
            view = dict(params.get("view") or {})
            with self._lock:
                self.home_views[str(params.get("user_id"))] = view
            return {"ok": True, "view": {**view, "id": f"VH{next(self._ids)}"}}
        if method == "users.info":
            user_id = str(params.get("user"))
            user = self.users.get(user_id)
            if user is None and self.unnamed_users_are_members and user_id.startswith(("U", "W")):
                user = {"id": user_id, "team_id": TEAM_ID}
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method == "usergroups.users.list":
            group = self.user_groups.get(str(params.get("usergroup")))
            if group is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": group}
        if method == "conversations.info":
            channel = str(params.get("channel", ""))
            if not channel or channel[:1] not in ("C", "G", "D"):
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": self._conversation(channel)}
        if method == "team.info":
            team_id = str(params.get("team") or TEAM_ID)
            name = self.teams.get(team_id)
            if name is None:
                return {"ok": False, "error": "team_not_found"}
            return {"ok": True, "team": {"id": team_id, "name": name, "domain": name.lower().replace(" ", "-")}}
        if method == "conversations.open":
            users = sorted(str(params.get("users", "")).split(","))
            prefix = "D" if len(users) == 1 else "G"
            dm = prefix + "".join(u[-4:] for u in users).upper()
            if len(users) == 1:
                with self._lock:
                    self._dm_users[dm] = users[0]
            return {"ok": True, "channel": {"id": dm}}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, params)
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"https://epos-test.slack.com/archives/{params.get('channel')}/p{params.get('message_ts')}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):08d}"
            self.upload_names[file_id] = str(params.get("filename") or file_id)
            return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = [{"id": f.get("id"), "title": f.get("title", ""), "name": self.upload_names.get(str(f.get("id")), "")}
                     for f in params.get("files") or []]
            channel = str(params.get("channel_id") or "")
            if channel:  # shared into a channel (or a thread): Slack posts a message carrying the files
                with self._lock:
                    self.messages.setdefault(channel, []).append(Message(
                        channel, self._new_ts(), {"text": params.get("initial_comment") or "", "files": files},
                        params.get("thread_ts")))
            return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in files]}
        return {"ok": True}

    def _history(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first for history (top-level messages only), oldest first for a thread's replies."""
        channel = str(params.get("channel", ""))
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._lock:
            stored = list(self.messages.get(channel, [])) + list(self.messages.get(self._dm_users.get(channel, ""), []))
        if method == "conversations.replies":
            parent = str(params.get("ts", ""))
            chosen = [m for m in stored if m.ts == parent or m.thread_ts == parent]
        else:
            chosen = [m for m in stored if not m.thread_ts or m.thread_ts == m.ts][::-1]
        chosen = [m for m in chosen if float(m.ts) > oldest]

        def shown(message: Message) -> dict[str, Any]:
            item: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.params.get("text", ""),
                                    "bot_id": BOT_ID}
            if message.thread_ts:
                item["thread_ts"] = message.thread_ts
            if message.params.get("files"):
                item["files"] = message.params["files"]
            if with_metadata and message.params.get("metadata"):
                item["metadata"] = message.params["metadata"]
            return item

        return {"ok": True, "messages": [shown(m) for m in chosen[:limit]], "has_more": len(chosen) > limit,
                "response_metadata": {"next_cursor": ""}}

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:  # keep test output clean
                pass

            def _reply(self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(body if body is not None else {"ok": True}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                if path.startswith("/upload/"):
                    mock.uploads[path.rsplit("/", 1)[1]] = raw
                    mock._record(Call("file.upload", {"file_id": path.rsplit("/", 1)[1], "size": len(raw)}))
                    return self._reply(200)
                if path.startswith("/response/"):
                    # `fail("response_url", delay=...)` slows the sink down; it records the post after the delay.
                    fault = mock._next_fault("response_url")
                    if fault is not None and fault.delay:
                        time.sleep(fault.delay)
                    params = _decode_params(raw, self.headers.get("Content-Type", "application/json"))
                    params["_name"] = path.rsplit("/", 1)[1]
                    mock._record(Call("response_url", params), response=True)
                    return self._reply(200)
                if not path.startswith("/api/"):
                    return self._reply(404, {"ok": False, "error": "unknown_path"})
                method = path.removeprefix("/api/")
                params = _decode_params(raw, self.headers.get("Content-Type", ""))
                wait = mock.limits.wait_needed(method, params) if mock.limits is not None else 0
                if wait:
                    mock._record(Call(method, {**params, "_fault": "ratelimited"}))
                    return self._reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
                fault = mock._next_fault(method)
                if fault is not None and fault.accept:
                    answer = mock._answer(method, params)
                    mock._record(Call(method, {**params, "_fault": "answered_late"}, answer=answer))
                    time.sleep(fault.delay)
                    try:
                        return self._reply(200, answer)
                    except OSError:  # the client gave up waiting and closed the connection
                        return None
                if fault is not None:
                    if fault.delay:
                        time.sleep(fault.delay)
                    if fault.drop:
                        mock._record(Call(method, {**params, "_fault": "drop"}))
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return None
                    if fault.retry_after is not None:
                        mock._record(Call(method, {**params, "_fault": "ratelimited"}))
                        return self._reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)})
                    if fault.status >= 500:
                        mock._record(Call(method, {**params, "_fault": f"http_{fault.status}"}))
                        return self._reply(fault.status, {"ok": False, "error": "fatal_error"})
                    if fault.error:
                        mock._record(Call(method, {**params, "_fault": fault.error}))
                        return self._reply(200, {"ok": False, "error": fault.error})
                answer = mock._answer(method, params)
                mock._record(Call(method, params, answer=answer))
                scopes = {"X-OAuth-Scopes": ",".join(mock.scopes)} if mock.scopes is not None else None
                return self._reply(200, answer, scopes)

        return Handler
