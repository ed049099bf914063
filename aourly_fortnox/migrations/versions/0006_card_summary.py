"""The card's summary of outbox states (kept by triggers), item labels, the earlier-invoices
offer

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aourly_fortnox.models import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

STATES = ("pending", "held", "earlier", "synced", "failed", "needs_attention")


def _counts(row: str, sign: str) -> str:
    """``col = col +/- (row.state = 'col')`` for every counted state."""
    return ", ".join(
        f"{s} = {s} {sign} CASE WHEN {row}.state = '{s}' THEN 1 ELSE 0 END" for s in STATES
    )


def _subtract(row: str) -> str:
    return (f"UPDATE fortnox_record_summary SET {_counts(row, '-')} "
            f"WHERE company_id = {row}.company_id AND object_type = {row}.object_type;")


def _add(row: str, ensure: str) -> str:
    return (f"{ensure} UPDATE fortnox_record_summary SET {_counts(row, '+')} "
            f"WHERE company_id = {row}.company_id AND object_type = {row}.object_type;")


SQLITE_ENSURE = ("INSERT OR IGNORE INTO fortnox_record_summary (company_id, object_type) "
                 "VALUES (NEW.company_id, NEW.object_type);")
PG_ENSURE = ("INSERT INTO fortnox_record_summary (company_id, object_type) "
             "VALUES (NEW.company_id, NEW.object_type) ON CONFLICT DO NOTHING;")
CHANGED = ("OLD.state IS DISTINCT FROM NEW.state OR OLD.company_id IS DISTINCT FROM "
           "NEW.company_id OR OLD.object_type IS DISTINCT FROM NEW.object_type")


def _create_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        changed = CHANGED.replace("IS DISTINCT FROM", "IS NOT")
        op.execute(f"CREATE TRIGGER fortnox_record_summary_ins AFTER INSERT ON "
                   f"fortnox_sync_record BEGIN {_add('NEW', SQLITE_ENSURE)} END")
        op.execute(f"CREATE TRIGGER fortnox_record_summary_upd AFTER UPDATE OF state, "
                   f"company_id, object_type ON fortnox_sync_record WHEN {changed} BEGIN "
                   f"{_subtract('OLD')} {_add('NEW', SQLITE_ENSURE)} END")
        op.execute(f"CREATE TRIGGER fortnox_record_summary_del AFTER DELETE ON "
                   f"fortnox_sync_record BEGIN {_subtract('OLD')} END")
    elif dialect == "postgresql":
        op.execute(f"""
CREATE FUNCTION fortnox_record_summary_keep() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NOT ({CHANGED}) THEN RETURN NULL; END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {_subtract('OLD')} END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add('NEW', PG_ENSURE)} END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER fortnox_record_summary_keep AFTER INSERT OR DELETE OR "
                   "UPDATE OF state, company_id, object_type ON fortnox_sync_record "
                   "FOR EACH ROW EXECUTE FUNCTION fortnox_record_summary_keep()")
    else:  # pragma: no cover - the plugin supports SQLite and PostgreSQL
        raise NotImplementedError(f"aourly_fortnox: no summary triggers for {dialect}")


def _drop_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        for name in ("ins", "upd", "del"):
            op.execute(f"DROP TRIGGER IF EXISTS fortnox_record_summary_{name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS fortnox_record_summary_keep ON fortnox_sync_record")
        op.execute("DROP FUNCTION IF EXISTS fortnox_record_summary_keep()")


def upgrade() -> None:
    op.create_table(
        'fortnox_record_summary',
        sa.Column('company_id', sa.String(length=64), nullable=False),
        sa.Column('object_type', sa.String(length=16), nullable=False),
        *[sa.Column(s, sa.Integer(), server_default='0', nullable=False) for s in STATES],
        sa.PrimaryKeyConstraint('company_id', 'object_type', name=op.f('pk_fortnox_record_summary')),
    )
    with op.batch_alter_table('fortnox_sync_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('attention_notified_at', UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_fortnox_sync_record_log', ['company_id', 'state', 'id'],
                              unique=False)
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('earlier_unrecorded', sa.Integer(), nullable=True))
    # The summary of the rows already there, then the triggers keep it.
    columns = ", ".join(STATES)
    sums = ", ".join(f"SUM(CASE WHEN state = '{s}' THEN 1 ELSE 0 END)" for s in STATES)
    op.execute(f"INSERT INTO fortnox_record_summary (company_id, object_type, {columns}) "
               f"SELECT company_id, object_type, {sums} FROM fortnox_sync_record "
               f"GROUP BY company_id, object_type")
    _create_triggers(op.get_bind().dialect.name)


def downgrade() -> None:
    _drop_triggers(op.get_bind().dialect.name)
    with op.batch_alter_table('fortnox_connection', schema=None) as batch_op:
        batch_op.drop_column('earlier_unrecorded')
    with op.batch_alter_table('fortnox_sync_record', schema=None) as batch_op:
        batch_op.drop_index('ix_fortnox_sync_record_log')
        batch_op.drop_column('attention_notified_at')
        batch_op.drop_column('label')
    op.drop_table('fortnox_record_summary')
