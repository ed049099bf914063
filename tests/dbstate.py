"""What a refusal must leave alone: every row of every table, compared before and after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


def database_dump(engine: sa.Engine) -> str:
    """Every value of every table, as text (what an attacker with the database sees)."""
    parts = []
    with engine.connect() as conn:
        for table in sorted(sa.inspect(conn).get_table_names()):
            parts.append(f"-- {table}")
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


@contextmanager
def unchanged(engine: sa.Engine) -> Iterator[None]:
    """Assert that the block changed no row of the database."""
    before = database_dump(engine)
    yield
    after = database_dump(engine)
    assert after == before, "the refused request changed the database"
