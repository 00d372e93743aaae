"""assets: a catalogue revision counter, so every replica's search index can catch up cheaply

Revision ID: 0002_assets_revision
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_assets_revision"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_catalogue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_catalogue")),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_assets_revision"), ["revision"], unique=False)
    # Rows that exist before the counter are all at revision 0; an index built from them starts there.


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assets_revision"))
        batch_op.drop_column("revision")
    op.drop_table("asset_catalogue")
