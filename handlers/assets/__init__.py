"""`/asset`: search answers, the buttons on cards and result lists, curation, and the add/edit form, one
module per surface."""

from __future__ import annotations

from slack_bolt import App

from handlers.assets import buttons, commands, forms


def register(app: App) -> None:
    for surface in (commands, buttons, forms):
        surface.register(app)
