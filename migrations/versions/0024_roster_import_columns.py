"""roster_import_changes holds the file's person in the roster's own columns, and devrel_people counts
their changes (`version`), so a roster import goes live with a few statements whatever its size

Revision ID: 0024_roster_import_columns
Revises: 0023_playbook_posts
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_roster_import_columns"
down_revision = "0023_playbook_posts"
branch_labels = None
depends_on = None


def _keys() -> list[sa.schema.SchemaItem]:
    return [
        sa.ForeignKeyConstraint(["import_id"], ["data_imports.id"],
                                name=op.f("fk_roster_import_changes_import_id_data_imports"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["devrel_people.id"],
                                name=op.f("fk_roster_import_changes_person_id_devrel_people"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("import_id", "person_id", name=op.f("pk_roster_import_changes")),
    ]


def upgrade() -> None:
    op.add_column("devrel_people", sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    # The table holds only the changes of imports still running, which no import outlives a deploy with.
    op.drop_table("roster_import_changes")
    op.create_table(
        "roster_import_changes",
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("work_start", sa.Time(), nullable=False),
        sa.Column("work_end", sa.Time(), nullable=False),
        sa.Column("weekly_capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("out_of_office_until", sa.Date(), nullable=True),
        sa.Column("seen_version", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        *_keys(),
    )


def downgrade() -> None:
    op.drop_table("roster_import_changes")
    op.create_table(
        "roster_import_changes",
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        *_keys(),
    )
    with op.batch_alter_table("devrel_people") as table:
        table.drop_column("version")
