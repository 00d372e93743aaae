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
    if body.get("command") and body.get("trigger_id"):
        # Slack gives every slash command invocation its own trigger_id and repeats it on a redelivery.
        return f"command:{body['trigger_id']}"
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


def onto_the_form(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Field errors placed on input blocks the submitted form has. Slack refuses a whole errors answer
    that names any other block (the person then sees only "trouble connecting"), so a message meant
    for a block this form lacks (a mangled form, a field another variant has) goes on its first input."""
    inputs = [b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input" and b.get("block_id")]
    if not inputs:
        return errors
    placed: dict[str, str] = {}
    for block_id, message in errors.items():
        target = block_id if block_id in inputs else inputs[0]
        placed[target] = f"{placed[target]} {message}" if target in placed else message
    return placed


class _ForgettingAck(_SettledAck):
    """An ack that un-records the delivery when it answers with field errors: nothing was done, so the
    same values submitted again (say, after a "submit again to confirm" warning) must be handled."""

    def __init__(self, key: str, view: dict[str, Any]) -> None:
        super().__init__()
        self.key = key
        self.view = view

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        if kwargs.get("response_action") == "errors":
            if isinstance(kwargs.get("errors"), dict):
                kwargs["errors"] = onto_the_form(kwargs["errors"], self.view)
            # Before the answer leaves: once Slack has it, the person may submit again at once.
            deliveries.forget(self.key)
        return super().__call__(*args, **kwargs)


def without_nul(node: Any) -> Any:
    """The payload with every U+0000 removed from its strings, in place."""
    if isinstance(node, str):
        return node.replace("\x00", "") if "\x00" in node else node
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = without_nul(value)
    elif isinstance(node, list):
        node[:] = [without_nul(value) for value in node]
    return node


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
            if request.mode == "socket_mode":
                # Bolt acknowledges an envelope only for a 200: any other answer leaves it unacknowledged,
                # and Slack sends it again and shows the person a failure. Acked empty, it is simply dropped.
                return BoltResponse(status=200, body="")
            return BoltResponse(status=403, body="")
        next()
        return None

    @app.middleware
    def drop_nul_characters(body: dict[str, Any], next: Callable[[], None]) -> None:
        # PostgreSQL text cannot hold U+0000, so a note or a name carrying one would fail to save; no
        # person means it, and listeners read the payload after this, so it is removed here for all.
        without_nul(body)
        next()

    @app.middleware
    def handle_each_delivery_once(
        body: dict[str, Any], context: BoltContext, next: Callable[[], None]
    ) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not deliveries.first_time(key):
            log.info("ignored a repeated delivery (%s)", key.split(":", 1)[0])
            return BoltResponse(status=200, body="")
        if key is not None and key.startswith("view:"):
            context["ack"] = _ForgettingAck(key, body.get("view") or {})
        else:
            context["ack"] = _SettledAck()
        next()
        return None
