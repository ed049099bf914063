"""Vouchers both ways: the company's voucher series, the pull's high-water marks per
(financial year, series), and when each year was last listed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aourly_fortnox.models import UTCDateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fortnox_voucher_cursor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.String(length=64), nullable=False),
        sa.Column('database_number', sa.BigInteger(), nullable=False),
        sa.Column('financial_year', sa.Integer(), nullable=False),
        sa.Column('series', sa.String(length=16), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_voucher_cursor')),
        sa.UniqueConstraint('company_id', 'database_number', 'financial_year', 'series',
                            name='uq_fortnox_voucher_cursor'),
    )
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voucher_series', sa.String(length=16), nullable=False,
                                      server_default='A'))
    with op.batch_alter_table('fortnox_financial_year', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vouchers_listed_at', UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fortnox_financial_year', schema=None) as batch_op:
        batch_op.drop_column('vouchers_listed_at')
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.drop_column('voucher_series')
    op.drop_table('fortnox_voucher_cursor')
