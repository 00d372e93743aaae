"""Bolt glue, one package or module per domain, each registering its listeners from short tables per
surface (commands, actions, views, events). `register_all` wires every listener onto an App."""

from __future__ import annotations

from slack_bolt import App

from bot.config import Settings
from bot.services import challenges, playbooks
from handlers import assets, devrel, engagements, errors, events, home, middleware, nudges, pilots
from handlers.common import give_settings


def register_all(app: App, settings: Settings) -> None:
    # A team's playbook file is checked at start: a bad one stops epos with a line naming file and field.
    playbooks.configure(settings.epos_playbooks)
    # So is the challenge map: a bad one stops epos with a line naming the file and the line.
    challenges.configure(settings.epos_challenges)
    give_settings(app, settings)
    middleware.register(app, settings)
    errors.register(app, settings)
    for surface in (assets, engagements, devrel, home, nudges, pilots):
        surface.register(app)
    # `events` goes last: its catch-all answers 200 to subscribed events nobody listens to.
    events.register(app)
