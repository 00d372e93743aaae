"""`/asset`: search answers, the buttons on cards and result lists, curation, the add/edit form, link
previews and shortcuts, one module per surface."""

from __future__ import annotations

from slack_bolt import App

from handlers.assets import buttons, commands, forms, shortcuts, unfurls


def register(app: App) -> None:
    for surface in (commands, buttons, forms, unfurls, shortcuts):
        surface.register(app)
