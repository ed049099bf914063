"""The record summary on PostgreSQL: changes noted per row, folded once per transaction

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 00:00:00

Migration 0006's PostgreSQL trigger updated the company's summary row once per changed
sync record. PostgreSQL never overwrites a row: each UPDATE writes a new version, and the
versions a transaction makes cannot be pruned before it ends, so the N-th update of one row
in one transaction walks the N-1 versions before it. One transaction that changes N rows
(a backfill, Retry all, Send earlier items, a bulk insert) was O(N^2). Measured with psql on
a fresh database: one INSERT of 10,000 rows took 3.2 s with 0006's trigger and 0.30 s with
this one (plus 21 ms for the fold at the commit); one UPDATE of the state of 11,000 rows 10.4
s and 0.38 s (plus 35 ms). The plugin's own paths: bench/backfill.py; docs/architecture.md.

Now the row trigger only appends the change (-1 for the old state, +1 for the new) to
``fortnox_record_summary_delta``, and a deferred constraint trigger, queued once per
transaction, folds the notes into the summary with one upsert per (company, object type)
just before the commit, in the same transaction: a rolled-back change rolls its notes back,
and every writer is still counted. SQLite keeps 0006's triggers (it updates a row in place,
so its cost per item is constant); the delta table stays empty there.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

STATES = ("pending", "held", "earlier", "synced", "failed", "needs_attention")
CHANGED = ("OLD.state IS DISTINCT FROM NEW.state OR OLD.company_id IS DISTINCT FROM "
           "NEW.company_id OR OLD.object_type IS DISTINCT FROM NEW.object_type")
#: Set (transaction-local) once the fold is queued: one fold per transaction, not per row.
FLAG = "aourly_fortnox.summary_fold_queued"
COUNTED = ", ".join(f"'{s}'" for s in STATES)


def _note(row: str, sign: str) -> str:
    return (f"IF {row}.state IN ({COUNTED}) THEN INSERT INTO fortnox_record_summary_delta "
            f"(company_id, object_type, state, n) VALUES ({row}.company_id, "
            f"{row}.object_type, {row}.state, {sign}1); END IF;")


NOTE = f"""
CREATE FUNCTION fortnox_record_summary_note() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NOT ({CHANGED}) THEN RETURN NULL; END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {_note('OLD', '-')} END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN {_note('NEW', '')} END IF;
  IF current_setting('{FLAG}', true) IS DISTINCT FROM 'on' THEN
    PERFORM set_config('{FLAG}', 'on', true);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""

_columns = ", ".join(STATES)
_sums = ", ".join(f"SUM(CASE WHEN state = '{s}' THEN n ELSE 0 END)" for s in STATES)
_adds = ", ".join(f"{s} = s.{s} + EXCLUDED.{s}" for s in STATES)

# The deferred fold: one upsert per (company, object type), in key order (one lock order for
# every transaction), of every note this transaction wrote (no other transaction's notes are
# visible: each deletes its own before it commits).
FOLD = f"""
CREATE FUNCTION fortnox_record_summary_fold() RETURNS trigger AS $$
BEGIN
  PERFORM set_config('{FLAG}', 'off', true);
  WITH gone AS (DELETE FROM fortnox_record_summary_delta
                RETURNING company_id, object_type, state, n)
  INSERT INTO fortnox_record_summary AS s (company_id, object_type, {_columns})
  SELECT company_id, object_type, {_sums} FROM gone
  GROUP BY company_id, object_type ORDER BY company_id, object_type
  ON CONFLICT (company_id, object_type) DO UPDATE SET {_adds};
  RETURN NULL;
END $$ LANGUAGE plpgsql"""


def _pg_create() -> None:
    op.execute("DROP TRIGGER IF EXISTS fortnox_record_summary_keep ON fortnox_sync_record")
    op.execute("DROP FUNCTION IF EXISTS fortnox_record_summary_keep()")
    op.execute(NOTE)
    op.execute(FOLD)
    op.execute("CREATE TRIGGER fortnox_record_summary_note AFTER INSERT OR DELETE OR "
               "UPDATE OF state, company_id, object_type ON fortnox_sync_record "
               "FOR EACH ROW EXECUTE FUNCTION fortnox_record_summary_note()")
    # A constraint trigger's WHEN is evaluated at once, not deferred: the fold is queued at
    # the first note of a transaction only (the note function then sets the flag). The flag
    # is transaction-local: the commit, a rollback or a rolled-back savepoint clears it
    # together with the notes and the queued fold.
    op.execute(f"CREATE CONSTRAINT TRIGGER fortnox_record_summary_fold AFTER INSERT ON "
               f"fortnox_record_summary_delta DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
               f"WHEN (current_setting('{FLAG}', true) IS DISTINCT FROM 'on') "
               f"EXECUTE FUNCTION fortnox_record_summary_fold()")


def _pg_drop() -> None:
    op.execute("DROP TRIGGER IF EXISTS fortnox_record_summary_note ON fortnox_sync_record")
    op.execute("DROP TRIGGER IF EXISTS fortnox_record_summary_fold "
               "ON fortnox_record_summary_delta")
    for name in ("note", "fold"):
        op.execute(f"DROP FUNCTION IF EXISTS fortnox_record_summary_{name}()")


def _migration_0006() -> ModuleType:
    path = Path(__file__).with_name("0006_card_summary.py")
    spec = importlib.util.spec_from_file_location("aourly_fortnox_migration_0006", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.create_table(
        'fortnox_record_summary_delta',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('company_id', sa.String(length=64), nullable=False),
        sa.Column('object_type', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fortnox_record_summary_delta')),
    )
    if op.get_bind().dialect.name == "postgresql":
        _pg_create()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_drop()
        _migration_0006()._create_triggers("postgresql")
    op.drop_table('fortnox_record_summary_delta')
