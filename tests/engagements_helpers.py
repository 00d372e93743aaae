"""Helpers for the engagements tests: opening and moving engagements at chosen times."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services import engagements
from bot.services.actors import Actor
from models.enums import Outcome, Stage
from models.schemas.engagements import NewEngagementIn, StageChangeResult
from tests.conftest import ADMIN, MANAGER, SE, SELLER

SE_ACTOR = Actor(user_id=SE)
SELLER_ACTOR = Actor(user_id=SELLER)
MANAGER_ACTOR = Actor(user_id=MANAGER, manager=True)
ADMIN_ACTOR = Actor(user_id=ADMIN, admin=True, manager=True)


def utc(text: str) -> datetime:
    """`2026-09-01` or `2026-09-01 12:00` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def open_engagement(
    account: str,
    opened: str,
    *,
    owner: str = SE,
    seller: str = SELLER,
    stage: Stage = Stage.preparation,
    opportunity: str | None = None,
    focus: str = "observability",
    channel_id: str | None = None,
) -> int:
    """An engagement opened at `opened` (UTC), as if its owner filled in the form at that moment."""
    result = engagements.create(
        Actor(user_id=owner),
        NewEngagementIn(account=account, opportunity=opportunity or f"{account} platform", seller_id=seller,
                        focus=focus, stage=stage, channel_id=channel_id),
        now=utc(opened),
    )
    return result.engagement.id


def move(engagement_id: int, stage: Stage, effective: str, *, logged: str | None = None, actor: Actor = SE_ACTOR,
         note: str = "") -> StageChangeResult:
    """A stage change that happened at `effective`, logged at `logged` (later when backdated)."""
    return engagements.change_stage(actor, engagement_id, stage, effective_at=utc(effective),
                                    now=utc(logged or effective), note=note)


def close(engagement_id: int, outcome: Outcome, effective: str, *, logged: str | None = None,
          actor: Actor = SE_ACTOR) -> StageChangeResult:
    return engagements.close(actor, engagement_id, outcome, effective_at=utc(effective), now=utc(logged or effective))
