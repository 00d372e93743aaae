"""Slack's side of the wire: signed requests as Slack sends them, and the loopback server they reach.

`epos try` drives the real App through these (its payloads built by `bot.tryout.payloads`), and so do
the integration tests (their payloads built by `tests/support/wire.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


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

    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.signing_secret = signing_secret

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
