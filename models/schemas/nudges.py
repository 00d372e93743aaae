"""DTOs of the nudges domain: who gets a stale-engagement DM, with which lines, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from models.schemas.engagements import StaleEngagement


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# A nudge for everyone carries tens of thousands of lines, so lines and what holds them are plain tuples
# and dataclasses built from typed columns: validating them cost half of `epos nudges --dry-run`
# (docs/performance.md). A line is a `StaleEngagement`.
class QuietLine(NamedTuple):
    """A stale engagement that is not nudged now, and until when."""

    line: StaleEngagement
    reason: Literal["snoozed", "cooldown"]
    until: datetime


@dataclass(frozen=True, slots=True)
class SeNudge:
    """Everything one SE would be nudged about, most overdue first, and what is kept quiet."""

    owner_id: str
    lines: list[StaleEngagement]
    quiet: list[QuietLine]


@dataclass(frozen=True, slots=True)
class NudgePlanEntry:
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
