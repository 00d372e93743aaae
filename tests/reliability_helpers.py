"""Shared by the reliability tests: the App run synchronously in-process, hostile text, checks on
everything epos sent to Slack (Block Kit limits, no mention taken from user text), and a database
that hangs behind a loopback proxy."""

from __future__ import annotations

import json
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.app import make_client
from bot.blocks.text import MESSAGE_BLOCKS, VIEW_BLOCKS
from bot.config import Settings
from handlers import register_all
from tests.support.slack import APP_ID, TEAM_ID, Call, MockSlack

# ----- hostile input ---------------------------------------------------------------------------------
# Mentions that must never take effect when a person types them: no stored user or channel has these ids.
PINGS = ("<!channel>", "<!here>", "<!everyone>", "<@U0FUZZ001>", "<@W0FUZZ002|boss>", "<#C0FUZZ001>",
         "<!subteam^S0FUZZ001>", "<!date^1700000000^{date}|x>")
MRKDWN = ("*bold*", "_it_", "~gone~", "`code`", "```\nblock\n```", "> quote", "&amp;", "&lt;b&gt;", "<https://x.example|click me>",
          ":tada:", "|", "\n", "\t", "  ", "<", ">", "&")
SQL = ("'; DROP TABLE engagements; --", '" OR 1=1 --', "%", "_%_", "\\", "NULL", "null", "0x00", "'", "\"",
       "${jndi:ldap://x}", "{{7*7}}", "../../etc/passwd", "<script>alert(1)</script>", "\x00", "a\x00b", "\u202e",
       "\ufeff", "\r\n")
WORDS = ("northbeam", "Northbeam Logistics", "acme", "poc", "tech qa", "close", "won", "lost", "no decision", "list",
         "all", "mine", "stats", "--weeks", "-w", "12", "0", "-1", "999999999999999999999", "²", "١٢", "help", "new",
         "add", "drafts", "roster", "demo", "observability", "ebook", "webinar", "security", "undo", "America",
         "Europe", "Europe/Berlin", "UTC", "09:00", "2026-02-30")
NASTY = PINGS + MRKDWN + SQL + WORDS
# Mentions in those that must be shown as text, never acted on; a stored user's own <@U…> is fine.
FORBIDDEN = ("<!channel>", "<!here>", "<!everyone>", "<@U0FUZZ001>", "<@W0FUZZ002", "<#C0FUZZ001>", "<!subteam^",
             "<!date^1700000000^")

# Text as a person might type it into a command or a form: anything, with the hostile pieces mixed in.
phrases = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=12)), max_size=8).map(" ".join)
hostile_text = st.one_of(
    phrases,
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.builds(lambda piece, n: piece * n, st.sampled_from(NASTY + ("x", "é", "🙂")), st.integers(1, 4000)),
)


# ----- the App, synchronously -------------------------------------------------------------------------
class ErrorLog(logging.Handler):
    """Collects ERROR records: an unexpected exception in a listener is logged at ERROR with its traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # slack_sdk logs every failed try of a call at ERROR on its own; epos logs what it does about it. A
        # background call left over from an earlier test, to a mock Slack that test stopped, says nothing
        # about this one.
        if record.name.startswith("slack_sdk.") and "Failed to send a request" in record.getMessage():
            return
        self.records.append(record)

    def describe(self) -> str:
        return "\n".join(f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}"
                         for r in self.records)


@contextmanager
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def sync_app(settings: Settings) -> App:
    """The App with every listener, run to completion inside `dispatch` so a test knows when the work is done.

    Only the ack's timing differs from production (which answers Slack before the work is done); what
    listeners do, send and write is the same."""
    app = App(client=make_client(settings), signing_secret=None, request_verification_enabled=False,
              process_before_response=True)
    register_all(app, settings)
    return app


@dataclass
class Outcome:
    response: BoltResponse
    calls: list[Call] = field(default_factory=list)
    replies: list[Call] = field(default_factory=list)

    @property
    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.response.body or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


def dispatch(app: App, slack: MockSlack, raw: str, content_type: str) -> Outcome:
    calls_before, replies_before = len(slack.calls), len(slack.responses)
    response = app.dispatch(BoltRequest(body=raw, headers={"content-type": [content_type]}))
    with slack._lock:
        outcome = Outcome(response, list(slack.calls[calls_before:]), list(slack.responses[replies_before:]))
    if outcome.body.get("text"):
        # A message carried by the ack reaches the person like one sent to the response_url.
        outcome.replies.insert(0, Call("ack", outcome.body))
    return outcome


def command(app: App, slack: MockSlack, name: str, text: str, *, user_id: str, channel_id: str = "C0DEALS01") -> Outcome:
    fields = {
        "token": "legacy-unused", "team_id": TEAM_ID, "team_domain": "epos-test", "channel_id": channel_id,
        "channel_name": "deals", "user_id": user_id, "user_name": user_id.lower(), "command": name, "text": text,
        "api_app_id": APP_ID, "response_url": f"{slack.base_url}response/fuzz",
        "trigger_id": f"{uuid.uuid4().hex}.trigger",
    }
    return dispatch(app, slack, urlencode(fields), "application/x-www-form-urlencoded")


def _payload(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def action(app: App, slack: MockSlack, action_id: str, value: str, *, user_id: str, channel_id: str = "C0DEALS01",
           message: dict[str, Any] | None = None) -> Outcome:
    payload = {
        "type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": user_id, "team_id": TEAM_ID},
        "api_app_id": APP_ID, "trigger_id": f"{uuid.uuid4().hex}.trigger",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                     "action_ts": f"{uuid.uuid4().int % 10**9}.{uuid.uuid4().int % 10**6:06d}"}],
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel_id},
        "channel": {"id": channel_id}, "message": message or {"type": "message", "ts": "1700000000.000001", "text": ""},
        "response_url": f"{slack.base_url}response/fuzz",
    }
    return dispatch(app, slack, _payload(payload), "application/x-www-form-urlencoded")


def submit(app: App, slack: MockSlack, view: dict[str, Any], values: dict[str, Any], *, user_id: str) -> Outcome:
    """Submit `view` (as epos opened it) with `values`; a fresh view id each time, as each opening has."""
    submitted = {
        "id": f"V{uuid.uuid4().hex[:10].upper()}", "hash": "h1", "type": "modal",
        "callback_id": view["callback_id"], "private_metadata": view.get("private_metadata", ""),
        "blocks": view.get("blocks", []), "state": {"values": values},
        "title": view.get("title", {"type": "plain_text", "text": "epos"}),
    }
    payload = {"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": user_id, "team_id": TEAM_ID},
               "api_app_id": APP_ID, "trigger_id": f"{uuid.uuid4().hex}.trigger", "view": submitted}
    return dispatch(app, slack, _payload(payload), "application/x-www-form-urlencoded")


# ----- checking what was sent ------------------------------------------------------------------------
def mrkdwn_texts(node: Any) -> Iterator[str]:
    """Every mrkdwn text in some blocks (plain_text never turns <!channel> into a ping)."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def unescaped_pings(text: str) -> list[str]:
    return [ping for ping in FORBIDDEN if ping in text]


def check_message(params: dict[str, Any], where: str) -> None:
    """A message (post, update, ephemeral or response_url answer) Slack would accept and that pings no one."""
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    assert len(blocks) <= MESSAGE_BLOCKS, f"{where}: {len(blocks)} blocks"
    for block in Block.parse_all(blocks):
        block.validate_json()
    fallback = str(params.get("text") or "")
    assert len(fallback) <= 40_000, f"{where}: fallback text of {len(fallback)} characters"
    for text in [fallback, *mrkdwn_texts(blocks)]:
        assert not unescaped_pings(text), f"{where}: {unescaped_pings(text)} in {text[:300]!r}"


def check_view(view: dict[str, Any], where: str) -> None:
    blocks = view.get("blocks") or []
    assert len(blocks) <= VIEW_BLOCKS, f"{where}: {len(blocks)} blocks"
    View(**view).validate_json()
    for block in Block.parse_all(blocks):
        block.validate_json()
    assert len(view.get("private_metadata") or "") <= 3000
    for text in mrkdwn_texts(blocks):
        assert not unescaped_pings(text), f"{where}: {unescaped_pings(text)} in {text[:300]!r}"


MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update"}
VIEW_METHODS = {"views.open", "views.push", "views.update", "views.publish"}


def check_sent(outcome: Outcome) -> None:
    for call in outcome.calls:
        if call.method in MESSAGE_METHODS:
            check_message(call.params, call.method)
        elif call.method in VIEW_METHODS:
            check_view(call.params["view"], call.method)
    for reply in outcome.replies:
        check_message(reply.params, "response_url")


def sent_texts(outcome: Outcome) -> str:
    """Everything a person would read in what was sent, for asserting on words."""
    pieces: list[str] = []
    for call in [*outcome.calls, *outcome.replies]:
        pieces.append(str(call.params.get("text") or ""))
        pieces.extend(mrkdwn_texts(call.params.get("blocks") or []))
        pieces.extend(mrkdwn_texts((call.params.get("view") or {}).get("blocks") or []))
    return "\n".join(pieces)


# ----- a database that hangs ---------------------------------------------------------------------------
class HangingProxy:
    """A loopback TCP proxy in front of a server that can forward, hold and heal.

    Holding accepts connections and reads every byte (so TCP on both sides sees them acknowledged, as
    with a frozen host or a stalled network), but passes nothing on until `heal()`, which delivers what
    was held, in order, then flows again. A side that closed while held is closed after its bytes."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = self._listener.getsockname()[1]

    def start(self) -> HangingProxy:
        threading.Thread(target=self._accept, name="hanging-proxy", daemon=True).start()
        return self

    def hold(self) -> None:
        self._flowing.clear()

    def heal(self) -> None:
        self._flowing.set()

    def stop(self) -> None:
        self._stopped.set()
        self._flowing.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        while True:
            try:
                chunk = source.recv(65536)
            except OSError:
                chunk = b""
            self._flowing.wait()
            if self._stopped.is_set():
                return
            try:
                if not chunk:
                    target.shutdown(socket.SHUT_WR)
                    return
                target.sendall(chunk)
            except OSError:
                return


# ----- a delivery that fails while it is handled --------------------------------------------------------
@dataclass
class FirstDeliveryFails:
    """`sharing.forget` patched so the first call waits for `may_fail` (set `running` meanwhile), then fails
    as a database gone away; later calls are handled and their channels listed in `handled`."""

    running: threading.Event = field(default_factory=threading.Event)
    may_fail: threading.Event = field(default_factory=threading.Event)
    handled: list[str] = field(default_factory=list)


def first_delivery_fails(monkeypatch: Any) -> FirstDeliveryFails:
    from bot import sharing

    fails = FirstDeliveryFails()
    forget = sharing.forget

    def forget_slowly_failing_first(channel: str) -> None:
        if not fails.running.is_set():
            fails.running.set()
            assert fails.may_fail.wait(10)
            raise RuntimeError("the database went away")
        forget(channel)
        fails.handled.append(channel)

    monkeypatch.setattr(sharing, "forget", forget_slowly_failing_first)
    return fails
