"""Global middleware: refuse other workspaces' requests, and handle each delivery only once."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse

from bot.config import Settings
from bot.services import deliveries

log = logging.getLogger(__name__)


def delivery_key(body: dict[str, Any]) -> str | None:
    """What makes one Slack delivery unique, for the kinds Slack may send twice."""
    kind = body.get("type")
    if kind == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if kind == "block_actions" and body.get("actions"):
        action = body["actions"][0]
        user = (body.get("user") or {}).get("id", "")
        return f"action:{user}:{action.get('action_id')}:{action.get('action_ts')}"
    if kind == "view_submission" and body.get("view"):
        view = body["view"]
        # The same view is submitted again, unchanged, after an answer with field errors; the values
        # tell a corrected submission from a double click.
        values = json.dumps((view.get("state") or {}).get("values") or {}, sort_keys=True)
        digest = hashlib.sha256(values.encode()).hexdigest()[:16]
        return f"view:{view.get('id')}:{view.get('hash')}:{digest}"
    return None


class _SettledAck(Ack):
    """An ack that, once sent, stays sent.

    When a listener raises after `ack()`, Bolt's thread runner (1.30, process_before_response off)
    sets the ack's response back to None. If its 10 ms poll had not yet seen the ack, the request
    then waits out the 3 s ack timeout and is answered 404, so Slack shows the person a failure on
    top of the message the error handler sends. A sent answer is what Slack must receive."""

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return getattr(self, "_response", None)

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is None and self.response is not None:
            return
        self._response = value


class _ForgettingAck(_SettledAck):
    """An ack that un-records the delivery when it answers with field errors: nothing was done, so the
    same values submitted again (say, after a "submit again to confirm" warning) must be handled."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = super().__call__(*args, **kwargs)
        if kwargs.get("response_action") == "errors":
            deliveries.forget(self.key)
        return response


def register(app: App, settings: Settings) -> None:
    @app.middleware
    def refuse_other_installations(
        request: BoltRequest, context: BoltContext, body: dict[str, Any], next: Callable[[], None]
    ) -> BoltResponse | None:
        expected_team = settings.slack_team_id or (context.authorize_result.team_id if context.authorize_result else None)
        expected_enterprise = context.authorize_result.enterprise_id if context.authorize_result else None
        team, enterprise, app_id = context.team_id, context.enterprise_id, body.get("api_app_id")
        mismatch = (
            (expected_team and team and team != expected_team)
            or (expected_enterprise and enterprise and enterprise != expected_enterprise)
            or (settings.slack_app_id and app_id and app_id != settings.slack_app_id)
            or (not team and not enterprise)
        )
        if mismatch:
            log.warning(
                "refused a request for another installation: team=%s enterprise=%s app=%s", team, enterprise, app_id
            )
            return BoltResponse(status=403, body="")
        next()
        return None

    @app.middleware
    def handle_each_delivery_once(
        body: dict[str, Any], context: BoltContext, next: Callable[[], None]
    ) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not deliveries.first_time(key):
            log.info("ignored a repeated delivery (%s)", key.split(":", 1)[0])
            return BoltResponse(status=200, body="")
        context["ack"] = _ForgettingAck(key) if key is not None and key.startswith("view:") else _SettledAck()
        next()
        return None
