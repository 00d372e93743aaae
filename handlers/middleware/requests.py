"""What every request must be before anything reads it: for our installation, and without the U+0000 that
PostgreSQL text cannot hold."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from bot.config import Settings

log = logging.getLogger(__name__)


def without_nul(node: Any) -> Any:
    """The payload with every U+0000 removed from its strings, in place; without recursion, so no
    nesting depth can exhaust the stack."""
    if isinstance(node, str):
        return node.replace("\x00", "")
    stack = [node] if isinstance(node, dict | list) else []
    while stack:
        container = stack.pop()
        slots = container.items() if isinstance(container, dict) else enumerate(container)
        for slot, value in list(slots):
            if isinstance(value, str):
                if "\x00" in value:
                    container[slot] = value.replace("\x00", "")
            elif isinstance(value, dict | list):
                stack.append(value)
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
