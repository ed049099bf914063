"""initial tables

Revision ID: 0001
Revises:
Create Date: 2026-11-26 08:31:55.640826
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aourly_fortnox.models

revision = '0001'
down_revision = None
branch_labels = ('aourly_fortnox',)
depends_on = None


def upgrade() -> None:

    op.create_table('fortnox_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('database_number', sa.BigInteger(), nullable=False),
    sa.Column('financial_year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('vat_code', sa.String(length=16), nullable=True),
    sa.Column('imported_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_account')),
    sa.UniqueConstraint('company_id', 'database_number', 'financial_year', 'number', name='uq_fortnox_account')
    )
    op.create_table('fortnox_account_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('account', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_account_mapping')),
    sa.UniqueConstraint('company_id', 'key', name='uq_fortnox_mapping')
    )
    op.create_table('fortnox_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('database_number', sa.BigInteger(), nullable=True),
    sa.Column('fortnox_company_name', sa.String(length=255), nullable=True),
    sa.Column('organisation_number', sa.String(length=32), nullable=True),
    sa.Column('scope', sa.String(length=255), nullable=True),
    sa.Column('access_token_enc', sa.Text(), nullable=True),
    sa.Column('refresh_token_enc', sa.Text(), nullable=True),
    sa.Column('access_expires_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refresh_expires_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('token_refreshed_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('connected_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('connected_by', sa.String(length=64), nullable=True),
    sa.Column('disconnected_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expired_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expired_reason', sa.String(length=255), nullable=True),
    sa.Column('last_sync_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending_database_number', sa.BigInteger(), nullable=True),
    sa.Column('pending_company_name', sa.String(length=255), nullable=True),
    sa.Column('pending_organisation_number', sa.String(length=32), nullable=True),
    sa.Column('pending_tokens_enc', sa.Text(), nullable=True),
    sa.Column('pending_since', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('bookkeep_invoices', sa.Boolean(), nullable=False),
    sa.Column('created_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_connection')),
    sa.UniqueConstraint('company_id', name=op.f('uq_fortnox_connection_company_id'))
    )
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fortnox_connection_database_number'), ['database_number'], unique=False)

    op.create_table('fortnox_financial_year',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('database_number', sa.BigInteger(), nullable=False),
    sa.Column('fortnox_id', sa.Integer(), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('to_date', sa.Date(), nullable=False),
    sa.Column('account_chart_type', sa.String(length=64), nullable=True),
    sa.Column('accounting_method', sa.String(length=32), nullable=True),
    sa.Column('imported_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_financial_year')),
    sa.UniqueConstraint('company_id', 'database_number', 'fortnox_id', name='uq_fortnox_year')
    )
    op.create_table('fortnox_predefined_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('database_number', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('account', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_predefined_account')),
    sa.UniqueConstraint('company_id', 'database_number', 'name', name='uq_fortnox_predefined')
    )
    op.create_table('fortnox_pulled_voucher',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('database_number', sa.BigInteger(), nullable=False),
    sa.Column('financial_year', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('transaction_date', sa.Date(), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=True),
    sa.Column('sync_record_id', sa.Integer(), nullable=True),
    sa.Column('pulled_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_pulled_voucher')),
    sa.UniqueConstraint('company_id', 'database_number', 'financial_year', 'series', 'number', name='uq_fortnox_pulled_voucher')
    )
    op.create_table('fortnox_sync_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('database_number', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('remote_id', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('error_reason', sa.Text(), nullable=True),
    sa.Column('fortnox_code', sa.Integer(), nullable=True),
    sa.Column('fortnox_message', sa.Text(), nullable=True),
    sa.Column('lease_token', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('post_started_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('payload_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('synced_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_sync_record')),
    sa.UniqueConstraint('company_id', 'database_number', 'object_type', 'object_id', name='uq_fortnox_record')
    )
    with op.batch_alter_table('fortnox_sync_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fortnox_sync_record_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_fortnox_sync_record_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('fortnox_sync_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_sync_run'))
    )
    with op.batch_alter_table('fortnox_sync_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fortnox_sync_run_company_id'), ['company_id'], unique=False)

    op.create_table('fortnox_voucher_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('database_number', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_voucher_series')),
    sa.UniqueConstraint('company_id', 'database_number', 'code', name='uq_fortnox_series')
    )
    op.create_table('fortnox_worker_heartbeat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_name', sa.String(length=255), nullable=False),
    sa.Column('seen_at', aourly_fortnox.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_worker_heartbeat')),
    sa.UniqueConstraint('worker_name', name=op.f('uq_fortnox_worker_heartbeat_worker_name'))
    )



def downgrade() -> None:

    op.drop_table('fortnox_worker_heartbeat')
    op.drop_table('fortnox_voucher_series')
    with op.batch_alter_table('fortnox_sync_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fortnox_sync_run_company_id'))

    op.drop_table('fortnox_sync_run')
    with op.batch_alter_table('fortnox_sync_record', schema=None) as batch_op:
        batch_op.drop_index('ix_fortnox_sync_record_due')
        batch_op.drop_index(batch_op.f('ix_fortnox_sync_record_company_id'))

    op.drop_table('fortnox_sync_record')
    op.drop_table('fortnox_pulled_voucher')
    op.drop_table('fortnox_predefined_account')
    op.drop_table('fortnox_financial_year')
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fortnox_connection_database_number'))

    op.drop_table('fortnox_connection')
    op.drop_table('fortnox_account_mapping')
    op.drop_table('fortnox_account')

