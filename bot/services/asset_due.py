"""When an asset is due for review: its own interval, or its type's (ASSET_REVIEW_DAYS,
ASSET_REVIEW_DAYS_BY_TYPE), counted from when it was last verified.

The intervals are read from the settings once per process (or set by `configure`, for the scheduler and
tests), so a changed setting moves every asset's due date at the next start, not only those verified since.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models.assets import Asset
from models.enums import AssetType

_lock = threading.Lock()
_days: dict[AssetType, int] | None = None


def configure(days_by_type: dict[AssetType, int]) -> None:
    global _days
    with _lock:
        _days = dict(days_by_type)


def type_days() -> dict[AssetType, int]:
    """Each type's review interval in days."""
    global _days
    with _lock:
        if _days is not None:
            return _days
    from bot.config import load_settings
    from bot.errors import ConfigError

    try:
        days = load_settings().review_days()
    except ConfigError:
        days = {t: 90 for t in AssetType}
    with _lock:
        _days = days
    return days


def interval(asset_type: AssetType | str, own_days: int | None) -> timedelta:
    return timedelta(days=own_days or type_days()[AssetType(asset_type)])


def due_at(asset_type: AssetType | str, own_days: int | None, verified_at: datetime | None,
           created_at: datetime) -> datetime:
    """The moment the asset's review falls due: one interval after it was last verified (or added)."""
    return (verified_at or created_at) + interval(asset_type, own_days)


def _base() -> Any:
    return func.coalesce(Asset.verified_at, Asset.created_at)


def due_by(session: Session, moment: datetime) -> Any:
    """SQL: the asset's review was due at `moment`. One clause per type (for assets on their type's interval)
    and per own interval in use, so both databases compare plain timestamps; never NULL, so it can be negated."""
    base = _base()
    clauses = [
        and_(Asset.review_every_days.is_(None), Asset.type == asset_type.value, base <= moment - timedelta(days=days))
        for asset_type, days in type_days().items()
    ]
    own = session.scalars(select(Asset.review_every_days).where(Asset.review_every_days.is_not(None)).distinct())
    clauses += [and_(func.coalesce(Asset.review_every_days, 0) == days, base <= moment - timedelta(days=days))
                for days in own]
    return or_(*clauses)


def verified_since() -> Any:
    """SQL: when the asset's current review period began (its last verification, else when it was added)."""
    return _base()
