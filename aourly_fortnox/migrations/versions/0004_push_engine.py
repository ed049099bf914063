"""The push engine: installation id, how a remote object was found, reason parameters,
customer candidates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 18:30:00
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from aourly_fortnox.models import UTCDateTime

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    installation = op.create_table(
        'fortnox_installation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('installation_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_installation')),
        sa.UniqueConstraint('installation_id', name=op.f('uq_fortnox_installation_installation_id')),
    )
    # Made once, here: part of every reference this installation puts in Fortnox.
    op.bulk_insert(installation, [
        {'installation_id': secrets.token_hex(8), 'created_at': datetime.now(UTC)},
    ])
    with op.batch_alter_table('fortnox_sync_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_kind', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('error_params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('candidates', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fortnox_sync_record', schema=None) as batch_op:
        batch_op.drop_column('candidates')
        batch_op.drop_column('error_params')
        batch_op.drop_column('remote_kind')
    op.drop_table('fortnox_installation')
