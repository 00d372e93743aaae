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


# ----- over the wire ----------------------------------------------------------------------------------
FIELD = "engagement_field"


def text_value(text: str | None) -> dict:
    return {"type": "plain_text_input", "value": text}


def option_value(value: str | None) -> dict:
    return {"type": "static_select",
            "selected_option": None if value is None else {"value": value, "text": {"type": "plain_text", "text": value}}}


def new_form_values(*, account: str = "Northbeam Logistics", opportunity: str = "Fleet observability",
                    seller: str | None = SELLER, focus: str = "observability", focus_other: str = "",
                    challenge: str = "Unknown cause of downtime", needs: str = "Traces from 120 services",
                    channel: str | None = "C0NBDEAL1", stage: str = "preparation", opened: str | None = None) -> dict:
    return {
        "engagement_account": {FIELD: text_value(account)},
        "engagement_opportunity": {FIELD: text_value(opportunity)},
        "engagement_seller": {FIELD: {"type": "users_select", "selected_user": seller}},
        "engagement_focus": {FIELD: option_value(focus)},
        "engagement_focus_other": {FIELD: text_value(focus_other or None)},
        "engagement_challenge": {FIELD: text_value(challenge)},
        "engagement_needs": {FIELD: text_value(needs)},
        "engagement_channel": {FIELD: {"type": "conversations_select", "selected_conversation": channel}},
        "engagement_start_stage": {FIELD: option_value(stage)},
        "engagement_opened": {FIELD: {"type": "datepicker", "selected_date": opened}},
    }


def stage_form_values(stage: str | None, day: str | None, note: str = "") -> dict:
    return {
        "engagement_target_stage": {FIELD: option_value(stage)},
        "engagement_effective_date": {FIELD: {"type": "datepicker", "selected_date": day}},
        "engagement_note_text": {FIELD: text_value(note or None)},
    }


def close_form_values(outcome: str | None, day: str | None, note: str = "") -> dict:
    return {
        "engagement_outcome": {FIELD: option_value(outcome)},
        "engagement_effective_date": {FIELD: {"type": "datepicker", "selected_date": day}},
        "engagement_note_text": {FIELD: text_value(note or None)},
    }


def buttons_in(blocks: list[dict]) -> list[dict]:
    found: list[dict] = []
    for block in blocks:
        if block.get("type") == "actions":
            found.extend(e for e in block["elements"] if e.get("type") == "button")
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append(accessory)
    return found


def button(blocks: list[dict], action_prefix: str) -> dict:
    return next(b for b in buttons_in(blocks) if b["action_id"].split(":")[0] == action_prefix)
