"""What every kind of payload carries, read one way: who acted, and where to answer them."""

from __future__ import annotations

from typing import Any


def user_id(body: dict[str, Any]) -> str:
    """Who acted: the user of an action, form or shortcut, or the one who typed a command."""
    return str((body.get("user") or {}).get("id") or body.get("user_id") or "")


def response_url(body: dict[str, Any]) -> str | None:
    """Where to answer the person privately: a command's or button's response_url, or the first of a form's
    (a form carries them only when it has a conversation picker set to give one)."""
    return body.get("response_url") or next((u.get("response_url") for u in body.get("response_urls") or []), None)
