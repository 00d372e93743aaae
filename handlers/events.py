"""Events nobody else handles are acknowledged, so Slack does not retry them."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.config import Settings


def register(app: App, settings: Settings) -> None:
    @app.event(re.compile(".*"))
    def acknowledge_unhandled_event() -> None:
        pass
