"""Slack's side of Socket Mode on loopback: the WebSocket server an app connects to after
`apps.connections.open`, and a wire that sends Slack's payloads to the app as envelopes.

As Slack does, the server greets each connection with `hello`, sends envelopes (`slash_commands`,
`interactive`, `events_api`) with an `envelope_id`, records the app's acknowledgements, asks for a
refresh with a `disconnect` message, and may close or drop a connection; the app then opens a new one
through `apps.connections.open`, which `attach` points at this server on the mock Slack.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.support.slack import APP_ID, MockSlack
from tests.support.wire import SlackWire, WireResponse

# What the wire reports for an envelope the app never acknowledged (Slack would show a failure).
NOT_ACKNOWLEDGED = 0


@dataclass
class Acknowledgement:
    envelope_id: str
    payload: dict[str, Any] | None
    at: float = field(default_factory=time.monotonic)


class SocketModeServer:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.acks: dict[str, Acknowledgement] = {}
        # Messages from the app that were not acknowledgements (there should be none).
        self.strays: list[str] = []
        self.opened = 0  # `apps.connections.open` calls answered
        self.sessions = 0  # WebSocket connections ever made
        self._live: list[ServerConnection] = []
        self._ids = itertools.count(1)
        self._server: Server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, name="socket-mode-server", daemon=True)

    # ----- lifecycle -------------------------------------------------------------------------
    def start(self) -> SocketModeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._server.socket.getsockname()[1])

    def attach(self, slack: MockSlack) -> SocketModeServer:
        """Make the mock Slack's `apps.connections.open` hand out this server's address."""
        slack.answers["apps.connections.open"] = self.open_connection
        return self

    def open_connection(self, _params: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            self.opened += 1
            ticket = self.opened
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket=t{ticket}&app_id={APP_ID}"}

    # ----- one connection --------------------------------------------------------------------
    def _session(self, connection: ServerConnection) -> None:
        with self._changed:
            self.sessions += 1
            self._live.append(connection)
            self._changed.notify_all()
        try:
            connection.send(json.dumps({
                "type": "hello", "num_connections": 1,
                "debug_info": {"host": "loopback", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }))
            for message in connection:
                self._received(str(message))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._live.remove(connection)
                self._changed.notify_all()

    def _received(self, message: str) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        with self._changed:
            if isinstance(data, dict) and data.get("envelope_id"):
                self.acks[str(data["envelope_id"])] = Acknowledgement(str(data["envelope_id"]), data.get("payload"))
            else:
                self.strays.append(message)
            self._changed.notify_all()

    def _current(self, timeout: float) -> ServerConnection:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._live:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no app is connected to the Socket Mode server")
                self._changed.wait(remaining)
            return self._live[-1]

    # ----- what a test does ------------------------------------------------------------------
    def wait_connected(self, sessions: int = 1, timeout: float = 10.0) -> None:
        """Wait until the app has made `sessions` connections in all and one of them is open."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.sessions < sessions or not self._live:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {sessions} Socket Mode connections, saw {self.sessions}")
                self._changed.wait(remaining)

    @property
    def connected(self) -> int:
        with self._changed:
            return len(self._live)

    def send(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = "",
             envelope_id: str | None = None) -> str:
        """Send an envelope on the newest connection, as Slack does; its envelope_id."""
        envelope_id = envelope_id or f"{uuid.uuid4()}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api" or retry_attempt:
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        self._current(timeout=10).send(json.dumps(envelope))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Acknowledgement | None:
        """The app's acknowledgement of an envelope, or None when none came within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while envelope_id not in self.acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self.acks[envelope_id]

    def refresh(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does every few hours (the old connection stays open)."""
        self._current(timeout=10).send(json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "loopback"}}
        ))

    def close_connection(self) -> None:
        """Close the newest connection cleanly (a close frame), as Slack does when it goes away."""
        self._current(timeout=10).close()

    def drop_connection(self) -> None:
        """Cut the newest connection off without a word, as a network failure does."""
        self._current(timeout=10).socket.shutdown(socket.SHUT_RDWR)


class SocketModeWire(SlackWire):
    """SlackWire's payloads (commands, buttons, forms, events), sent as Socket Mode envelopes.

    Each call waits for the acknowledgement and returns it as a WireResponse: status 200 with the
    payload the app acknowledged with (an answer carried by the ack) as its body, or NOT_ACKNOWLEDGED."""

    def __init__(self, server: SocketModeServer, *, response_url_base: str = "", team_id: str | None = None,
                 ack_timeout: float = 5.0) -> None:
        kwargs = {"team_id": team_id} if team_id else {}
        super().__init__(f"ws://127.0.0.1:{server.port}", "", response_url_base=response_url_base, **kwargs)
        self.server = server
        self.ack_timeout = ack_timeout
        self.envelope_ids: list[str] = []

    def _deliver(self, kind: str, payload: dict[str, Any], headers: dict[str, str] | None,
                 timeout: float | None) -> WireResponse:
        retry = int((headers or {}).get("X-Slack-Retry-Num", "0"))
        reason = (headers or {}).get("X-Slack-Retry-Reason", "")
        envelope_id = self.server.send(kind, payload, retry_attempt=retry, retry_reason=reason)
        self.envelope_ids.append(envelope_id)
        ack = self.server.wait_ack(envelope_id, timeout=timeout or self.ack_timeout)
        if ack is None:
            return WireResponse(NOT_ACKNOWLEDGED, b"", {"envelope_id": envelope_id})
        body = json.dumps(ack.payload).encode() if ack.payload else b""
        return WireResponse(200, body, {"envelope_id": envelope_id})

    def event_while_stopping(self, event: dict[str, Any], *, event_id: str) -> WireResponse | None:
        """An event sent while the app stops: None when its connection is already closed (Slack then
        delivers it to another connection), else the response, which must leave it unacknowledged."""
        if not self.server.connected:
            return None
        try:
            return self.event(event, event_id=event_id)
        except (AssertionError, ConnectionClosed):
            return None  # closed between the look and the send

    def post_form(self, fields: dict[str, str], **kwargs: Any) -> WireResponse:
        headers, timeout = kwargs.get("headers"), kwargs.get("timeout")
        if "payload" in fields:
            return self._deliver("interactive", json.loads(fields["payload"]), headers, timeout)
        return self._deliver("slash_commands", dict(fields), headers, timeout)

    def post_payload(self, payload: dict[str, Any], **kwargs: Any) -> WireResponse:
        return self._deliver("interactive", payload, kwargs.get("headers"), kwargs.get("timeout"))

    def post_event(self, envelope: dict[str, Any], **kwargs: Any) -> WireResponse:
        return self._deliver("events_api", envelope, kwargs.get("headers"), kwargs.get("timeout"))

    def post(self, body: bytes, **kwargs: Any) -> WireResponse:
        raise NotImplementedError("Socket Mode has no signed HTTP requests: use command, block_action, event, ...")
