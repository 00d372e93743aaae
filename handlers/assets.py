"""Listeners for the assets surface."""

from __future__ import annotations

from slack_bolt import App

from bot.config import Settings


def register(app: App, settings: Settings) -> None:
    pass
