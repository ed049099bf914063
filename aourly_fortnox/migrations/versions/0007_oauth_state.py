"""OAuth states issued and not yet used (each callback consumes its state server-side)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aourly_fortnox.models import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fortnox_oauth_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('company_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_oauth_state')),
        sa.UniqueConstraint('state_hash', name=op.f('uq_fortnox_oauth_state_state_hash')),
    )


def downgrade() -> None:
    op.drop_table('fortnox_oauth_state')
