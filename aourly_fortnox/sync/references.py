"""Our references in Fortnox, pinned so exactly-once can rely on them (docs/fortnox.md,
"Our references").

``AOU:`` + 16 characters of base32 over a hash of (installation, company, kind, host id):
fixed width, because Fortnox's search is a substring match and a fixed-width value finds only
the object searched for; the installation id keeps two installations on one Fortnox company
(staging and production) from adopting each other's objects.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..models import Installation, utcnow
from ..queries import session
from ..state import state

PREFIX = "AOU:"


def reference(installation_id: str, company_id: str, kind: str, host_id: str) -> str:
    """The reference of one host object (``kind``: customer, invoice, voucher)."""
    digest = hashlib.sha256(
        "\x00".join((installation_id, company_id, kind, host_id)).encode()
    ).digest()
    return PREFIX + base64.b32encode(digest).decode()[:16]


def voucher_marker(ref: str) -> str:
    """How a voucher carries its reference at the end of its Description."""
    return f"[{ref}]"


def customer_number(prefix: str, host_id: str) -> str:
    """A stable Fortnox customer number from the host id: letters and digits only."""
    return prefix + "".join(ch for ch in host_id if ch.isascii() and ch.isalnum()).upper()


def installation_id() -> str:
    """This installation's id: made by migration 0004, read once per app and kept.

    Never commits the caller's session (it may be the host's, mid-transaction): a database
    made without the migration gets its id in a short transaction of its own."""
    cache = state().cache
    if "installation_id" not in cache:
        db_session = session()
        # No autoflush: flushing the caller's pending rows here would take SQLite's write
        # lock in the caller's transaction, and _create's own transaction would then wait for
        # it until "database is locked" (tests/plugin/test_installation.py).
        with db_session.no_autoflush:
            found = db_session.execute(
                select(Installation.installation_id).order_by(Installation.id)
            ).scalars().first()
        cache["installation_id"] = found or _create()
    return str(cache["installation_id"])


def _create() -> str:
    engine = state().db.engine
    try:
        with engine.begin() as conn:
            conn.execute(insert(Installation).values(installation_id=secrets.token_hex(8),
                                                     created_at=utcnow()))
    except IntegrityError:  # pragma: no cover - another process made it first
        pass
    with engine.connect() as conn:
        made = conn.execute(
            select(Installation.installation_id).order_by(Installation.id)
        ).scalars().first()
    return str(made)
