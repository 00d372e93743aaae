"""Events about the app itself (its token revoked, the app uninstalled), and a catch-all: events nobody
else handles are acknowledged, so Slack does not retry them."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App

from bot import revocation
from bot.config import Settings


def register(app: App, settings: Settings) -> None:
    @app.event("tokens_revoked")
    def token_revoked(event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            revocation.mark("Slack sent tokens_revoked")

    @app.event("app_uninstalled")
    def app_uninstalled() -> None:
        revocation.mark("Slack sent app_uninstalled")

    @app.event(re.compile(".*"))
    def acknowledge_unhandled_event() -> None:
        pass
