"""Alembic environment for the plugin's own branch (used by ``flask fortnox db ...``).

Hosts with Flask-Migrate do not use this file: they add ``migrations/versions`` of this
package to their ``version_locations`` and run ``flask db upgrade`` (see the README).
"""

from __future__ import annotations

from typing import Any

from alembic import context

from aourly_fortnox.migrate import VERSION_TABLE
from aourly_fortnox.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Compare and migrate the plugin's tables only, never the host's."""
    if type_ == "table":
        return bool(name and name.startswith("fortnox_"))
    table = getattr(obj, "table", None)
    if table is not None:
        return bool(table.name.startswith("fortnox_"))
    return True


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from sqlalchemy import create_engine

        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            include_object=include_object,
            render_as_batch=True,  # SQLite needs batch mode for ALTERs
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("aourly_fortnox migrations run online only (flask fortnox db upgrade).")
run_migrations_online()
