"""delivery claims: a delivery counts as handled only once its handling succeeded

A delivery's row is now written as a claim before it is handled (`done_at` unset) and marked done
afterwards; a failed handling deletes it, so the same delivery sent again is handled. Rows written
before this revision were handled.

Revision ID: 0007_delivery_claims
Revises: 0006_scheduler_ticks
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0007_delivery_claims"
down_revision = "0006_scheduler_ticks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE processed_deliveries SET done_at = seen_at")


def downgrade() -> None:
    op.execute("DELETE FROM processed_deliveries WHERE done_at IS NULL")
    with op.batch_alter_table("processed_deliveries", schema=None) as batch_op:
        batch_op.drop_column("done_at")
