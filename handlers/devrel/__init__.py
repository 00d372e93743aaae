"""`/devrel`: the command and the request form it opens, the buttons on request messages and the App
Home, and the roster, one module per surface."""

from __future__ import annotations

from slack_bolt import App

from handlers.devrel import buttons, commands, forms, shortcuts


def register(app: App) -> None:
    for surface in (commands, buttons, forms, shortcuts):
        surface.register(app)
