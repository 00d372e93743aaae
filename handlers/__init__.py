"""Bolt glue, one module per surface. `register_all` wires every listener onto an App."""

from __future__ import annotations

from slack_bolt import App

from bot.config import Settings
from handlers import errors, events, middleware


def register_all(app: App, settings: Settings) -> None:
    middleware.register(app, settings)
    errors.register(app, settings)
    # Domain surfaces; each module owns its commands, actions, views and options.
    # (Kept explicit so the manifest test can compare what is registered with what is declared.)
    # `events` goes last: its catch-all answers 200 to subscribed events nobody listens to.
    events.register(app, settings)
