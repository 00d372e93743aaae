"""What we know of Slack users: name and timezone (cached in the database, so a message does not cost a
`users.info` call), and where each stands towards our workspace (cached briefly in each process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from bot import clock, db
from models import SlackUser

FRESH_FOR = timedelta(days=7)


class Person(BaseModel, frozen=True):
    user_id: str
    name: str
    timezone: str


def cached(user_id: str, *, now: datetime | None = None, fresh_for: timedelta | None = FRESH_FOR) -> Person | None:
    """The cached entry while it is fresh (any age with `fresh_for=None`), else None (the caller then asks
    Slack and calls `remember`)."""
    now = now or clock.now()
    with db.reading() as session:
        row = session.get(SlackUser, user_id)
        if row is None or (fresh_for is not None and now - row.fetched_at > fresh_for):
            return None
        return Person(user_id=row.user_id, name=row.name, timezone=row.timezone)


def cached_many(user_ids: list[str]) -> dict[str, tuple[Person, datetime]]:
    """Every cached entry of these people, of any age, with when it was fetched: one query per 500, for a
    scheduled run that looks up a thousand SEs."""
    found: dict[str, tuple[Person, datetime]] = {}
    with db.reading() as session:
        for start in range(0, len(user_ids), 500):
            rows = session.scalars(select(SlackUser).where(SlackUser.user_id.in_(user_ids[start:start + 500])))
            for row in rows:
                found[row.user_id] = (Person(user_id=row.user_id, name=row.name, timezone=row.timezone), row.fetched_at)
    return found


def remember(user_id: str, *, name: str, timezone: str, now: datetime | None = None) -> Person:
    now = now or clock.now()
    # An upsert: two threads looking up the same person at once must not collide on the primary key.
    statement = db.insert(SlackUser).values(user_id=user_id, name=name, timezone=timezone, fetched_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[SlackUser.user_id],
        set_={"name": statement.excluded.name, "timezone": statement.excluded.timezone,
              "fetched_at": statement.excluded.fetched_at},
    )
    with db.transaction() as session:
        session.execute(statement)
    return Person(user_id=user_id, name=name, timezone=timezone)


# ----- who may use epos at all ------------------------------------------------------------------------
class Standing(StrEnum):
    """Where a Slack user stands towards our workspace. Only `member` may use epos."""

    member = "member"
    guest = "guest"  # a single- or multi-channel guest (is_ultra_restricted / is_restricted)
    external = "external"  # of another organisation, met in a shared channel (Slack Connect)
    deactivated = "deactivated"
    bot = "bot"
    unknown = "unknown"  # Slack does not show us this user


SLACKBOT = "USLACKBOT"


def standing_of(user: dict[str, Any], *, team_id: str | None, enterprise_id: str | None) -> Standing:
    """Classify a `users.info` user. The checks go from the most to the least definite: a deactivated
    guest is deactivated, a guest of another organisation is external to us first."""
    if user.get("deleted"):
        return Standing.deactivated
    if user.get("is_bot") or user.get("is_app_user") or user.get("is_workflow_bot") or user.get("id") == SLACKBOT:
        return Standing.bot
    home_team = user.get("team_id")
    home_enterprise = (user.get("enterprise_user") or {}).get("enterprise_id") or user.get("enterprise_id")
    ours = bool(home_team) and home_team == team_id
    # On Enterprise Grid a member of another workspace of our own organisation is one of us.
    same_org = bool(enterprise_id) and home_enterprise == enterprise_id
    if user.get("is_stranger") or not (ours or same_org):
        return Standing.external
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return Standing.guest
    return Standing.member


@dataclass(frozen=True)
class _Known:
    standing: Standing
    at: float


class StandingCache:
    """Standings looked up recently, in this process. Short-lived on purpose: a guest made a member, or a
    member deactivated, is seen within FRESH seconds; a longer-lived entry is still good enough to keep
    our own members working through a short Slack outage (see `stale`)."""

    FRESH = 300.0
    USABLE_WHEN_SLACK_FAILS = 3600.0

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()

    def fresh(self, user_id: str) -> Standing | None:
        return self._seen_within(user_id, self.FRESH)

    def stale(self, user_id: str) -> Standing | None:
        """What was last seen, when Slack cannot be asked now and it is not too old to trust."""
        return self._seen_within(user_id, self.USABLE_WHEN_SLACK_FAILS)

    def _seen_within(self, user_id: str, age: float) -> Standing | None:
        with self._lock:
            known = self._known.get(user_id)
        if known is None or self._monotonic() - known.at > age:
            return None
        return known.standing

    def remember(self, user_id: str, standing: Standing) -> Standing:
        with self._lock:
            self._known[user_id] = _Known(standing, self._monotonic())
        return standing


# ----- members of the user groups named in EPOS_READERS -------------------------------------------------
GROUPS_FRESH = 300.0


@dataclass(frozen=True)
class _Group:
    members: frozenset[str]
    at: float


_groups: dict[str, _Group] = {}
_groups_lock = threading.Lock()


def group_members(group_id: str) -> frozenset[str]:
    """The members last read of a user group; empty when never read."""
    with _groups_lock:
        group = _groups.get(group_id)
    return group.members if group else frozenset()


def group_is_fresh(group_id: str) -> bool:
    with _groups_lock:
        group = _groups.get(group_id)
    return group is not None and time.monotonic() - group.at <= GROUPS_FRESH


def group_was_read(group_id: str) -> bool:
    with _groups_lock:
        return group_id in _groups


def tried_group(group_id: str) -> None:
    """A read of the group failed: keep what was known (nothing, if it never was) and try again only
    after GROUPS_FRESH, so that requests do not each wait on a Slack that is failing."""
    with _groups_lock:
        known = _groups.get(group_id)
        _groups[group_id] = _Group(known.members if known else frozenset(), time.monotonic())


def remember_group(group_id: str, members: list[str]) -> None:
    with _groups_lock:
        _groups[group_id] = _Group(frozenset(members), time.monotonic())


def forget_groups() -> None:
    with _groups_lock:
        _groups.clear()
