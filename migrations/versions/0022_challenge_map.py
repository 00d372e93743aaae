"""engagements: challenge_id and need_ids, the engagement's place in the challenge map

The business challenge (top-down) and the technical needs (bottom-up) an engagement was opened with, as
the ids of bot/data/challenges.yaml (or the team's EPOS_CHALLENGES file). Both are empty on existing
engagements, which keep their free-text challenge and needs. And an index on the deal channel, which
`/asset` reads the needs of the deal from.

Revision ID: 0022_challenge_map
Revises: 0021_stage_webhooks
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_challenge_map"
down_revision = "0021_stage_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not a batch copy: with foreign keys on, dropping engagements deletes every stage change with it.
    op.add_column("engagements", sa.Column("challenge_id", sa.String(length=60), nullable=True))
    op.add_column("engagements", sa.Column("need_ids", sa.JSON(), nullable=True))
    # `/asset` in a deal channel reads the needs of the channel's engagements on every search.
    op.create_index("ix_engagements_channel", "engagements", ["channel_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_engagements_channel", table_name="engagements")
    op.drop_column("engagements", "need_ids")
    op.drop_column("engagements", "challenge_id")
