"""assets: a verifier and a review interval, when each was last verified, and what epos has asked about it

Every existing asset counts as verified when it was last changed, so the first reviews fall due one
interval after that rather than all at once on the day this runs.

Revision ID: 0018_asset_verification
Revises: 0017_practice_engagements
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_asset_verification"
down_revision = "0017_practice_engagements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verifier_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("review_every_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("verified_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("review_reminded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("archive_proposed_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE assets SET verified_at = updated_at")


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        for column in ("archive_proposed_at", "review_reminded_at", "verified_by", "verified_at",
                       "review_every_days", "verifier_id"):
            batch_op.drop_column(column)
