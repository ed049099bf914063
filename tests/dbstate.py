"""What a refusal must leave alone: every row of every table, compared before and after."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

#: A refused OAuth callback still spends its state (one use, server-side): pass this as
#: ``ignoring`` where a refusal is a callback that carried the session's own state.
SPENT_OAUTH_STATE = ("fortnox_oauth_state",)


def database_dump(engine: sa.Engine, ignoring: Collection[str] = ()) -> str:
    """Every value of every table, as text (what an attacker with the database sees)."""
    parts = []
    with engine.connect() as conn:
        for table in sorted(sa.inspect(conn).get_table_names()):
            if table in ignoring:
                continue
            parts.append(f"-- {table}")
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


@contextmanager
def unchanged(engine: sa.Engine, ignoring: Collection[str] = ()) -> Iterator[None]:
    """Assert that the block changed no row of the database (but the tables ``ignoring``)."""
    before = database_dump(engine, ignoring)
    yield
    after = database_dump(engine, ignoring)
    assert after == before, "the refused request changed the database"
