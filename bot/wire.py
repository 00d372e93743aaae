"""Slack's side of the wire: signed requests shaped as Slack sends them.

The integration tests drive the real App through these, and so does `epos try`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.slackmock import APP_ID, TEAM_ID


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class WireResponse:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def message(self) -> dict[str, Any] | None:
        """The message an ack carried, which Slack shows the person at once; None for an empty ack."""
        if self.status != 200 or not self.body.strip():
            return None
        try:
            body = json.loads(self.body)
        except ValueError:
            return {"text": self.body.decode("utf-8", "replace")}
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            return body
        return None


class SlackWire:
    """Posts signed payloads to an epos HTTP endpoint, as Slack would."""

    def __init__(self, url: str, signing_secret: str, *, response_url_base: str = "", team_id: str = TEAM_ID) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.response_url_base = response_url_base
        self.team_id = team_id
        self._trigger = 0
        self._wire_id = uuid.uuid4().hex[:12]

    # ----- raw -------------------------------------------------------------------------------
    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> WireResponse:
        timestamp = str(int(time.time())) if timestamp is None else timestamp
        all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp}
        all_headers["X-Slack-Signature"] = signature if signature is not None else sign(self.signing_secret, timestamp, body)
        all_headers.update(headers or {})
        request = urllib.request.Request(self.url, data=body, headers=all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return WireResponse(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return WireResponse(error.code, error.read(), dict(error.headers))

    def post_form(self, fields: dict[str, str], **kwargs: Any) -> WireResponse:
        return self.post(urlencode(fields).encode(), content_type="application/x-www-form-urlencoded", **kwargs)

    def post_payload(self, payload: dict[str, Any], **kwargs: Any) -> WireResponse:
        return self.post_form({"payload": json.dumps(payload)}, **kwargs)

    def post_event(self, envelope: dict[str, Any], **kwargs: Any) -> WireResponse:
        return self.post(json.dumps(envelope).encode(), content_type="application/json", **kwargs)

    # ----- shapes ----------------------------------------------------------------------------
    def next_trigger_id(self) -> str:
        # Unique across wires, as Slack's are: a repeated trigger_id is a redelivery of the same command.
        self._trigger += 1
        return f"{self._trigger}.{self._wire_id}.trigger"

    def command_fields(self, command: str, text: str, *, user_id: str, channel_id: str = "C0DEALS01",
                       response_name: str = "default") -> dict[str, str]:
        return {
            "token": "legacy-unused",
            "team_id": self.team_id,
            "team_domain": "epos-test",
            "channel_id": channel_id,
            "channel_name": "deals",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{self.response_url_base}response/{response_name}",
            "trigger_id": self.next_trigger_id(),
        }

    def command(self, command: str, text: str = "", *, user_id: str, **kwargs: Any) -> WireResponse:
        post_kwargs = {k: kwargs.pop(k) for k in ("timestamp", "signature", "headers") if k in kwargs}
        return self.post_form(self.command_fields(command, text, user_id=user_id, **kwargs), **post_kwargs)

    def block_action(
        self,
        action_id: str,
        *,
        user_id: str,
        value: str = "",
        block_id: str = "b",
        channel_id: str = "C0DEALS01",
        message_ts: str = "1700000000.000001",
        view: dict[str, Any] | None = None,
        selected_option: dict[str, Any] | None = None,
        action_ts: str | None = None,
        response_name: str = "action",
        **post_kwargs: Any,
    ) -> WireResponse:
        action: dict[str, Any] = {
            "type": "static_select" if selected_option else "button",
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": action_ts or f"{time.time():.6f}",
        }
        if selected_option is not None:
            action["selected_option"] = selected_option
        else:
            action["value"] = value
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "epos-test"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
            "api_app_id": APP_ID,
            "token": "legacy-unused",
            "trigger_id": self.next_trigger_id(),
            "actions": [action],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0")}
            payload["view"] = view
        else:
            payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False}
            payload["channel"] = {"id": channel_id, "name": "deals"}
            payload["message"] = {"type": "message", "ts": message_ts, "text": ""}
            payload["response_url"] = f"{self.response_url_base}response/{response_name}"
        return self.post_payload(payload, **post_kwargs)

    def view_submission(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user_id: str,
        **post_kwargs: Any,
    ) -> WireResponse:
        """`view` is the view as epos opened it (callback_id, private_metadata); `values` as Slack sends them."""
        submitted = {
            "id": view.get("id", "V0SUBMIT1"),
            "hash": view.get("hash", "h1"),
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view.get("blocks", []),
            "state": {"values": values},
            "title": view.get("title", {"type": "plain_text", "text": "epos"}),
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "epos-test"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
            "api_app_id": APP_ID,
            "token": "legacy-unused",
            "trigger_id": self.next_trigger_id(),
            "view": submitted,
        }
        return self.post_payload(payload, **post_kwargs)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **post_kwargs: Any) -> WireResponse:
        envelope = {
            "token": "legacy-unused",
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{int(time.time() * 1e6)}",
            "event_time": int(time.time()),
        }
        return self.post_event(envelope, **post_kwargs)


def input_value(text: str) -> dict[str, Any]:
    """A plain_text_input's submitted state."""
    return {"type": "plain_text_input", "value": text}


def select_value(value: str | None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": None if value is None else {"value": value, "text": {"type": "plain_text", "text": value}}}


def multi_select_value(values: list[str]) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets bursts of simultaneous clicks; gunicorn's is 2048.
    request_queue_size = 128


class LoopbackServer:
    """Serves a WSGI app on 127.0.0.1 on a free port, in a thread; for tests and `epos try`."""

    def __init__(self, wsgi_app: Any) -> None:
        self._server = make_server("127.0.0.1", 0, wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="epos-loopback", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
