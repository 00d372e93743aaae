"""asset imports stamp their row as they write, so a stopped one is known within minutes

A pending import whose process was killed used to block the links it had staged for a day, with a
message saying another import was still running. `touched_at` is stamped by every write batch; an
import not stamped for a few minutes has stopped, and the next import clears it away.

Revision ID: 0012_import_heartbeat
Revises: 0011_staged_imports
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0012_import_heartbeat"
down_revision = "0011_staged_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("asset_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("touched_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE asset_imports SET touched_at = started_at")
    with op.batch_alter_table("asset_imports", schema=None) as batch_op:
        batch_op.alter_column("touched_at", existing_type=UTCDateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("asset_imports", schema=None) as batch_op:
        batch_op.drop_column("touched_at")
