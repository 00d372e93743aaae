"""engagement and roster imports: rows are staged out of sight and go live in one short transaction

An import of engagements or of the roster used to write the whole file in one transaction. Its rows are
now written in short batches tagged with a pending import (`data_imports`), which every read leaves out
(models/imports.py); changes to people already on the roster wait in `roster_import_changes`. The
covering indexes the figures read gain `import_id`, which every read now filters on.

Revision ID: 0011_staged_imports
Revises: 0010_claim_posting
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0011_staged_imports"
down_revision = "0010_claim_posting"
branch_labels = None
depends_on = None

STAGED = ("engagements", "stage_changes", "stage_stints", "devrel_people")
# Covering indexes: (table, name, columns before import_id was added).
COVERING = (
    ("engagements", "ix_engagements_closed", ["closed_at", "outcome", "opened_at", "owner_id"]),
    ("stage_stints", "ix_stage_stints_left", ["stage", "left_at", "dwell_days", "engagement_id"]),
    ("stage_stints", "ix_stage_stints_entries",
     ["stage", "entered_at", "previous_entered_at", "advanced_at", "engagement_id"]),
    ("stage_stints", "ix_stage_stints_dwell_order", ["stage", "dwell_days", "left_at"]),
)


def upgrade() -> None:
    op.create_table(
        "data_imports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("live_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_imports")),
    )
    op.create_table(
        "roster_import_changes",
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["data_imports.id"],
                                name=op.f("fk_roster_import_changes_import_id_data_imports"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["devrel_people.id"],
                                name=op.f("fk_roster_import_changes_person_id_devrel_people"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("import_id", "person_id", name=op.f("pk_roster_import_changes")),
    )
    # A plain nullable column, no foreign key: SQLite adds it in place, where a key would copy the table.
    for table in STAGED:
        op.add_column(table, sa.Column("import_id", sa.String(length=32), nullable=True))
        op.create_index(op.f(f"ix_{table}_import_id"), table, ["import_id"], unique=False)
    for table, name, columns in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [*columns, "import_id"], unique=False)
    op.create_index("ix_engagements_account_lower", "engagements", [sa.text("lower(account)")], unique=False)


def downgrade() -> None:
    op.drop_index("ix_engagements_account_lower", table_name="engagements")
    for table, name, columns in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
    for table in STAGED:
        op.drop_index(op.f(f"ix_{table}_import_id"), table_name=table)
        # In place (SQLite 3.35+ drops a column itself): a batch copy would drop the table, and with foreign
        # keys on, dropping engagements deletes every stage change with it.
        op.drop_column(table, "import_id")
    op.drop_table("roster_import_changes")
    op.drop_table("data_imports")
