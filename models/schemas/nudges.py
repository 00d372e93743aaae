"""DTOs of the nudges domain: who gets a stale-engagement DM, with which lines, and why."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from models.enums import Stage


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class NudgeLine(_Frozen):
    """One stale engagement as the owner's DM lists it."""

    engagement_id: int
    account: str
    opportunity: str
    stage: Stage
    days_idle: int
    stale_after_days: int
    last_activity_at: datetime
    stale_since: datetime

    @property
    def days_over(self) -> int:
        return max(0, self.days_idle - self.stale_after_days)


class QuietLine(_Frozen):
    """A stale engagement that is not nudged now, and until when."""

    line: NudgeLine
    reason: Literal["snoozed", "cooldown"]
    until: datetime


class SeNudge(_Frozen):
    """Everything one SE would be nudged about, most overdue first, and what is kept quiet."""

    owner_id: str
    lines: list[NudgeLine]
    quiet: list[QuietLine]


class NudgePlanEntry(_Frozen):
    """For `epos nudges`: one SE, their local day, whether the DM is due now, and what it would list."""

    nudge: SeNudge
    timezone: str
    local_day: date
    due_at: datetime
    state: Literal["due", "sent", "later", "missed", "weekend", "nothing"]


class SnoozeResult(_Frozen):
    engagement_id: int
    account: str
    opportunity: str
    owner_id: str
    snoozed_until: datetime | None


class NudgeRun(_Frozen):
    """What one nudge run did: who got a DM, whose DM failed (and will be retried), who was nudged already
    today, and who has stale engagements that are all snoozed or in their cooldown."""

    sent: list[str]
    failed: dict[str, str]
    skipped: list[str]
    quiet: list[str]
