"""Who is acting, and with which rights. Built by handlers from the signed payload's user id.

Only full members of our workspace reach this far (handlers/middleware.py turns everyone else away).
Among them, reading engagements is for the presales team; searching published assets is for all."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import exists, or_, select

from bot import db
from bot.config import Settings
from bot.errors import Forbidden
from bot.services import people
from models import DevRelPerson, Engagement


class Actor(BaseModel, frozen=True):
    user_id: str
    admin: bool = False
    manager: bool = False
    # Named in EPOS_READERS, directly or as a member of a user group named there.
    reader: bool = False
    # Whom to ask for the right to read engagements (the epos admins), for the refusal.
    admins: tuple[str, ...] = ()


def actor_for(settings: Settings, user_id: str) -> Actor:
    reader = user_id in settings.epos_readers or any(
        user_id in people.group_members(group) for group in settings.reader_groups
    )
    return Actor(user_id=user_id, admin=settings.is_admin(user_id), manager=settings.is_manager(user_id),
                 reader=reader, admins=tuple(settings.epos_admins))


def in_presales(actor: Actor) -> bool:
    """Owners and sellers of any engagement, DevRel on the roster, managers, admins and readers."""
    if actor.admin or actor.manager or actor.reader:
        return True
    with db.reading() as session:
        on_a_deal = exists().where(or_(Engagement.owner_id == actor.user_id, Engagement.seller_id == actor.user_id))
        on_the_roster = exists().where(DevRelPerson.slack_id == actor.user_id, DevRelPerson.active.is_(True))
        return bool(session.scalar(select(on_a_deal | on_the_roster)))


def require_presales(actor: Actor) -> None:
    """Engagements (cards, lists, figures) are the presales team's; others are told whom to ask."""
    if in_presales(actor):
        return
    if actor.admins:
        whom = ", ".join(f"<@{admin}>" for admin in actor.admins)
        ask = f"Ask an epos admin ({whom}) to add you as a reader if you need them."
    else:
        ask = "Ask whoever runs epos to add you to EPOS_READERS if you need them."
    raise Forbidden(
        "Engagements are for the presales team: the owners and sellers of deals, DevRel on the roster, "
        f"managers and readers. {ask} Searching assets with `/asset` is open to you."
    )
