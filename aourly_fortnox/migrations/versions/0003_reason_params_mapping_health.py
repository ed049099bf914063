"""Reason parameters on runs, and the card's stored mapping line on the connection

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mapping_health', sa.JSON(), nullable=True))
    with op.batch_alter_table('fortnox_sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fortnox_sync_run', schema=None) as batch_op:
        batch_op.drop_column('message_params')
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.drop_column('mapping_health')
