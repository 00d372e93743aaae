"""The checklist figures on a hand-computed fixture: the share of engagements that left a stage with its
deliverables done, and MTTC and win rate of those that did against those that did not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.services import engagements, playbooks
from bot.services.deliverable_figures import deliverable_figures
from bot.services.engagements import checklists
from models.enums import OPEN_STAGES, Outcome, Stage
from models.schemas.engagements import NewEngagementIn
from tests.conftest import SELLER
from tests.engagements_helpers import SE_ACTOR, close, move, open_engagement, utc


@pytest.fixture(autouse=True)
def _only_discovery_has_deliverables(tmp_path: Path) -> Iterator[None]:
    data = yaml.safe_load(playbooks.DEFAULT_PLAYBOOKS.read_text())
    for stage in OPEN_STAGES:
        data[stage.value]["deliverables"] = []
    data["discovery"]["deliverables"] = [{"id": "summary", "text": "Discovery summary"}, "Agreed next step"]
    path = tmp_path / "playbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    playbooks.configure(path)
    yield
    playbooks.configure(None)


def deal(name: str, *, ticks: int, outcome: Outcome, days: int, practice: bool = False) -> None:
    """Opened in discovery on 1 October, `ticks` of its two deliverables ticked, on to the demo the next day,
    closed `days` after opening."""
    if practice:
        engagement_id = engagements.create(SE_ACTOR, NewEngagementIn(
            account=name, opportunity="Practice", seller_id=SELLER, focus="observability", stage=Stage.discovery),
            now=utc("2026-10-01 09:00"), practice=True).engagement.id
    else:
        engagement_id = open_engagement(name, "2026-10-01 09:00", stage=Stage.discovery)
    items = [line.id for line in checklists.checklist(engagement_id).lines if line.group == "deliverables"]
    checklists.set_ticks(SE_ACTOR, engagement_id, Stage.discovery, {item: True for item in items[:ticks]},
                         now=utc("2026-10-01 10:00"))
    move(engagement_id, Stage.demo, "2026-10-02 09:00")
    close(engagement_id, outcome, f"2026-10-{1 + days:02d} 09:00")


def test_the_figures_on_a_hand_computed_month(database_url: str) -> None:
    # Completed: 10, 20, 30, 5, 15 days; won, won, lost, won, lost.
    deal("A", ticks=2, outcome=Outcome.won, days=10)
    deal("B", ticks=2, outcome=Outcome.won, days=20)
    deal("C", ticks=2, outcome=Outcome.lost, days=29)
    deal("D", ticks=2, outcome=Outcome.won, days=5)
    deal("E", ticks=2, outcome=Outcome.lost, days=15)
    # Not completed: one deliverable of two, or none.
    deal("F", ticks=1, outcome=Outcome.won, days=8)
    deal("G", ticks=0, outcome=Outcome.lost, days=12)
    deal("Practice", ticks=2, outcome=Outcome.won, days=3, practice=True)

    found = deliverable_figures(utc("2026-10-01"), utc("2026-11-01"))

    assert list(found.by_stage) == ["discovery"]
    # F ticked the summary only, G nothing: the next step was left open twice, the summary once.
    assert found.by_stage["discovery"].model_dump() == {"left": 7, "all_done": 5, "share": 5 / 7,
                                                        "skipped": {"Agreed next step": 2, "Discovery summary": 1}}
    assert found.completed.model_dump() == {"closed": 5, "won": 3, "win_rate": 0.6, "mttc_days_median": 15.0}
    # Two engagements say nothing yet: the counts only.
    assert found.not_completed.model_dump() == {"closed": 2, "won": 1, "win_rate": None, "mttc_days_median": None}
    earlier = deliverable_figures(utc("2026-09-01"), utc("2026-10-01"))
    assert earlier.by_stage["discovery"].left == 0 and earlier.completed.closed == 0
