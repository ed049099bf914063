"""Engine set-up (SQLite pragmas) and first-start initialisation of an empty database."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from aourly_fortnox import VERSION_TABLE, upgrade_database

from .extensions import db

log = logging.getLogger("example_host")

SQLITE_BUSY_TIMEOUT_MS = 15_000


def configure_engine(app: Flask) -> None:
    """SQLite: WAL so the web threads, the embedded worker and a CLI can share the file;
    a busy timeout so a writer waits for the lock instead of failing at once."""
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                if engine.url.database not in (None, "", ":memory:"):
                    cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA foreign_keys = ON")
            finally:
                cursor.close()


def _host_tables_exist() -> bool:
    return inspect(db.engine).has_table("companies")


def upgrade_host_tables() -> None:
    """A demo database from an older checkout gets the host's newer columns (the host has no
    migrations of its own: this is the one it needed, ``users.session_version``)."""
    columns = {column["name"] for column in inspect(db.engine).get_columns("users")}
    if "session_version" not in columns:
        with db.engine.begin() as conn:
            conn.execute(text(
                "ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0"
            ))
        log.info("Upgraded the demo database: users.session_version added.")


def run_plugin_migrations(app: Flask) -> None:
    upgrade_database(app)


def initialise_database(app: Flask) -> bool:
    """On an empty database: the host's tables, the plugin's migrations, the demo data.

    Returns True when it initialised. A database that already has the host's tables is left
    alone (upgrades are ``flask fortnox db upgrade``'s job, so that CLI stays truthful).
    """
    from .seed import seed_demo

    with app.app_context():
        if _host_tables_exist():
            upgrade_host_tables()
            if not inspect(db.engine).has_table(VERSION_TABLE):
                # A host database from before the plugin was mounted: add the plugin's tables.
                run_plugin_migrations(app)
            return False
        try:
            db.create_all()  # the host's metadata only: the plugin's tables are migrations'
        except (OperationalError, ProgrammingError):
            # Another process (the web server and a worker started together) won the race.
            db.session.rollback()
            if not _host_tables_exist():
                raise
            return False
        run_plugin_migrations(app)
        try:
            seeded = seed_demo()
        except IntegrityError:
            db.session.rollback()
            log.info("Demo data was seeded by another process meanwhile.")
            seeded = False
        if seeded:
            log.info("Empty database: created the tables and seeded the demo data.")
        return True
