"""HTTP mode: the WSGI application a production server runs. Every Slack request is `POST /slack/events`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

from bot import db, revocation, telemetry
from bot.inbound import UNREADABLE, check_payload, read_as_form, signed_by

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


class _SlackPayloads(SlackRequestHandler):
    """Bolt's WSGI adapter, answering 400 to a body that Bolt cannot read as a Slack payload instead of
    failing with a 500 wherever Bolt first trips over it."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = read_as_form(BoltRequest(body=request.get_body(), query=request.query_string,
                                                    headers=request.get_headers()))
            check_payload(bolt_request.body)
        except UNREADABLE as error:
            log.warning("refused a signed request whose body is not a Slack payload: %s", type(error).__name__)
            telemetry.REQUESTS.labels("unreadable", telemetry.outcome_of(400)).inc()
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
            return self._refused(start_response, 401, "401 Unauthorized")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            return self._refused(start_response, 413, "413 Content Too Large")
        body = environ["wsgi.input"].read(length) if length else b""
        if self.signing_secret and not signed_by(self.signing_secret, timestamp, environ["HTTP_X_SLACK_SIGNATURE"], body):
            log.warning("refused a request with a bad signature")
            return self._refused(start_response, 401, "401 Unauthorized")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.bolt(environ, start_response)

    @staticmethod
    def _refused(start_response: StartResponse, status: int, line: str) -> Iterable[bytes]:
        # Counted as the edge refuses it: such a request never reaches the App, which counts the rest.
        telemetry.REQUESTS.labels("unverified", telemetry.outcome_of(status)).inc()
        return _plain(start_response, line, b"")
