"""``/fortnox/health``: the owner's JSON about their company, and monitoring's about the
installation (with ``Authorization: Bearer <AOURLY_FORTNOX_HEALTH_TOKEN>``).

Neither names a company (not the host's, not the Fortnox one): monitoring systems store and
forward what they fetch. No token, secret or id of a Fortnox tenant either.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import request
from sqlalchemy import func, select

from ..models import Connection, ConnectionStatus, RecordState, SyncRecord
from ..queries import session
from ..state import state
from . import card


def company_health(company_id: str) -> dict[str, Any]:
    """One company's connection, as its owner may see it."""
    built = card.build(company_id)
    conn = built.connection
    return {
        "status": built.status.value,
        "last_sync_at": conn.last_sync_at.isoformat() if conn and conn.last_sync_at else None,
        "running": built.running,
        "records": built.counts,
        "mapping_complete": built.mapping_complete,
        "worker_running": not built.worker_stale,
    }


def installation_health() -> dict[str, Any]:
    """Every company together, counted: what a monitoring check needs, and nothing more."""
    connections = {s.value: 0 for s in ConnectionStatus if s != ConnectionStatus.NOT_CONNECTED}
    for status, count in session().execute(
        select(Connection.status, func.count()).group_by(Connection.status)
    ):
        connections[str(status)] = count
    records = {s.value: 0 for s in RecordState}
    for record_state, count in session().execute(
        select(SyncRecord.state, func.count()).group_by(SyncRecord.state)
    ):
        records[str(record_state)] = count
    return {
        "status": "ok",
        "connections": connections,
        "records": records,
        "worker_running": card.worker_seen_recently(),
    }


class BearerCheck:
    """What the request's ``Authorization`` header says about monitoring's access."""

    ABSENT = "absent"  # no bearer token sent: the owner's check applies
    VALID = "valid"
    REFUSED = "refused"  # sent, but wrong, or the token check is off


def bearer_check() -> str:
    """Compare the bearer token in constant time; a configured token is never echoed."""
    header = request.headers.get("Authorization", "")
    scheme, _, sent = header.partition(" ")
    if not header or scheme.lower() != "bearer":
        return BearerCheck.ABSENT
    expected = state().settings.health_token
    if not expected or not sent.strip():
        return BearerCheck.REFUSED
    if hmac.compare_digest(sent.strip().encode(), str(expected).encode()):
        return BearerCheck.VALID
    return BearerCheck.REFUSED
