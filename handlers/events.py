"""Events about the app itself (its token revoked, the app uninstalled) and about conversations (shared
with another organisation, or no longer), and a catch-all: events nobody else handles are acknowledged,
so Slack does not retry them."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App

from bot import revocation, sharing
from handlers import common


def token_revoked(event: dict[str, Any]) -> None:
    if (event.get("tokens") or {}).get("bot"):
        revocation.mark("Slack sent tokens_revoked")


def app_uninstalled() -> None:
    revocation.mark("Slack sent app_uninstalled")


def sharing_changed(event: dict[str, Any]) -> None:
    """A channel was shared with another organisation, or stopped being: what epos knew of it is stale."""
    channel = str(event.get("channel") or "")
    if channel:
        sharing.forget(channel)


def acknowledge_unhandled_event() -> None:
    pass


EVENTS = {
    "tokens_revoked": token_revoked,
    "app_uninstalled": app_uninstalled,
    "channel_shared": sharing_changed,
    "channel_unshared": sharing_changed,
}


def register(app: App) -> None:
    common.listen(app, events=EVENTS)
    # Last: it answers every event nobody listens to.
    app.event(re.compile(".*"))(acknowledge_unhandled_event)
