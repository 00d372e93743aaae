"""devrel: who each request message was sent to, so it can be redrawn for them

Revision ID: 0002_devrel_recipient
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_devrel_recipient"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devrel_request_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devrel_request_messages", schema=None) as batch_op:
        batch_op.drop_column("recipient_id")
