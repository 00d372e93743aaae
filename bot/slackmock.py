"""A stand-in for Slack's Web API on loopback: records every call and answers like Slack does.

`epos try` runs the whole bot against it, and the tests extend it (tests/support/slack.py) to misbehave
and to wait for calls. It also sinks `response_url` posts and file uploads. Posts keep their
`metadata`, which `conversations.history` and `conversations.replies` give back when asked with
`include_all_metadata`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
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
class Message:
    channel: str
    ts: str
    params: dict[str, Any]
    thread_ts: str | None = None


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


class Request:
    """One call as it reached the stand-in (`response_url` for a post to a response URL), and the means to
    answer it."""

    def __init__(self, handler: BaseHTTPRequestHandler, method: str, params: dict[str, Any]) -> None:
        self.handler = handler
        self.method = method
        self.params = params

    def reply(self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body if body is not None else {"ok": True}).encode()
        self.handler.send_response(status)
        self.handler.send_header("Content-Type", "application/json; charset=utf-8")
        self.handler.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.handler.send_header(key, value)
        self.handler.end_headers()
        self.handler.wfile.write(payload)


class MockSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.upload_names: dict[str, str] = {}
        self.messages: dict[str, list[Message]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        # Link previews `chat.unfurl` attached: (channel, ts) or the composer's unfurl id -> url -> preview.
        self.unfurls: dict[tuple[str, str], dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        # Someone `add_user` never named: by default a full member of our workspace whose profile says
        # nothing (no name, no timezone), as the tests' many walk-on people are. False: Slack does not
        # know them (`user_not_found`).
        self.unnamed_users_are_members = True
        self.user_groups: dict[str, list[str]] = {}
        # Set to install the app in an Enterprise Grid org: auth.test then names the org.
        self.enterprise_id: str | None = None
        # The token's scopes, sent as Slack does in every Web API answer's X-OAuth-Scopes header.
        self.scopes: list[str] | None = None
        # Conversations shared with other organisations (Slack Connect): channel id -> team ids, and
        # the names `team.info` gives those teams.
        self.shared: dict[str, list[str]] = {}
        self.pending_shares: set[str] = set()
        self.teams: dict[str, str] = {TEAM_ID: "epos test"}
        self._lock = threading.Lock()
        # Notified at every recorded call, for whoever waits for one (the tests).
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

    # ----- the Web API -----------------------------------------------------------------------
    def _record(self, call: Call, *, response: bool = False) -> None:
        with self._changed:
            (self.responses if response else self.calls).append(call)
            self._changed.notify_all()

    def _new_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ids):06d}"

    def serve(self, request: Request) -> None:
        """Answer one call as Slack would, and record it; the tests' stand-in misbehaves here when told to."""
        if request.method == "response_url":
            self._record(Call("response_url", request.params), response=True)
            return request.reply(200)
        answer = self._answer(request.method, request.params)
        self._record(Call(request.method, request.params, answer=answer))
        scopes = {"X-OAuth-Scopes": ",".join(self.scopes)} if self.scopes is not None else None
        return request.reply(200, answer, scopes)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        for family in (self._people, self._messages, self._views, self._conversations, self._files):
            answer = family(method, params)
            if answer is not None:
                return answer
        return {"ok": True}

    def _people(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Who the App, its users, user groups and teams are."""
        if method == "auth.test":
            identity = {"ok": True, "url": "https://epos-test.slack.com/", "team": "epos test", "user": "epos",
                        "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID}
            return {**identity, "enterprise_id": self.enterprise_id} if self.enterprise_id else identity
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
        if method == "team.info":
            team_id = str(params.get("team") or TEAM_ID)
            name = self.teams.get(team_id)
            if name is None:
                return {"ok": False, "error": "team_not_found"}
            return {"ok": True, "team": {"id": team_id, "name": name, "domain": name.lower().replace(" ", "-")}}
        return None

    def _messages(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Posting, updating and linking messages."""
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
        if method == "chat.unfurl":
            return self._unfurl(params)
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"https://epos-test.slack.com/archives/{params.get('channel')}/p{params.get('message_ts')}"}
        return None

    def _unfurl(self, params: dict[str, Any]) -> dict[str, Any]:
        """Slack's checks of a `chat.unfurl`: a message (channel and ts) or a composer link (unfurl_id and
        source), and `unfurls` as a JSON object of url -> preview with blocks or attachments."""
        if params.get("channel") and params.get("ts"):
            where = (str(params["channel"]), str(params["ts"]))
        elif params.get("unfurl_id") and params.get("source"):
            where = (str(params["source"]), str(params["unfurl_id"]))
        else:
            return {"ok": False, "error": "invalid_arguments"}
        unfurls = params.get("unfurls")
        if isinstance(unfurls, str):
            try:
                unfurls = json.loads(unfurls)
            except ValueError:
                return {"ok": False, "error": "invalid_unfurls"}
        if not isinstance(unfurls, dict) or not unfurls or not all(
                isinstance(u, dict) and (u.get("blocks") or u.get("attachments") or u.get("text"))
                for u in unfurls.values()):
            return {"ok": False, "error": "invalid_unfurls"}
        with self._lock:
            self.unfurls.setdefault(where, {}).update(unfurls)
        return {"ok": True}

    def _views(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Modals and the App Home."""
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
        return None

    def _conversations(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Channels and DMs, and what was said in them."""
        if method == "conversations.info":
            channel = str(params.get("channel", ""))
            if not channel or channel[:1] not in ("C", "G", "D"):
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": self._conversation(channel)}
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
        return None

    def _files(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The two steps of an upload; a file shared into a channel arrives as a message."""
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
        return None

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

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                if path.startswith("/upload/"):
                    mock.uploads[path.rsplit("/", 1)[1]] = raw
                    mock._record(Call("file.upload", {"file_id": path.rsplit("/", 1)[1], "size": len(raw)}))
                    return Request(self, "file.upload", {}).reply(200)
                if path.startswith("/response/"):
                    params = _decode_params(raw, self.headers.get("Content-Type", "application/json"))
                    params["_name"] = path.rsplit("/", 1)[1]
                    return mock.serve(Request(self, "response_url", params))
                if not path.startswith("/api/"):
                    return Request(self, "", {}).reply(404, {"ok": False, "error": "unknown_path"})
                method = path.removeprefix("/api/")
                return mock.serve(Request(self, method, _decode_params(raw, self.headers.get("Content-Type", ""))))

        return Handler
