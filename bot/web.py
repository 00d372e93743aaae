"""HTTP mode: the WSGI application a production server runs. Every Slack request is `POST /slack/events`."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request.payload_utils import (to_action, to_command, to_event, to_message, to_options, to_shortcut,
                                              to_step, to_view)

from bot import db

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1_000_000
# Slack refuses a request whose timestamp is further than this from now, so a captured one cannot be replayed.
SIGNATURE_WINDOW_SECONDS = 300
# Slack's deepest payloads (a view's rich text in its state) nest a dozen levels; the limit keeps
# recursive code downstream far from Python's recursion limit.
MAX_NESTING = 64

StartResponse = Callable[..., Any]


def _plain(start_response: StartResponse, status: str, body: bytes, content_type: str = "text/plain; charset=utf-8") -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def signed_by(secret: str, timestamp: str, signature: str, body: bytes, *, now: float | None = None) -> bool:
    """Slack's request signature, checked on the raw bytes (whatever they hold) in constant time."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    # WSGI hands headers over as latin-1 text, so any header value encodes back to its bytes.
    return hmac.compare_digest(expected.encode(), signature.encode("latin-1"))


def nesting(node: Any) -> int:
    """How deep lists and objects nest in a parsed payload, counted without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_NESTING:
                break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class _Shaped(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Event(_Shaped):
    type: str = ""
    subtype: str | None = None


class _Action(_Shaped):
    action_id: str = ""
    block_id: str = ""


class _View(_Shaped):
    callback_id: str = ""


class SlackEnvelope(_Shaped):
    """The parts of a payload that Bolt's own middleware and listener matching read without checking
    their type: where Slack always sends an object (or a list of them), anything else is malformed.
    A field Slack leaves out is fine; `null` is fine only where Slack sends it (team and enterprise
    of an org-wide installation)."""

    type: str = ""
    event: _Event = None  # type: ignore[assignment]
    view: _View = None  # type: ignore[assignment]
    actions: list[_Action] = None  # type: ignore[assignment]
    authorizations: list[dict[str, Any]] = None  # type: ignore[assignment]
    user: dict[str, Any] | str = None  # type: ignore[assignment]
    team: dict[str, Any] | str | None = None
    enterprise: dict[str, Any] | str | None = None
    channel: dict[str, Any] | str = None  # type: ignore[assignment]
    container: dict[str, Any] = None  # type: ignore[assignment]
    message: dict[str, Any] = None  # type: ignore[assignment]
    callback_id: str = ""
    command: str = ""


# How Bolt reads a payload before any of epos's code runs (its kwargs for middleware and listeners).
BOLT_READERS = (to_options, to_shortcut, to_action, to_view, to_command, to_event, to_message, to_step)
# What Bolt raises on a body that is not a Slack payload: not UTF-8 or JSON (ValueError), too deep to
# parse (RecursionError), or values of the wrong type where Slack always sends an object.
UNREADABLE = (ValueError, RecursionError, TypeError, AttributeError, KeyError, IndexError)


class _SlackPayloads(SlackRequestHandler):
    """Bolt's WSGI adapter, answering 400 to a body that Bolt cannot read as a Slack payload instead of
    failing with a 500 wherever Bolt first trips over it."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                       headers=request.get_headers())
            if not isinstance(bolt_request.body, dict) or nesting(bolt_request.body) > MAX_NESTING:
                raise ValueError("not a Slack payload")
            SlackEnvelope.model_validate(bolt_request.body)
            for read in BOLT_READERS:
                read(bolt_request.body)
        except UNREADABLE as error:
            log.warning("refused a signed request whose body is not a Slack payload: %s", type(error).__name__)
            return BoltResponse(status=400, body="")
        return self.app.dispatch(bolt_request)


class EposWSGI:
    def __init__(self, app: App) -> None:
        self.bolt = _SlackPayloads(app, path=SLACK_PATH)
        # Bolt keeps the secret it verifies with to itself; the edge checks first, before Bolt parses.
        self.signing_secret: str = getattr(app, "_signing_secret", "") or ""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy = db.ping()
            body = json.dumps({"ok": healthy, "database": "up" if healthy else "down"}).encode()
            return _plain(start_response, "200 OK" if healthy else "503 Service Unavailable", body, "application/json")
        if path != SLACK_PATH:
            return _plain(start_response, "404 Not Found", b"Not Found")
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed", b"Method Not Allowed")
        # Bolt answers 500 to a missing or non-numeric timestamp; such a request is simply unsigned.
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        if not timestamp.isascii() or not timestamp.isdigit() or not environ.get("HTTP_X_SLACK_SIGNATURE"):
            log.warning("refused an unsigned request")
            return _plain(start_response, "401 Unauthorized", b"")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            return _plain(start_response, "413 Content Too Large", b"")
        body = environ["wsgi.input"].read(length) if length else b""
        if self.signing_secret and not signed_by(self.signing_secret, timestamp, environ["HTTP_X_SLACK_SIGNATURE"], body):
            log.warning("refused a request with a bad signature")
            return _plain(start_response, "401 Unauthorized", b"")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.bolt(environ, start_response)
