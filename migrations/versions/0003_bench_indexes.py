"""indexes the figures need at scale: stage changes by effective date

The stage-log figures (dwell per stage, conversion) read only the engagements with a change in the
window; finding those by effective date needs this index. Without it every `epos stats`, App Home
figure and weekly digest reads the whole log (see docs/performance.md). This revision also joins the
three 0002 heads into one.

Revision ID: 0003_bench_indexes
Revises: 0002_assets_revision, 0002_devrel_recipient, 0002_engagements_reverts
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003_bench_indexes"
down_revision = ("0002_assets_revision", "0002_devrel_recipient", "0002_engagements_reverts")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.create_index("ix_stage_changes_effective_at", ["effective_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_changes_effective_at")
