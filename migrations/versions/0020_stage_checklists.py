"""checklist_ticks: the stage playbooks' items ticked on an engagement, by whom and when

Revision ID: 0020_stage_checklists
Revises: 0019_asset_parts_and_gaps
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0020_stage_checklists"
down_revision = "0019_asset_parts_and_gaps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checklist_ticks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("item_group", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=3000), nullable=True),
        sa.Column("ticked_by", sa.String(length=32), nullable=False),
        sa.Column("ticked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagements.id"],
                                name=op.f("fk_checklist_ticks_engagement_id_engagements"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_ticks")),
        sa.UniqueConstraint("engagement_id", "stage", "item_id",
                            name=op.f("uq_checklist_ticks_engagement_id_stage_item_id")),
    )
    op.create_index(op.f("ix_checklist_ticks_engagement_id"), "checklist_ticks", ["engagement_id"])


def downgrade() -> None:
    op.drop_table("checklist_ticks")
