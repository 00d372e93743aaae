"""claims remember a post whose outcome is unknown

A scheduled post whose answer never came (Slack accepted it but answered after the client's timeout, or
the process stopped mid-post) must be neither lost nor posted twice. `posting_since` marks the claim
from just before the post until Slack's answer settles it, so the next holder knows to look for the
post in the channel first.

Revision ID: 0010_claim_posting
Revises: 0009_assets_customer_facing
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0010_claim_posting"
down_revision = "0009_assets_customer_facing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posting_since", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_claims", schema=None) as batch_op:
        batch_op.drop_column("posting_since")
