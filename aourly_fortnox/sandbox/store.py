"""The sandbox's state in SQLite: companies, their records, counters, and the OAuth tables.

One connection (``:memory:`` or a file) shared by every server thread and guarded by one
re-entrant lock: the sandbox serves a handful of clients, so serialising is simpler and
safer than juggling connections, and :meth:`Store.transaction` makes a compound change (pick
a number, validate, insert) atomic. With a file every committed change survives a restart.

Records are JSON documents keyed by ``(DatabaseNumber, kind, key)``: the stored document is
the object's full single-GET shape without ``@url`` (which depends on the host serving it).
Every write stamps ``modified`` (epoch seconds) for Fortnox's ``lastmodified`` filter.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS company (
    db INTEGER PRIMARY KEY, position INTEGER NOT NULL, info TEXT NOT NULL,
    settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS record (
    db INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, year INTEGER,
    sort TEXT NOT NULL, modified REAL NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (db, kind, key)
);
CREATE INDEX IF NOT EXISTS record_kind ON record (db, kind, year, sort);
CREATE TABLE IF NOT EXISTS counter (
    db INTEGER NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (db, name)
);
CREATE TABLE IF NOT EXISTS reserved_number (
    db INTEGER NOT NULL, number TEXT NOT NULL, PRIMARY KEY (db, number)
);
-- revoked: withdrawn, every token of it dead at once (the admin API, or a reused refresh
-- token); closed: ended by /oauth-v1/revoke, nothing new issued, access tokens live on.
CREATE TABLE IF NOT EXISTS consent (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, db INTEGER NOT NULL, scope TEXT NOT NULL,
    service INTEGER NOT NULL, created REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS auth_code (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, db INTEGER NOT NULL, scope TEXT NOT NULL,
    redirect_uri TEXT, service INTEGER NOT NULL, expires REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
-- used: 1 once a refresh spent the token, plus 1 for every later attempt to spend it again.
CREATE TABLE IF NOT EXISTS refresh_token (
    token TEXT PRIMARY KEY, consent_id TEXT NOT NULL, expires REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS access_token (
    digest TEXT PRIMARY KEY, consent_id TEXT NOT NULL, expires REAL NOT NULL
);
"""


#: Columns added since a ``--db`` file may have been created: (table, column, definition).
LATER_COLUMNS = (("consent", "closed", "INTEGER NOT NULL DEFAULT 0"),)


#: A bulk-insert row: (DatabaseNumber, kind, key, year, sort, data).
RecordRow = tuple[int, str, str, int | None, str, dict[str, Any]]


@dataclass(frozen=True)
class Record:
    """One stored object and when it last changed (epoch seconds)."""

    data: dict[str, Any]
    modified: float


class Store:
    """Thread-safe SQLite state; every method may be called from any server thread."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        self.lock = threading.RLock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves in transaction().
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._depth = 0
        with self.lock:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)
            self._add_later_columns()

    def _add_later_columns(self) -> None:
        """Bring a ``--db`` file from an older sandbox up to :data:`SCHEMA`."""
        for table, column, definition in LATER_COLUMNS:
            present = {row["name"] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        """Release the SQLite connection when the server stops (tests start many sandboxes)."""
        with self.lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock; the outermost block commits, or rolls back on any exception."""
        with self.lock:
            outermost = self._depth == 0
            if outermost:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                self._conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Run one statement under the lock and return its rows (for the OAuth tables)."""
        with self.lock:
            return self._conn.execute(sql, params).fetchall()

    # -- meta ---------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A sandbox-wide value, such as the JWT signing secret, kept in a ``--db`` file."""
        rows = self.execute("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a sandbox-wide value (the JWT secret), so a restarted ``--db`` file signs alike."""
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- companies ----------------------------------------------------------------------------

    def add_company(self, db: int, info: dict[str, Any], settings: dict[str, Any]) -> None:
        """Add a Fortnox company; the first one added is preselected on the consent page."""
        with self.lock:
            position = len(self.execute("SELECT db FROM company"))
            self.execute(
                "INSERT INTO company (db, position, info, settings) VALUES (?, ?, ?, ?)",
                (db, position, json.dumps(info), json.dumps(settings)),
            )

    def companies(self) -> list[dict[str, Any]]:
        """CompanyInformation of every company, the first (preselected) one first."""
        rows = self.execute("SELECT info FROM company ORDER BY position")
        return [json.loads(row["info"]) for row in rows]

    def company(self, db: int) -> dict[str, Any] | None:
        """A company's CompanyInformation, or None for a DatabaseNumber the sandbox lacks."""
        rows = self.execute("SELECT info FROM company WHERE db = ?", (db,))
        return json.loads(rows[0]["info"]) if rows else None

    def company_settings(self, db: int) -> dict[str, Any]:
        """A company's settings: ``locked`` (no licence), the locked period, giro and e-mail."""
        rows = self.execute("SELECT settings FROM company WHERE db = ?", (db,))
        return json.loads(rows[0]["settings"]) if rows else {}

    def update_company_settings(self, db: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge changes into a company's settings (licence lock, locked period) atomically."""
        with self.transaction():
            settings = self.company_settings(db)
            settings.update(changes)
            self.execute("UPDATE company SET settings = ? WHERE db = ?", (json.dumps(settings), db))
            return settings

    # -- records ------------------------------------------------------------------------------

    def put(
        self,
        db: int,
        kind: str,
        key: str,
        data: dict[str, Any],
        *,
        year: int | None = None,
        sort: str | None = None,
        modified: float | None = None,
    ) -> None:
        """Insert or replace one object; stamps it modified now."""
        self.execute(
            "INSERT OR REPLACE INTO record (db, kind, key, year, sort, modified, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                db,
                kind,
                key,
                year,
                sort if sort is not None else key,
                modified if modified is not None else time.time(),
                json.dumps(data, ensure_ascii=False),
            ),
        )

    def put_many(self, rows: list[RecordRow]) -> None:
        """Bulk insert ``(db, kind, key, year, sort, data)`` rows (seeding a chart)."""
        now = time.time()
        with self.transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO record (db, kind, key, year, sort, modified, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (db, kind, key, year, sort, now, json.dumps(data, ensure_ascii=False))
                    for db, kind, key, year, sort, data in rows
                ],
            )

    def get(self, db: int, kind: str, key: str) -> dict[str, Any] | None:
        """One object by kind and key (a customer number, ``<year>:<series>:<n>``...), or None."""
        rows = self.execute(
            "SELECT data FROM record WHERE db = ? AND kind = ? AND key = ?", (db, kind, key)
        )
        return json.loads(rows[0]["data"]) if rows else None

    def records(self, db: int, kind: str, *, year: int | None = None) -> list[Record]:
        """Every object of a kind (optionally of one financial year), in list order."""
        if year is None:
            rows = self.execute(
                "SELECT data, modified FROM record WHERE db = ? AND kind = ? ORDER BY sort, key",
                (db, kind),
            )
        else:
            rows = self.execute(
                "SELECT data, modified FROM record WHERE db = ? AND kind = ? AND year = ?"
                " ORDER BY sort, key",
                (db, kind, year),
            )
        return [Record(json.loads(row["data"]), row["modified"]) for row in rows]

    def delete(self, db: int, kind: str, key: str) -> bool:
        """Remove one object; False if there was none. A reserved number stays reserved."""
        with self.lock:
            found = self.get(db, kind, key) is not None
            self.execute(
                "DELETE FROM record WHERE db = ? AND kind = ? AND key = ?", (db, kind, key)
            )
            return found

    def count(self, db: int, kind: str) -> int:
        """How many objects of one kind a company holds."""
        rows = self.execute(
            "SELECT COUNT(*) AS n FROM record WHERE db = ? AND kind = ?", (db, kind)
        )
        return int(rows[0]["n"])

    # -- counters and reserved numbers ----------------------------------------------------------

    def next_value(self, db: int, name: str, start: int = 1) -> int:
        """Hand out the next number of a series (document numbers, voucher numbers...)."""
        with self.transaction():
            rows = self.execute("SELECT value FROM counter WHERE db = ? AND name = ?", (db, name))
            value = rows[0]["value"] if rows else start
            self.execute(
                "INSERT OR REPLACE INTO counter (db, name, value) VALUES (?, ?, ?)",
                (db, name, value + 1),
            )
            return int(value)

    def peek_value(self, db: int, name: str, start: int = 1) -> int:
        """The number a series hands out next, without taking it (``NextVoucherNumber``)."""
        rows = self.execute("SELECT value FROM counter WHERE db = ? AND name = ?", (db, name))
        return int(rows[0]["value"]) if rows else start

    def reserve_number(self, db: int, number: str) -> bool:
        """Reserve a customer number forever; False if it was ever used (Fortnox 2000637)."""
        with self.lock:
            if self.is_reserved(db, number):
                return False
            self.execute("INSERT INTO reserved_number (db, number) VALUES (?, ?)", (db, number))
            return True

    def is_reserved(self, db: int, number: str) -> bool:
        """Whether a customer number was ever used in the company, by a deleted customer too."""
        rows = self.execute(
            "SELECT 1 FROM reserved_number WHERE db = ? AND number = ?", (db, number)
        )
        return bool(rows)
