"""engagements: practice, an engagement opened to learn the EPOS process on, counted in no figure

Every existing engagement is a real one. The index the figures read closed engagements from covers the
new column too, so leaving practice engagements out costs those reads nothing.

Revision ID: 0017_practice_engagements
Revises: 0014_usage_days
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_practice_engagements"
down_revision = "0014_usage_days"
branch_labels = None
depends_on = None

CLOSED = ["closed_at", "outcome", "opened_at", "owner_id", "import_id"]


def upgrade() -> None:
    # In place, not a batch copy: with foreign keys on, dropping engagements deletes every stage change with it.
    op.add_column("engagements", sa.Column("practice", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.drop_index("ix_engagements_closed", table_name="engagements")
    op.create_index("ix_engagements_closed", "engagements", [*CLOSED, "practice"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_engagements_closed", table_name="engagements")
    op.create_index("ix_engagements_closed", "engagements", CLOSED, unique=False)
    op.drop_column("engagements", "practice")
