"""Run the plugin's Alembic branch without Flask-Migrate (``flask fortnox db upgrade``).

The revisions live in ``aourly_fortnox/migrations/`` and ship in the wheel as
``aourly_fortnox.migrations``; this runner keeps its own version table so it never touches
a host's ``alembic_version``.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from flask import Flask

from .state import state

VERSION_TABLE = "aourly_fortnox_alembic_version"
BRANCH = "aourly_fortnox"


def migrations_dir() -> str:
    """A real path both from the wheel and in an editable install."""
    return str(files("aourly_fortnox.migrations"))


def versions_dir() -> str:
    """Add this to a Flask-Migrate host's ``version_locations``."""
    return str(files("aourly_fortnox.migrations").joinpath("versions"))


def alembic_config(app: Flask) -> Config:
    """Alembic aimed at the plugin's own revisions and the app's engine, never the host's."""
    config = Config()
    config.set_main_option("script_location", migrations_dir())
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", versions_dir())
    config.attributes["engine"] = state(app).db.engine
    return config


def upgrade_database(app: Flask, revision: str = "heads") -> None:
    """Create or upgrade the plugin's tables on the app's database."""
    with app.app_context():
        command.upgrade(alembic_config(app), revision)


def downgrade_database(app: Flask, revision: str = "base") -> None:
    """Roll the plugin's tables back; ``base`` removes them (``flask fortnox db downgrade``)."""
    with app.app_context():
        command.downgrade(alembic_config(app), revision)
