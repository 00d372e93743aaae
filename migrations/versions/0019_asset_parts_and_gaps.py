"""assets: labelled links to their parts and a workshop's marketing partner; search_misses: partial gaps

An asset may carry links to its parts besides its main link (a demo's script, a workshop's student
notebooks and instructor deck, a proofshop's success criteria), and a Marketing Workshop may name the
person in Marketing it is planned with. A search whose best answer covered only some of its words is
recorded as a partial gap, with the words that matched and those that did not; a search that found
nothing keeps both lists empty.

Revision ID: 0019_asset_parts_and_gaps
Revises: 0018_asset_verification
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_asset_parts_and_gaps"
down_revision = "0018_asset_verification"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parts", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("partner_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("search_misses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matched", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("unmatched", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("search_misses", schema=None) as batch_op:
        batch_op.drop_column("unmatched")
        batch_op.drop_column("matched")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("partner_id")
        batch_op.drop_column("parts")
