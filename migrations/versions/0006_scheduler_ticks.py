"""ops: when each scheduler last ticked, for `epos doctor`

Revision ID: 0006_scheduler_ticks
Revises: 0005_stint_entries
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0006_scheduler_ticks"
down_revision = "0005_stint_entries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_ticks",
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("ticked_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_scheduler_ticks")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_ticks")
