"""Bolt glue, one module per surface. `register_all` wires every listener onto an App."""

from __future__ import annotations

from slack_bolt import App

from bot.config import Settings
from handlers import assets, devrel, engagements, errors, events, home, middleware, nudges, pilots


def register_all(app: App, settings: Settings) -> None:
    middleware.register(app, settings)
    errors.register(app, settings)
    # Domain surfaces; each module owns its commands, actions, views and options.
    for surface in (assets, engagements, devrel, home, nudges, pilots):
        surface.register(app, settings)
    # `events` goes last: its catch-all answers 200 to subscribed events nobody listens to.
    events.register(app, settings)
