"""playbook_posts: each stage's playbook as posted, with the assets it lists, so archiving an asset redraws
the posts that list it

Revision ID: 0023_playbook_posts
Revises: 0022_challenge_map
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0023_playbook_posts"
down_revision = "0022_challenge_map"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "playbook_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("posted_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagements.id"],
                                name=op.f("fk_playbook_posts_engagement_id_engagements"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_posts")),
    )
    op.create_index(op.f("ix_playbook_posts_engagement_id"), "playbook_posts", ["engagement_id"], unique=False)
    op.create_table(
        "playbook_post_assets",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["playbook_posts.id"],
                                name=op.f("fk_playbook_post_assets_post_id_playbook_posts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_playbook_post_assets_asset_id_assets"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "asset_id", name=op.f("pk_playbook_post_assets")),
    )
    op.create_index(op.f("ix_playbook_post_assets_asset_id"), "playbook_post_assets", ["asset_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_playbook_post_assets_asset_id"), table_name="playbook_post_assets")
    op.drop_table("playbook_post_assets")
    op.drop_index(op.f("ix_playbook_posts_engagement_id"), table_name="playbook_posts")
    op.drop_table("playbook_posts")
