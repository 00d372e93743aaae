"""The figures read only a window's share of the stage log; they must equal the figures read from all of it.

The stints behind dwell and conversion are kept up on every write; they must equal a rebuild from the log.

Random histories are made through the engagement service (moves forward and back, backdated moves, undos,
closes and reopens) and every figure of `team_metrics` is compared, for several windows, with a plain
computation over the whole log from the definitions in README › Engagements › Figures. The digest's
per-SE totals and trailing MTTC must equal what `team_metrics` gives for one SE or one window.
"""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import db
from bot.errors import Conflict, InvalidInput
from bot.services import engagements, metrics, stints
from bot.services.actors import Actor
from models import Engagement, StageChange, StageStint
from models.enums import OPEN_STAGES, Outcome, Stage
from tests.engagements_helpers import open_engagement, utc

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "engagements.yaml"
OWNERS = ("U0WIN0001", "U0WIN0002", "U0WIN0003")
START = utc("2026-03-02")
WINDOWS = (
    (utc("2026-03-02"), utc("2026-03-09")),
    (utc("2026-03-10 12:00"), utc("2026-04-02")),
    (utc("2026-04-01"), utc("2026-06-01")),
    (utc("2025-01-01"), utc("2027-01-01")),  # before the first change: the whole log
)
RANK = {stage.value: position for position, stage in enumerate(Stage)}


def random_history(seed: int, count: int = 18) -> None:
    rng = random.Random(seed)
    for number in range(count):
        owner = OWNERS[number % len(OWNERS)]
        actor = Actor(user_id=owner)
        now = START + timedelta(hours=rng.randint(0, 24 * 30))
        engagement_id = open_engagement(f"Account {seed}-{number}", now.strftime("%Y-%m-%d %H:%M"), owner=owner,
                                        stage=rng.choice(OPEN_STAGES[:3]))
        last_effective = now
        for _ in range(rng.randint(1, 9)):
            now += timedelta(hours=rng.randint(1, 24 * 6))
            # Now and then a move is logged later than it happened, never before the last change.
            effective = max(last_effective, now - timedelta(hours=rng.choice((0, 0, 0, 30))))
            roll = rng.random()
            try:
                if roll < 0.15:
                    outcome = rng.choice(list(Outcome))
                    engagements.close(actor, engagement_id, outcome, effective_at=effective, now=now)
                    if rng.random() < 0.4:
                        now += timedelta(hours=rng.randint(1, 48))
                        engagements.reopen(actor, engagement_id, now=now)
                        effective = now
                    else:
                        break
                else:
                    current = _stage_of(engagement_id)
                    target = rng.choice([stage for stage in OPEN_STAGES if stage.value != current])
                    result = engagements.change_stage(actor, engagement_id, target, effective_at=effective, now=now)
                    if rng.random() < 0.2:
                        now += timedelta(minutes=rng.randint(1, 90))
                        engagements.undo(actor, result.change_id, now=now)
                        effective = now
            except (Conflict, InvalidInput):
                continue
            last_effective = max(last_effective, effective)


def _stage_of(engagement_id: int) -> str:
    with db.reading() as session:
        return str(session.scalar(select(Engagement.stage).where(Engagement.id == engagement_id)))


def reference(since: datetime, until: datetime, owner_id: str | None = None) -> dict[str, object]:
    """The figures straight from the definitions, over every row of the log."""
    with db.reading() as session:
        rows = session.execute(select(Engagement.id, Engagement.owner_id, Engagement.opened_at, Engagement.closed_at,
                                      Engagement.outcome)).all()
        log = session.execute(select(StageChange.id, StageChange.engagement_id, StageChange.to_stage,
                                     StageChange.outcome, StageChange.effective_at, StageChange.reverts_id)).all()
    mine = {row.id for row in rows if owner_id is None or row.owner_id == owner_id}
    taken_back = {change.reverts_id for change in log if change.reverts_id is not None}
    standing: dict[int, list] = {}
    everything: dict[int, list] = {}
    for change in sorted(log, key=lambda c: (c.effective_at, c.id)):
        if change.engagement_id not in mine:
            continue
        everything.setdefault(change.engagement_id, []).append(change)
        if change.reverts_id is None and change.id not in taken_back:
            standing.setdefault(change.engagement_id, []).append(change)

    closed = [row for row in rows if row.id in mine and row.closed_at is not None and since <= row.closed_at < until]
    days = [(row.closed_at - row.opened_at).total_seconds() / 86400 for row in closed]
    stints: dict[str, list[float]] = {stage.value: [] for stage in OPEN_STAGES}
    entered: dict[str, set[int]] = {stage.value: set() for stage in OPEN_STAGES}
    advanced: dict[str, set[int]] = {stage.value: set() for stage in OPEN_STAGES}
    for engagement_id, changes in standing.items():
        for before, after in zip(changes, changes[1:]):
            if since <= after.effective_at < until and before.to_stage != Stage.closed:
                stints[before.to_stage].append((after.effective_at - before.effective_at).total_seconds() / 86400)
        for position, entry in enumerate(changes):
            if entry.to_stage == Stage.closed or not since <= entry.effective_at < until:
                continue
            entered[entry.to_stage].add(engagement_id)
            if any(later.effective_at < until and RANK[later.to_stage] > RANK[entry.to_stage]
                   and (later.to_stage != Stage.closed or later.outcome == Outcome.won)
                   for later in changes[position + 1:]):
                advanced[entry.to_stage].add(engagement_id)
    open_by_stage = {stage.value: 0 for stage in OPEN_STAGES}
    for changes in everything.values():
        before_until = [change for change in changes if change.effective_at < until]
        if before_until and before_until[-1].to_stage != Stage.closed:
            open_by_stage[before_until[-1].to_stage] += 1
    return {
        "closed": {o.value: sum(1 for row in closed if row.outcome == o.value) for o in Outcome},
        "mttc": (statistics.fmean(days) if days else None, statistics.median(days) if days else None, len(days)),
        "dwell": {stage: statistics.median(values) if values else None for stage, values in stints.items()},
        "conversion": {stage: len(advanced[stage]) / len(ids) if ids else None for stage, ids in entered.items()},
        "open_by_stage": open_by_stage,
    }


def _approx(values: dict[str, float | None]) -> dict[str, object]:
    return {key: None if value is None else pytest.approx(value, abs=1e-6) for key, value in values.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_window_figures_equal_the_figures_of_the_whole_log(database_url: str, seed: int) -> None:
    random_history(seed)

    for since, until in WINDOWS:
        for owner_id in (None, OWNERS[0]):
            expected = reference(since, until, owner_id)
            figures = metrics.team_metrics(since, until, owner_id=owner_id)

            assert figures.closed == expected["closed"], (since, until, owner_id)
            mean, median, count = expected["mttc"]
            assert (figures.mttc_days.count, figures.mttc_days.mean, figures.mttc_days.median) == (
                count, None if mean is None else pytest.approx(mean, abs=1e-6),
                None if median is None else pytest.approx(median, abs=1e-6))
            assert figures.stage_dwell_days_median == _approx(expected["dwell"]), (since, until, owner_id)
            assert figures.stage_conversion == _approx(expected["conversion"]), (since, until, owner_id)
            assert figures.open_by_stage == expected["open_by_stage"], (since, until, owner_id)


@pytest.mark.parametrize("seed", [4, 5])
def test_per_se_totals_and_trailing_mttc_equal_team_metrics(database_url: str, seed: int) -> None:
    random_history(seed)

    for since, until in WINDOWS:
        totals = metrics.owner_totals(since, until)
        for owner_id in OWNERS:
            one = metrics.team_metrics(since, until, owner_id=owner_id)
            if sum(one.open_by_stage.values()) == 0 and one.closed_total == 0:
                assert owner_id not in totals
                continue
            mine = totals[owner_id]
            assert mine.closed == one.closed
            assert mine.open == sum(one.open_by_stage.values())
            assert mine.win_rate == one.win_rate
            assert mine.mttc_days == one.mttc_days
        assert metrics.mttc(since, until) == metrics.team_metrics(since, until).mttc_days


def test_a_window_with_nothing_in_it_has_no_se_totals(database_url: str) -> None:
    random_history(6, count=4)

    assert metrics.owner_totals(utc("2020-01-01"), utc("2020-02-01")) == {}
    assert metrics.mttc(utc("2020-01-01"), utc("2020-02-01")).count == 0


def _stints() -> list[tuple[object, ...]]:
    with db.reading() as session:
        return [tuple(row) for row in session.execute(
            select(StageStint.change_id, StageStint.engagement_id, StageStint.stage, StageStint.entered_at,
                   StageStint.previous_entered_at, StageStint.left_at, StageStint.dwell_days, StageStint.advanced_at)
            .order_by(StageStint.change_id)
        )]


@pytest.mark.parametrize("seed", [7, 8])
def test_every_write_to_the_log_leaves_the_stints_a_rebuild_would_give(database_url: str, seed: int) -> None:
    random_history(seed)
    records = engagements.parse_import(EXAMPLES.read_text(), "yaml", now=utc("2026-11-20"))
    engagements.import_records(records, now=utc("2026-11-20"))
    kept_up = _stints()

    with db.transaction() as session:
        stints.refresh(session, None)

    assert kept_up == _stints()
    assert {stage for _, _, stage, *_ in kept_up} == {stage.value for stage in OPEN_STAGES}
