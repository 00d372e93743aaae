"""asset imports: new assets are staged out of sight and go live in one short transaction

An import of a large catalogue used to write every row, and hold the catalogue revision, in one
transaction. Its new assets are now written in short batches tagged with the import, and changes to
existing assets wait in `asset_import_changes`; setting the import's revision makes them visible.

Revision ID: 0008_import_staging
Revises: 0007_delivery_claims
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0008_import_staging"
down_revision = "0007_delivery_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_imports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_imports")),
    )
    op.create_index(op.f("ix_asset_imports_revision"), "asset_imports", ["revision"], unique=False)
    op.create_table(
        "asset_import_changes",
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_asset_import_changes_asset_id_assets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_id"], ["asset_imports.id"],
                                name=op.f("fk_asset_import_changes_import_id_asset_imports"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("import_id", "asset_id", name=op.f("pk_asset_import_changes")),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_assets_import_id"), ["import_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_assets_import_id_asset_imports"), "asset_imports",
                                    ["import_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assets_import_id_asset_imports"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_assets_import_id"))
        batch_op.drop_column("import_id")
    op.drop_table("asset_import_changes")
    op.drop_index(op.f("ix_asset_imports_revision"), table_name="asset_imports")
    op.drop_table("asset_imports")
