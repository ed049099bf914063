"""Read-only Fortnox sync badges for host lists, from the plugin's ``sync_states``.

Any trouble (plugin tables missing) means no badges, never a broken invoice list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

log = logging.getLogger("example_host")


def sync_states(company_id: str, object_type: str, object_ids: Iterable[object]) -> dict[str, str]:
    """``{object_id: state}`` (pending, held, earlier, synced, failed,
    needs_attention)."""
    from .fortnox_setup import fortnox

    try:
        return fortnox.sync_states(company_id, object_type, [str(i) for i in object_ids])
    except SQLAlchemyError:
        log.warning("Could not read Fortnox sync states; showing none", exc_info=True)
        db.session.rollback()
        return {}
