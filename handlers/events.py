"""Events about the app itself (its token revoked, the app uninstalled) and about conversations (shared
with another organisation, or no longer), and a catch-all: events nobody else handles are acknowledged,
so Slack does not retry them."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App

from bot import revocation, sharing
from bot.config import Settings


def register(app: App, settings: Settings) -> None:
    @app.event("tokens_revoked")
    def token_revoked(event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            revocation.mark("Slack sent tokens_revoked")

    @app.event("app_uninstalled")
    def app_uninstalled() -> None:
        revocation.mark("Slack sent app_uninstalled")

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
