"""What the pilot and cohort services hand out."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from models.schemas.engagements import EsatFigures, Figures


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PilotMemberOut(_Frozen):
    slack_id: str
    joined_on: date
    left_on: date | None = None


class PilotOut(_Frozen):
    id: int
    name: str
    start_on: date
    end_on: date | None = None
    members: tuple[PilotMemberOut, ...] = ()

    @property
    def current_members(self) -> list[str]:
        return [member.slack_id for member in self.members if member.left_on is None]

    def running_on(self, day: date) -> bool:
        return self.start_on <= day and (self.end_on is None or day <= self.end_on)


class GroupFigures(_Frozen):
    """One cohort: engagements opened in its dates, and how those that closed did."""

    engagements: int
    closed: dict[str, int]
    mttc_days: Figures
    win_rate: float | None
    stage_dwell_days_median: dict[str, float | None]
    esat: EsatFigures

    @property
    def closed_total(self) -> int:
        return sum(self.closed.values())


class Difference(_Frozen):
    value: float | None
    ci95: tuple[float, float] | None


class Comparison(_Frozen):
    pilot: PilotOut
    baseline_kind: str
    pilot_group: GroupFigures
    baseline_group: GroupFigures
    mttc_days_median: Difference
    win_rate: Difference
    verdict: str


class InteractionFigures(_Frozen):
    """Engagements closed in a window that used a given number of field-asset interactions."""

    closed: int
    win_rate: float | None
    mttc_days_median: float | None
