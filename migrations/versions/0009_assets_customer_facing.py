"""assets: customer_facing, the only assets shared into a conversation with another organisation

Every existing asset starts internal: nobody has said yet that it was made to be shown to customers.

Revision ID: 0009_assets_customer_facing
Revises: 0008_import_staging
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_assets_customer_facing"
down_revision = "0008_import_staging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_facing", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("customer_facing")
