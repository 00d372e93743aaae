"""What each person would see in Slack, rebuilt from the Web API calls the App makes to the mock.

Messages (channel posts, DMs, group DMs, ephemeral messages, `response_url` answers), their updates
and deletions, modals opened or updated for a person, App Home tabs and uploaded files become
`Post`s, view stacks and homes here; `sync` turns newly recorded calls into `Event`s the terminal
shows.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.slackmock import Call

NEW, UPDATED, DELETED, MODAL, HOME = "new", "updated", "deleted", "modal", "home"
CHANNEL, DM, GROUP, EPHEMERAL = "channel", "dm", "group", "ephemeral"
IGNORED_FAULT = "_fault"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class SavedFile:
    title: str
    path: Path


@dataclass
class Post:
    number: int
    kind: str
    channel_id: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    at: datetime
    # Who may see it: None for everyone in the channel, else these user ids.
    audience: frozenset[str] | None
    thread_ts: str | None = None
    files: list[SavedFile] = field(default_factory=list)
    deleted: bool = False
    edited: bool = False
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # A person's own message (typed with `:say`): who wrote it. None: epos posted it.
    author: str | None = None

    def visible_to(self, user_id: str) -> bool:
        return self.audience is None or user_id in self.audience

    @property
    def ephemeral(self) -> bool:
        return self.kind == EPHEMERAL

    def as_message(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks, "attachments": self.attachments}


@dataclass
class OpenView:
    """A modal in someone's view stack."""

    view: dict[str, Any]
    owner: str


@dataclass
class ResponseTarget:
    """Where a `response_url` answer lands: who acted, in which channel, on which message (if any)."""

    user_id: str
    channel_id: str
    post: Post | None = None


@dataclass
class Event:
    kind: str
    post: Post | None = None
    user_id: str | None = None
    view: dict[str, Any] | None = None


class Workspace:
    def __init__(self, files_dir: Path, now: Callable[[], datetime],
                 uploads: Callable[[str], tuple[str, bytes] | None]) -> None:
        self.files_dir = files_dir
        self.now = now
        # file id → (file name, bytes) as the mock received the upload
        self.uploads = uploads
        self.posts: list[Post] = []
        self._by_ts: dict[tuple[str, str], Post] = {}
        self._numbers = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._view_ids = itertools.count(1)
        # Direct-message channel ids → the user(s) in them.
        self.conversations: dict[str, frozenset[str]] = {}
        self.responses: dict[str, ResponseTarget] = {}
        self.triggers: dict[str, str] = {}
        self.modals: dict[str, list[OpenView]] = {}
        self.homes: dict[str, dict[str, Any]] = {}
        self._call_cursor = 0
        self._response_cursor = 0

    # ----- bookkeeping the terminal tells us about -------------------------------------------------
    def expect_trigger(self, trigger_id: str, user_id: str) -> None:
        self.triggers[trigger_id] = user_id

    def expect_response(self, name: str, target: ResponseTarget) -> None:
        self.responses[name] = target

    def remember_dm(self, channel_id: str, user_id: str) -> None:
        self.conversations[channel_id] = frozenset({user_id})

    def post(self, number: int) -> Post | None:
        return self.posts[number - 1] if 1 <= number <= len(self.posts) else None

    def parent_of(self, post: Post) -> Post | None:
        if not post.thread_ts or post.thread_ts == post.ts:
            return None
        return self._by_ts.get((post.channel_id, post.thread_ts))

    def replies_to(self, post: Post) -> list[Post]:
        return [p for p in self.posts if p.thread_ts == post.ts and p.channel_id == post.channel_id and p is not post]

    def top_modal(self, user_id: str) -> OpenView | None:
        stack = self.modals.get(user_id) or []
        return stack[-1] if stack else None

    def new_view_id(self) -> str:
        return f"VTRY{next(self._view_ids):06d}"

    # ----- posts -----------------------------------------------------------------------------------
    def add_post(self, *, kind: str, channel_id: str, ts: str, params: dict[str, Any],
                 audience: frozenset[str] | None) -> Post:
        post = Post(
            number=next(self._numbers),
            kind=kind,
            channel_id=channel_id,
            ts=ts,
            text=str(params.get("text") or ""),
            blocks=_as_list(params.get("blocks")),
            at=self.now(),
            audience=audience,
            thread_ts=params.get("thread_ts") or None,
            attachments=_as_list(params.get("attachments")),
        )
        self.posts.append(post)
        self._by_ts[(channel_id, ts)] = post
        return post

    def add_message(self, author: str, channel_id: str, text: str) -> Post:
        """A person's own message, posted where they are typing."""
        kind, audience = self._audience(channel_id)
        post = self.add_post(kind=kind, channel_id=channel_id, ts=self._fake_ts(), params={"text": text},
                             audience=audience)
        post.author = author
        return post

    def _audience(self, channel_id: str) -> tuple[str, frozenset[str] | None]:
        if channel_id in self.conversations:
            members = self.conversations[channel_id]
            return (DM if len(members) == 1 else GROUP), members
        if channel_id.startswith(("U", "W")):
            return DM, frozenset({channel_id})
        return CHANNEL, None

    def _fake_ts(self) -> str:
        return f"{self.now().timestamp():.6f}"

    # ----- turning recorded calls into events ------------------------------------------------------
    def sync(self, calls: list[Call], responses: list[Call]) -> list[Event]:
        """Events for the calls recorded since the last sync, in the order they were made."""
        fresh_calls = calls[self._call_cursor :]
        fresh_responses = responses[self._response_cursor :]
        self._call_cursor += len(fresh_calls)
        self._response_cursor += len(fresh_responses)
        ordered = sorted(
            [(c.at, 0, c) for c in fresh_calls] + [(r.at, 1, r) for r in fresh_responses], key=lambda item: item[:2]
        )
        events: list[Event] = []
        for _at, _source, call in ordered:
            if IGNORED_FAULT in call.params:
                continue
            events.extend(self._apply(call))
        return events

    def _apply(self, call: Call) -> list[Event]:
        method, params, answer = call.method, call.params, call.answer or {}
        if method == "response_url":
            return self._response(params)
        if answer.get("ok") is False:
            return []
        if method == "conversations.open":
            users = frozenset(u for u in str(params.get("users", "")).split(",") if u)
            channel_id = str((answer.get("channel") or {}).get("id", ""))
            if channel_id and users:
                self.conversations[channel_id] = users
            return []
        if method == "chat.postMessage":
            channel_id = str(answer.get("channel") or params.get("channel", ""))
            kind, audience = self._audience(channel_id)
            post = self.add_post(kind=kind, channel_id=channel_id, ts=str(answer.get("ts", "")), params=params,
                                 audience=audience)
            return [Event(NEW, post=post)]
        if method == "chat.postEphemeral":
            user_id = str(params.get("user", ""))
            post = self.add_post(kind=EPHEMERAL, channel_id=str(params.get("channel", "")),
                                 ts=str(answer.get("message_ts", "")), params=params, audience=frozenset({user_id}))
            return [Event(NEW, post=post)]
        if method == "chat.update":
            post = self._by_ts.get((str(params.get("channel", "")), str(params.get("ts", ""))))
            if post is None:
                return []
            self._replace(post, params)
            return [Event(UPDATED, post=post)]
        if method == "chat.delete":
            post = self._by_ts.get((str(params.get("channel", "")), str(params.get("ts", ""))))
            if post is None:
                return []
            post.deleted = True
            return [Event(DELETED, post=post)]
        if method == "chat.unfurl":
            post = self._by_ts.get((str(params.get("channel", "")), str(params.get("ts", ""))))
            if post is None:
                return []
            # Slack shows each preview under the message, as an attachment of it.
            post.attachments = post.attachments + [dict(u) for u in (params.get("unfurls") or {}).values()]
            return [Event(UPDATED, post=post)]
        if method in ("views.open", "views.push", "views.update"):
            return self._view(method, params, answer)
        if method == "views.publish":
            user_id = str(params.get("user_id", ""))
            self.homes[user_id] = dict(answer.get("view") or params.get("view") or {})
            return [Event(HOME, user_id=user_id)]
        if method == "files.completeUploadExternal":
            return self._files(params)
        return []

    def _replace(self, post: Post, params: dict[str, Any], *, whole: bool = False) -> None:
        """`chat.update` keeps blocks and attachments it is not given; a `response_url` answer with
        `replace_original` is a whole new message."""
        if whole or "text" in params:
            post.text = str(params.get("text") or "")
        if whole or "blocks" in params:
            post.blocks = _as_list(params.get("blocks"))
        if whole or "attachments" in params:
            post.attachments = _as_list(params.get("attachments"))
        post.edited = True

    def _response(self, params: dict[str, Any]) -> list[Event]:
        target = self.responses.get(str(params.get("_name", "")))
        if target is None:
            return []
        original = target.post
        if params.get("delete_original") in (True, "true") and original is not None:
            original.deleted = True
            return [Event(DELETED, post=original)]
        if params.get("replace_original") in (True, "true") and original is not None:
            self._replace(original, params, whole=True)
            if params.get("response_type") == "in_channel" and original.ephemeral:
                original.kind, original.audience = CHANNEL, None
            return [Event(UPDATED, post=original)]
        if params.get("response_type") == "in_channel":
            kind, audience = self._audience(target.channel_id)
        else:
            kind, audience = EPHEMERAL, frozenset({target.user_id})
        post = self.add_post(kind=kind, channel_id=target.channel_id, ts=self._fake_ts(), params=params,
                             audience=audience)
        return [Event(NEW, post=post)]

    def _view(self, method: str, params: dict[str, Any], answer: dict[str, Any]) -> list[Event]:
        view = dict(answer.get("view") or params.get("view") or {})
        if method == "views.update":
            view_id = str(params.get("view_id") or "")
            external_id = str(params.get("external_id") or "")
            for user_id, home in self.homes.items():
                if view_id and home.get("id") == view_id:
                    self.homes[user_id] = {**view, "id": view_id}
                    return [Event(HOME, user_id=user_id)]
            for user_id, stack in self.modals.items():
                for open_view in stack:
                    if (view_id and open_view.view.get("id") == view_id) or (
                        external_id and open_view.view.get("external_id") == external_id
                    ):
                        open_view.view = {**view, "id": open_view.view.get("id")}
                        return [Event(MODAL, user_id=user_id, view=open_view.view)]
            return []
        user_id = self.triggers.get(str(params.get("trigger_id", "")))
        if user_id is None:
            return []
        stack = self.modals.setdefault(user_id, [])
        if method == "views.open":
            stack.clear()
        stack.append(OpenView(view=view, owner=user_id))
        return [Event(MODAL, user_id=user_id, view=view)]

    def _files(self, params: dict[str, Any]) -> list[Event]:
        channel_id = str(params.get("channel_id") or params.get("channels") or "")
        saved: list[SavedFile] = []
        for item in _as_list(params.get("files")):
            file_id = str(item.get("id", ""))
            saved.append(SavedFile(title=str(item.get("title") or file_id), path=self._save_upload(file_id)))
        if not channel_id:
            return []
        kind, audience = self._audience(channel_id)
        post = self.add_post(kind=kind, channel_id=channel_id, ts=self._fake_ts(),
                             params={"text": params.get("initial_comment") or "", "thread_ts": params.get("thread_ts")},
                             audience=audience)
        post.files = saved
        return [Event(NEW, post=post)]

    def _save_upload(self, file_id: str) -> Path:
        found = self.uploads(file_id)
        name, content = found if found is not None else (file_id, b"")
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{next(self._file_numbers):03d}-{_SAFE_NAME.sub('_', name) or file_id}"
        path.write_bytes(content)
        return path


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []
