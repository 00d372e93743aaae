"""HTTP mode: the WSGI application a production server runs. Every Slack request is `POST /slack/events`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import db, revocation, telemetry

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
MAX_BODY_BYTES = 1_000_000
# A load balancer's health check waits about a second: a database that hangs is reported down well within it.
HEALTH_DEADLINE_SECONDS = 0.5

StartResponse = Callable[..., Any]


def _plain(start_response: StartResponse, status: str, body: bytes, content_type: str = "text/plain; charset=utf-8") -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class EposWSGI:
    def __init__(self, app: App) -> None:
        self.bolt = SlackRequestHandler(app, path=SLACK_PATH)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            database_up = db.ping_within(HEALTH_DEADLINE_SECONDS)
            token_gone = revocation.revoked()
            healthy = database_up and token_gone is None
            body = json.dumps({"ok": healthy, "database": "up" if database_up else "down",
                               "slack": "token accepted" if token_gone is None else f"token gone: {token_gone}"}).encode()
            return _plain(start_response, "200 OK" if healthy else "503 Service Unavailable", body, "application/json")
        if path == METRICS_PATH and method in ("GET", "HEAD"):
            body, content_type = telemetry.exposition()
            return _plain(start_response, "200 OK", body, content_type)
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
        return self.bolt(environ, start_response)
