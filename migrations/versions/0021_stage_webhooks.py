"""stage webhooks: the outbox of calls to a stage's webhook, written with the stage change

Revision ID: 0021_stage_webhooks
Revises: 0020_stage_checklists
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0021_stage_webhooks"
down_revision = "0020_stage_checklists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_hook_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("alerted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["change_id"], ["stage_changes.id"],
                                name=op.f("fk_stage_hook_calls_change_id_stage_changes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagements.id"],
                                name=op.f("fk_stage_hook_calls_engagement_id_engagements"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_hook_calls")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_stage_hook_calls_delivery_id")),
    )
    op.create_index("ix_stage_hook_calls_due", "stage_hook_calls", ["status", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_stage_hook_calls_engagement_id"), "stage_hook_calls", ["engagement_id"], unique=False)
    op.create_index(op.f("ix_stage_hook_calls_change_id"), "stage_hook_calls", ["change_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_stage_hook_calls_change_id"), table_name="stage_hook_calls")
    op.drop_index(op.f("ix_stage_hook_calls_engagement_id"), table_name="stage_hook_calls")
    op.drop_index("ix_stage_hook_calls_due", table_name="stage_hook_calls")
    op.drop_table("stage_hook_calls")
