"""Who is acting, and with which rights. Built by handlers from the signed payload's user id."""

from __future__ import annotations

from pydantic import BaseModel

from bot.config import Settings


class Actor(BaseModel, frozen=True):
    user_id: str
    admin: bool = False
    manager: bool = False


def actor_for(settings: Settings, user_id: str) -> Actor:
    return Actor(user_id=user_id, admin=settings.is_admin(user_id), manager=settings.is_manager(user_id))
