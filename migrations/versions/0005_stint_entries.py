"""stint entries and closes: conversion as a plain count, MTTC from an index

Each stint records when the engagement last entered the same stage before it, so conversion counts an
engagement's first entry in a window without a distinct count over every stint (which sorts or hashes
them all: most of `epos stats` over all time on PostgreSQL, a third of it on SQLite). The index on
engagements' close dates also holds the columns MTTC and the closed counts read, so SQLite no longer
looks up each closed engagement's row (over all time five times the cost of reading the index).

The stints are derived here from the stage log as it stands (0004 only creates their table): the
service's statement that derives them writes the column added here.

Revision ID: 0005_stint_entries
Revises: 0004_stage_stints
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0005_stint_entries"
down_revision = "0004_stage_stints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stage_stints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_entered_at", UTCDateTime(), nullable=True))
        batch_op.drop_index("ix_stage_stints_entered")
        batch_op.create_index("ix_stage_stints_entries",
                              ["stage", "entered_at", "previous_entered_at", "advanced_at", "engagement_id"],
                              unique=False)
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index("ix_engagements_closed_at")
        batch_op.create_index("ix_engagements_closed", ["closed_at", "outcome", "opened_at", "owner_id"], unique=False)

    # Imported here, not at the top: the statement is the service's, run once for the log as it stands.
    from bot.services import stints

    stints.refresh(op.get_bind(), None)


def downgrade() -> None:
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index("ix_engagements_closed")
        batch_op.create_index("ix_engagements_closed_at", ["closed_at"], unique=False)
    with op.batch_alter_table("stage_stints", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_stints_entries")
        batch_op.create_index("ix_stage_stints_entered", ["stage", "entered_at", "engagement_id", "advanced_at"],
                              unique=False)
        batch_op.drop_column("previous_entered_at")
