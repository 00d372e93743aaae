"""engagements: a stage change may revert an earlier one (undo, reopen)

Revision ID: 0002_engagements_reverts
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_engagements_reverts"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reverts_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_stage_changes_reverts_id_stage_changes"), "stage_changes", ["reverts_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_stage_changes_reverts_id"), ["reverts_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_changes_reverts_id"))
        batch_op.drop_constraint(batch_op.f("fk_stage_changes_reverts_id_stage_changes"), type_="foreignkey")
        batch_op.drop_column("reverts_id")
