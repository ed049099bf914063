"""The plugin's Alembic branch: creates what the models say, on SQLite and PostgreSQL, and
downgrades cleanly. Both ways to run it: the plugin's CLI, and a Flask-Migrate host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from aourly_fortnox.migrate import VERSION_TABLE, downgrade_database, upgrade_database
from aourly_fortnox.models import Base

from .host import TOKEN_KEY, create_host


def plugin_tables(engine: sa.Engine) -> set[str]:
    return {t for t in sa.inspect(engine).get_table_names() if t.startswith("fortnox_")}


def differences(engine: sa.Engine) -> list[object]:
    def only_ours(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return not table or str(table).startswith("fortnox_")

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": only_ours, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))


def check_round_trip(url: str) -> None:
    app, _, db = create_host(url)
    with app.app_context():
        upgrade_database(app)
        engine = db.engine
        assert plugin_tables(engine) == set(Base.metadata.tables)
        assert differences(engine) == []
        downgrade_database(app)
        assert plugin_tables(engine) == set()
        assert VERSION_TABLE in sa.inspect(engine).get_table_names()
        upgrade_database(app)  # and back up again
        assert plugin_tables(engine) == set(Base.metadata.tables)
        engine.dispose()


def test_sqlite_models_and_migrations_agree(tmp_path: Path) -> None:
    check_round_trip(f"sqlite:///{tmp_path / 'plugin.db'}")


@pytest.mark.postgres
def test_postgres_models_and_migrations_agree(postgres_url: str) -> None:
    check_round_trip(postgres_url)


def test_migrations_leave_host_tables_and_version_table_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('host_rev_1')"))
        conn.execute(sa.text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    app, _, db = create_host(url)
    with app.app_context():
        upgrade_database(app)
        downgrade_database(app)
        db.engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            "host_rev_1"
        )
        assert "invoices" in sa.inspect(conn).get_table_names()
    engine.dispose()


def test_flask_fortnox_db_upgrade_on_an_empty_sqlite_file(tmp_path: Path) -> None:
    """What a host without Flask-Migrate runs: `flask fortnox db upgrade`."""
    db_file = tmp_path / "empty.db"
    app_module = tmp_path / "tiny_host.py"
    app_module.write_text(
        "from flask import Flask\n"
        "from flask_sqlalchemy import SQLAlchemy\n"
        "from aourly_fortnox import FortnoxIntegration\n"
        "app = Flask(__name__)\n"
        f"app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///{db_file}'\n"
        f"app.config['AOURLY_FORTNOX_TOKEN_KEYS'] = '{TOKEN_KEY}'\n"
        "app.config['AOURLY_FORTNOX_REDIS_URL'] = 'redis://127.0.0.1:6379/0'  # not dialled\n"
        "db = SQLAlchemy(app)\n"
        "FortnoxIntegration(app, db=db)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tiny_host", "fortnox", "db", "upgrade"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    engine = sa.create_engine(f"sqlite:///{db_file}")
    assert plugin_tables(engine) == set(Base.metadata.tables)
    engine.dispose()


def test_a_flask_migrate_host_runs_the_branch_with_flask_db_upgrade(tmp_path: Path) -> None:
    """The two lines of config from the README, in a Flask-Migrate host."""
    db_file = tmp_path / "fm.db"
    (tmp_path / "fm_host.py").write_text(
        "from flask import Flask\n"
        "from flask_migrate import Migrate\n"
        "from flask_sqlalchemy import SQLAlchemy\n"
        "from aourly_fortnox import FortnoxIntegration\n"
        "from aourly_fortnox.migrate import versions_dir\n"
        "app = Flask(__name__)\n"
        f"app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///{db_file}'\n"
        f"app.config['AOURLY_FORTNOX_TOKEN_KEYS'] = '{TOKEN_KEY}'\n"
        "app.config['AOURLY_FORTNOX_REDIS_URL'] = 'redis://127.0.0.1:6379/0'  # not dialled\n"
        "db = SQLAlchemy(app)\n"
        "class Invoice(db.Model):\n"
        "    id = db.mapped_column(db.Integer, primary_key=True)\n"
        "FortnoxIntegration(app, db=db)\n"
        "Migrate(app, db)\n"
    )
    env = {**os.environ, "FLASK_APP": "fm_host"}

    def flask(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "flask", *args], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result

    flask("db", "init")
    ini = tmp_path / "migrations" / "alembic.ini"
    from aourly_fortnox.migrate import versions_dir

    # Line 1 of the README: the host keeps its own versions and adds the plugin's.
    ini.write_text(
        ini.read_text().replace(
            "[alembic]",
            "[alembic]\npath_separator = os\n"
            f"version_locations = %(here)s/versions{os.pathsep}{versions_dir()}",
        )
    )
    # Line 2: upgrade every branch (the host's and the plugin's).
    flask("db", "upgrade", "heads")
    engine = sa.create_engine(f"sqlite:///{db_file}")
    assert plugin_tables(engine) == set(Base.metadata.tables)
    engine.dispose()
