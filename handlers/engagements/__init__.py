"""`/engagement`: the command, the buttons (on the card, nudge DMs, the App Home, playbook posts), and the
forms, one module per surface."""

from __future__ import annotations

from slack_bolt import App

from handlers.engagements import buttons, checklist, commands, forms, shortcuts


def register(app: App) -> None:
    for surface in (commands, buttons, forms, checklist, shortcuts):
        surface.register(app)
