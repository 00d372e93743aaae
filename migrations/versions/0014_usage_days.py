"""usage_days: searches and looks at the figures, the only uses of epos that left no trace; indexes to
find what one person has done

The adoption figures and each person's getting-started checklist read what people did from the rows
their actions already write; a search that finds something and a look at the figures wrote nothing.

Revision ID: 0014_usage_days
Revises: 0013_pilots
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0014_usage_days"
down_revision = "0013_pilots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_days",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("feature", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "feature", "day", name=op.f("pk_usage_days")),
    )
    op.create_index("ix_usage_days_feature_at", "usage_days", ["feature", "at"], unique=False)
    # Each Home's checklist asks whether its person has done each step: by actor, not by a scan.
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_id", "entity", "action"], unique=False)
    op.create_index("ix_asset_shares_user_id", "asset_shares", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_asset_shares_user_id", table_name="asset_shares")
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.drop_index("ix_usage_days_feature_at", table_name="usage_days")
    op.drop_table("usage_days")
