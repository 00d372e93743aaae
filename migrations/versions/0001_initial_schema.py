"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=19), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('products', sa.JSON(), nullable=False),
    sa.Column('depth', sa.String(length=6), nullable=False),
    sa.Column('scope', sa.String(length=6), nullable=False),
    sa.Column('interactivity', sa.String(length=12), nullable=False),
    sa.Column('cycle', sa.String(length=5), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=9), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('share_count', sa.Integer(), nullable=False),
    sa.Column('useful_count', sa.Integer(), nullable=False),
    sa.Column('not_useful_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets')),
    sa.UniqueConstraint('url', name=op.f('uq_assets_url'))
    )
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assets_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_assets_updated_at'), ['updated_at'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('devrel_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slack_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('work_start', sa.Time(), nullable=False),
    sa.Column('work_end', sa.Time(), nullable=False),
    sa.Column('weekly_capacity', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('out_of_office_until', sa.Date(), nullable=True),
    sa.Column('last_assigned_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devrel_people')),
    sa.UniqueConstraint('slack_id', name=op.f('uq_devrel_people_slack_id'))
    )
    op.create_table('engagements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('opportunity', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('seller_id', sa.String(length=32), nullable=False),
    sa.Column('focus', sa.String(length=100), nullable=False),
    sa.Column('business_challenge', sa.Text(), nullable=False),
    sa.Column('technical_needs', sa.Text(), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('opened_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('stage_entered_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('last_activity_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('closed_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('snoozed_until', models.base.UTCDateTime(), nullable=True),
    sa.Column('last_nudged_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagements'))
    )
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagements_account'), ['account'], unique=False)
        batch_op.create_index('ix_engagements_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_engagements_owner_stage', ['owner_id', 'stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_engagements_stage'), ['stage'], unique=False)

    op.create_table('job_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=128), nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=False),
    sa.Column('claimed_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('lease_until', models.base.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('done_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_claims')),
    sa.UniqueConstraint('job', 'period', name=op.f('uq_job_claims_job_period'))
    )
    op.create_table('processed_deliveries',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('seen_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_processed_deliveries'))
    )
    with op.batch_alter_table('processed_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_processed_deliveries_seen_at', ['seen_at'], unique=False)

    op.create_table('search_misses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('searched_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_misses'))
    )
    with op.batch_alter_table('search_misses', schema=None) as batch_op:
        batch_op.create_index('ix_search_misses_searched_at', ['searched_at'], unique=False)

    op.create_table('slack_users',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('fetched_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_slack_users'))
    )
    op.create_table('asset_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('useful', sa.Boolean(), nullable=False),
    sa.Column('voted_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_feedback_asset_id_assets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_feedback')),
    sa.UniqueConstraint('asset_id', 'user_id', name=op.f('uq_asset_feedback_asset_id_user_id'))
    )
    op.create_table('asset_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('shared_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_shares_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_asset_shares_engagement_id_engagements'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_shares'))
    )
    with op.batch_alter_table('asset_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asset_shares_asset_id'), ['asset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asset_shares_engagement_id'), ['engagement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asset_shares_shared_at'), ['shared_at'], unique=False)

    op.create_table('devrel_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_start', models.base.UTCDateTime(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('meeting_link', sa.String(length=2000), nullable=False),
    sa.Column('customer_asked', sa.Text(), nullable=False),
    sa.Column('promised', sa.Text(), nullable=False),
    sa.Column('held_in_reserve', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.String(length=32), nullable=True),
    sa.Column('asked_ids', sa.JSON(), nullable=False),
    sa.Column('assignee_id', sa.String(length=32), nullable=True),
    sa.Column('escalate_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('remind_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('reminded_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_devrel_requests_engagement_id_engagements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devrel_requests'))
    )
    with op.batch_alter_table('devrel_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devrel_requests_engagement_id'), ['engagement_id'], unique=False)
        batch_op.create_index('ix_devrel_requests_remind_at', ['remind_at'], unique=False)
        batch_op.create_index('ix_devrel_requests_state_escalate_at', ['state', 'escalate_at'], unique=False)

    op.create_table('engagement_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('written_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_engagement_notes_engagement_id_engagements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_notes'))
    )
    with op.batch_alter_table('engagement_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagement_notes_engagement_id'), ['engagement_id'], unique=False)

    op.create_table('esat_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('asked_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('remind_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('reminded_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_at', models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_esat_surveys_engagement_id_engagements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_esat_surveys')),
    sa.UniqueConstraint('engagement_id', name=op.f('uq_esat_surveys_engagement_id'))
    )
    with op.batch_alter_table('esat_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_esat_surveys_remind_at'), ['remind_at'], unique=False)

    op.create_table('stage_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('from_stage', sa.String(length=16), nullable=True),
    sa.Column('to_stage', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('actor_id', sa.String(length=32), nullable=False),
    sa.Column('logged_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('effective_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_stage_changes_engagement_id_engagements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_changes'))
    )
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.create_index('ix_stage_changes_engagement_effective', ['engagement_id', 'effective_at'], unique=False)

    op.create_table('devrel_request_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=True),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['devrel_requests.id'], name=op.f('fk_devrel_request_events_request_id_devrel_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devrel_request_events'))
    )
    with op.batch_alter_table('devrel_request_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devrel_request_events_request_id'), ['request_id'], unique=False)

    op.create_table('devrel_request_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['devrel_requests.id'], name=op.f('fk_devrel_request_messages_request_id_devrel_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devrel_request_messages'))
    )
    with op.batch_alter_table('devrel_request_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devrel_request_messages_request_id'), ['request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('devrel_request_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devrel_request_messages_request_id'))

    op.drop_table('devrel_request_messages')
    with op.batch_alter_table('devrel_request_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devrel_request_events_request_id'))

    op.drop_table('devrel_request_events')
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_changes_engagement_effective')

    op.drop_table('stage_changes')
    with op.batch_alter_table('esat_surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_esat_surveys_remind_at'))

    op.drop_table('esat_surveys')
    with op.batch_alter_table('engagement_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagement_notes_engagement_id'))

    op.drop_table('engagement_notes')
    with op.batch_alter_table('devrel_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_devrel_requests_state_escalate_at')
        batch_op.drop_index('ix_devrel_requests_remind_at')
        batch_op.drop_index(batch_op.f('ix_devrel_requests_engagement_id'))

    op.drop_table('devrel_requests')
    with op.batch_alter_table('asset_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_shares_shared_at'))
        batch_op.drop_index(batch_op.f('ix_asset_shares_engagement_id'))
        batch_op.drop_index(batch_op.f('ix_asset_shares_asset_id'))

    op.drop_table('asset_shares')
    op.drop_table('asset_feedback')
    op.drop_table('slack_users')
    with op.batch_alter_table('search_misses', schema=None) as batch_op:
        batch_op.drop_index('ix_search_misses_searched_at')

    op.drop_table('search_misses')
    with op.batch_alter_table('processed_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_processed_deliveries_seen_at')

    op.drop_table('processed_deliveries')
    op.drop_table('job_claims')
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagements_stage'))
        batch_op.drop_index('ix_engagements_owner_stage')
        batch_op.drop_index('ix_engagements_closed_at')
        batch_op.drop_index(batch_op.f('ix_engagements_account'))

    op.drop_table('engagements')
    op.drop_table('devrel_people')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_entity')

    op.drop_table('audit_log')
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assets_updated_at'))
        batch_op.drop_index(batch_op.f('ix_assets_status'))

    op.drop_table('assets')
