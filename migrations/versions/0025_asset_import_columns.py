"""asset_import_changes holds the file's asset in the catalogue's own columns, with the revision the import
read, so an asset import goes live with a few statements whatever its size

Revision ID: 0025_asset_import_columns
Revises: 0024_roster_import_columns
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0025_asset_import_columns"
down_revision = "0024_roster_import_columns"
branch_labels = None
depends_on = None


def _keys() -> list[sa.schema.SchemaItem]:
    return [
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_asset_import_changes_asset_id_assets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_id"], ["asset_imports.id"],
                                name=op.f("fk_asset_import_changes_import_id_asset_imports"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("import_id", "asset_id", name=op.f("pk_asset_import_changes")),
    ]


def upgrade() -> None:
    # The table holds only the changes of imports still running, which no import outlives a deploy with.
    op.drop_table("asset_import_changes")
    op.create_table(
        "asset_import_changes",
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=19), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("depth", sa.String(length=6), nullable=False),
        sa.Column("scope", sa.String(length=6), nullable=False),
        sa.Column("interactivity", sa.String(length=12), nullable=False),
        sa.Column("cycle", sa.String(length=5), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("customer_facing", sa.Boolean(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=True),
        sa.Column("verifier_id", sa.String(length=32), nullable=True),
        sa.Column("review_every_days", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=9), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("new_verifier", sa.Boolean(), nullable=False),
        sa.Column("seen_revision", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        *_keys(),
    )


def downgrade() -> None:
    op.drop_table("asset_import_changes")
    op.create_table(
        "asset_import_changes",
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        *_keys(),
    )
