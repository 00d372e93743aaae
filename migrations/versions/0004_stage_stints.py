"""stage stints: the dwell and conversion figures as aggregates over derived rows

One row per stint of an engagement in an open stage, derived from the standing stage log and kept in
step with it by the engagement service (bot/services/stints.py). Filled for the existing log by 0005,
with the statement the service runs on every write (it writes a column 0005 adds).

Revision ID: 0004_stage_stints
Revises: 0003_bench_indexes
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0004_stage_stints"
down_revision = "0003_bench_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_stints",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("left_at", UTCDateTime(), nullable=True),
        sa.Column("dwell_days", sa.Float(), nullable=True),
        sa.Column("advanced_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["change_id"], ["stage_changes.id"], name=op.f("fk_stage_stints_change_id_stage_changes"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagements.id"],
                                name=op.f("fk_stage_stints_engagement_id_engagements"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_stage_stints")),
    )
    op.create_index(op.f("ix_stage_stints_engagement_id"), "stage_stints", ["engagement_id"], unique=False)
    op.create_index("ix_stage_stints_left", "stage_stints", ["stage", "left_at", "dwell_days", "engagement_id"],
                    unique=False)
    op.create_index("ix_stage_stints_entered", "stage_stints",
                    ["stage", "entered_at", "engagement_id", "advanced_at"], unique=False)
    op.create_index("ix_stage_stints_dwell_order", "stage_stints", ["stage", "dwell_days", "left_at"], unique=False)
    # The rows are derived by 0005: the service's statement, which fills them, writes a column added there.


def downgrade() -> None:
    op.drop_index("ix_stage_stints_dwell_order", table_name="stage_stints")
    op.drop_index("ix_stage_stints_entered", table_name="stage_stints")
    op.drop_index("ix_stage_stints_left", table_name="stage_stints")
    op.drop_index(op.f("ix_stage_stints_engagement_id"), table_name="stage_stints")
    op.drop_table("stage_stints")
