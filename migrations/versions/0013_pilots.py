"""pilots and their members

A pilot is a named group of SEs trying the guided path from a start date; its figures are compared with
everyone else's (bot/services/cohorts.py).

Revision ID: 0013_pilots
Revises: 0012_import_heartbeat
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0013_pilots"
down_revision = "0012_import_heartbeat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pilots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pilots")),
        sa.UniqueConstraint("name", name=op.f("uq_pilots_name")),
    )
    op.create_table(
        "pilot_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("slack_id", sa.String(length=32), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["pilot_id"], ["pilots.id"], name=op.f("fk_pilot_members_pilot_id_pilots"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pilot_members")),
        sa.UniqueConstraint("pilot_id", "slack_id", name=op.f("uq_pilot_members_pilot_id_slack_id")),
    )
    op.create_index(op.f("ix_pilot_members_pilot_id"), "pilot_members", ["pilot_id"])
    op.create_index(op.f("ix_pilot_members_slack_id"), "pilot_members", ["slack_id"])


def downgrade() -> None:
    op.drop_table("pilot_members")
    op.drop_table("pilots")
