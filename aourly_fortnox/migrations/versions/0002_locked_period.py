"""Fortnox's locked period on the connection (pre-check data for the sync engine)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:27:38.690788
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_through', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.drop_column('locked_through')
