"""The stage stints behind the dwell and conversion figures, kept in step with the stage log.

Every write to an engagement's stage log (open, stage change, close, undo, reopen, import) calls
`refresh` for that engagement in the same transaction. The rows are derived by one set-based statement
over the standing log, the same statement the migration used to fill the table for existing data, so
a figure never depends on which path wrote the log.

A practice engagement has no stints: they exist for the figures, and it counts in none.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from bot.services.metrics import effective_changes
from bot.services.sql import STAGE_RANK, epoch_days, stage_rank
from models import Engagement, StageChange, StageStint
from models.enums import OPEN_STAGES, Outcome, Stage

# Engagement ids per statement, well under SQLite's limit on bound parameters.
_CHUNK = 500


def refresh(session: Session | Connection, engagement_ids: Collection[int] | None) -> None:
    """Rebuild the stints of these engagements (None: of every engagement) from their standing stage log."""
    if engagement_ids is None:
        session.execute(delete(StageStint))
        _insert_stints(session, None)
        return
    ids = sorted(set(engagement_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        session.execute(delete(StageStint).where(StageStint.engagement_id.in_(chunk)))
        practice = set(session.scalars(select(Engagement.id).where(Engagement.id.in_(chunk), Engagement.practice)))
        if practice:
            chunk = [engagement_id for engagement_id in chunk if engagement_id not in practice]
        if chunk:
            _insert_stints(session, chunk)


def _insert_stints(session: Session | Connection, engagement_ids: list[int] | None) -> None:
    # Only the columns it reads: migration 0005 runs this on a log without the columns added later.
    standing_log = effective_changes().with_only_columns(
        StageChange.id, StageChange.engagement_id, StageChange.to_stage, StageChange.outcome, StageChange.effective_at,
        maintain_column_froms=True)
    if engagement_ids is not None:
        standing_log = standing_log.where(StageChange.engagement_id.in_(engagement_ids))
    standing = standing_log.subquery("standing")
    # How far a change took the engagement: its stage's rank, a close only when won.
    reach = case(
        (and_(standing.c.to_stage == Stage.closed.value, standing.c.outcome != Outcome.won.value), -1),
        else_=stage_rank(standing.c.to_stage),
    )
    in_order = dict(partition_by=standing.c.engagement_id, order_by=(standing.c.effective_at, standing.c.id))
    after_this = dict(in_order, rows=(1, None))
    # For each open stage, when the engagement next went beyond it after this change: one windowed MIN per
    # stage over the changes that follow, so the whole log is derived in one sorted pass.
    next_beyond = {
        stage.value: func.min(case((reach > STAGE_RANK[stage], standing.c.effective_at), else_=None)).over(**after_this)
        for stage in OPEN_STAGES
    }
    walked = select(
        standing.c.id,
        standing.c.engagement_id,
        standing.c.to_stage,
        standing.c.effective_at,
        func.lead(standing.c.effective_at).over(**in_order).label("left_at"),
        func.lag(standing.c.effective_at).over(
            partition_by=(standing.c.engagement_id, standing.c.to_stage),
            order_by=(standing.c.effective_at, standing.c.id),
        ).label("previous_entered_at"),
        case(next_beyond, value=standing.c.to_stage, else_=None).label("advanced_at"),
    ).subquery()
    stints = select(
        walked.c.id,
        walked.c.engagement_id,
        walked.c.to_stage,
        walked.c.effective_at,
        walked.c.previous_entered_at,
        walked.c.left_at,
        epoch_days(walked.c.left_at) - epoch_days(walked.c.effective_at),
        walked.c.advanced_at,
    ).where(walked.c.to_stage.in_([stage.value for stage in OPEN_STAGES]))
    session.execute(insert(StageStint).from_select(
        ["change_id", "engagement_id", "stage", "entered_at", "previous_entered_at", "left_at", "dwell_days",
         "advanced_at"], stints
    ))
