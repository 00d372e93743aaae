"""Events about conversations, and the acknowledgement of events nobody else handles (so Slack does not
retry them)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App

from bot import sharing
from bot.config import Settings


def register(app: App, settings: Settings) -> None:
    @app.event("channel_shared")
    @app.event("channel_unshared")
    def sharing_changed(event: dict[str, Any]) -> None:
        """A channel was shared with another organisation, or stopped being: what epos knew of it is stale."""
        channel = str(event.get("channel") or "")
        if channel:
            sharing.forget(channel)

    @app.event(re.compile(".*"))
    def acknowledge_unhandled_event() -> None:
        pass
