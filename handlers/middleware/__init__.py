"""Global middleware, in the order it runs: refuse other installations' requests and strip U+0000
(`requests`), refuse anyone who is not a full member of ours (`members`), and handle each delivery only
once (`deliveries`, with the acks of `acks`)."""

from __future__ import annotations

from slack_bolt import App

from bot.config import Settings
from handlers.middleware import deliveries, members, requests
from handlers.middleware.deliveries import STILL_SAVING, delivery_failed, delivery_key, repeated
from handlers.middleware.requests import without_nul

__all__ = ["STILL_SAVING", "delivery_failed", "delivery_key", "register", "repeated", "without_nul"]


def register(app: App, settings: Settings) -> None:
    requests.register(app, settings)
    # Before the delivery is recorded: a refused request leaves nothing behind.
    app.middleware(members.only_our_members(settings, app.client))
    if settings.epos_pilot_only:
        app.middleware(members.only_the_pilot_audience(settings, app.client))
    deliveries.register(app)
