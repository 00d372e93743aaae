"""What the stage checklists hand to the card, the forms and the figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.enums import Stage

ItemGroup = Literal["prerequisites", "calls_to_action", "deliverables"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChecklistLine(_Frozen):
    """One item of the stage's playbook on an engagement, ticked or not."""

    id: str
    group: ItemGroup
    text: str
    ticked: bool = False
    link: str | None = None
    ticked_by: str | None = None
    ticked_at: datetime | None = None


class StageChecklist(_Frozen):
    engagement_id: int
    stage: Stage
    lines: list[ChecklistLine]

    def open_deliverables(self) -> list[str]:
        return [line.text for line in self.lines if line.group == "deliverables" and not line.ticked]


class TickResult(_Frozen):
    checklist: StageChecklist
    ticked: list[str] = Field(default_factory=list)
    unticked: list[str] = Field(default_factory=list)
    # The deliverables just ticked: the person is offered to add a link to the first.
    deliverables_ticked: list[str] = Field(default_factory=list)


class DeliverableShare(_Frozen):
    """Of the engagements that left a stage in the window, how many had ticked all its deliverables."""

    left: int
    all_done: int
    share: float | None = None
    # Each deliverable by how many of those left the stage without it ticked, most often skipped first.
    skipped: dict[str, int] = Field(default_factory=dict)


class CompletionGroup(_Frozen):
    """Engagements closed in the window, by whether they ticked every deliverable of the stages they left."""

    closed: int
    won: int
    win_rate: float | None = None
    mttc_days_median: float | None = None


class DeliverableFigures(_Frozen):
    since: datetime
    until: datetime
    by_stage: dict[str, DeliverableShare]
    completed: CompletionGroup
    not_completed: CompletionGroup
    # Below this many engagements a figure shows its counts only.
    min_count: int

    def as_json(self) -> dict[str, Any]:
        """Under `deliverables` in `epos stats --json` and `epos digest --json`."""
        def group(figures: CompletionGroup) -> dict[str, Any]:
            return {"closed": figures.closed, "won": figures.won, "win_rate": _round(figures.win_rate),
                    "mttc_days_median": _round(figures.mttc_days_median)}

        return {
            "min_count": self.min_count,
            "by_stage": {stage: {"left": share.left, "all_done": share.all_done, "share": _round(share.share),
                                 "skipped": share.skipped}
                         for stage, share in self.by_stage.items()},
            "completed": group(self.completed),
            "not_completed": group(self.not_completed),
        }


def most_skipped(figures: DeliverableFigures, limit: int = 3) -> list[tuple[str, str, int]]:
    """(stage, deliverable, times left open) most often skipped, across the stages."""
    found = [(stage, text, count) for stage, share in figures.by_stage.items() for text, count in share.skipped.items()]
    return sorted(found, key=lambda item: (-item[2], item[0], item[1]))[:limit]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
