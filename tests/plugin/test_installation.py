"""The installation's id: the part of every reference (sync/references.py) that keeps two
installations on one Fortnox company from adopting each other's invoices. Made once, stored,
and the same for every process on the database; on PostgreSQL and on a SQLite file, where
each process has connections of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import Installation, RecordState, SyncRecord
from aourly_fortnox.state import state
from aourly_fortnox.sync.references import installation_id

from .host import create_host


def lost_and_remade(url: str) -> None:
    """A database restored without migration 0004's row: the id is made on first use, in a
    transaction of its own (the caller's pending change stays the caller's), and a process
    that starts later reads the same id, so a restart still recognises its own invoices."""
    app, _, _ = create_host(url)
    with app.app_context():
        upgrade_database(app)
        session = state(app).db.session
        migrated = session.query(Installation).one().installation_id
        session.query(Installation).delete()
        session.commit()
        session.add(SyncRecord(company_id="acme", database_number=1, object_type="customer",
                               object_id="uncommitted", state=RecordState.PENDING))
        made = installation_id()
        session.rollback()  # the caller's own change, rolled back by the caller
        assert re.fullmatch(r"[0-9a-f]{16}", made) and made != migrated, made
        assert session.query(SyncRecord).count() == 0
        assert [i.installation_id for i in session.query(Installation)] == [made]
        session.remove()
        state(app).db.engine.dispose()
    later, _, _ = create_host(url)  # another process: nothing cached
    with later.app_context():
        assert installation_id() == made
        assert state(later).db.session.query(Installation).count() == 1
        state(later).db.session.remove()
        state(later).db.engine.dispose()


@pytest.mark.postgres
def test_a_lost_installation_id_is_made_once_and_shared_on_postgres(postgres_url: str) -> None:
    lost_and_remade(postgres_url)


def test_a_lost_installation_id_is_made_once_and_shared_on_a_sqlite_file(tmp_path: Path) -> None:
    lost_and_remade(f"sqlite:///{tmp_path / 'host.db'}")
