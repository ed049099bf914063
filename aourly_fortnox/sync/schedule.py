"""Periodic work: expiry and keep-alive of tokens, scheduled syncs, the reconcile sweep.

One tick does it all; the worker runs it under a Redis lock so N workers do not multiply it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..connection.clients import client_for
from ..connection.token_store import DatabaseTokenStore
from ..fortnox.errors import AuthorizationExpired, FortnoxError
from ..models import Connection, ConnectionStatus, SyncRun, utcnow
from ..queries import session
from ..queue import QueueUnavailable
from ..state import state
from .reconcile import reconcile_records, reconcile_runs
from .runs import enqueue_import

log = logging.getLogger("aourly_fortnox.schedule")


def run_tick() -> dict[str, int]:
    """One round of periodic work: expiry and keep-alive, scheduled syncs, the reconcile
    sweep. Safe to run at any time, from any process."""
    settings = state().settings
    now = utcnow()
    done = {"expired": 0, "kept_alive": 0}
    connections = list(
        session().execute(
            select(Connection).where(Connection.status == ConnectionStatus.CONNECTED)
        ).scalars()
    )
    keepalive_before = now - timedelta(seconds=int(settings.keepalive_interval))
    for conn in connections:
        company_id = conn.company_id
        # load() flips a refresh token past its lifetime to Expired.
        if DatabaseTokenStore(company_id).load() is None:
            done["expired"] += 1
            continue
        # An access token that has run out is refreshed even with no work due: access tokens
        # outlive a consent withdrawn in Fortnox, so only a refresh tells, and the card turns
        # Expired within one access-token lifetime (docs/fortnox.md, "Authorization").
        # (UTCDateTime hands stored times back aware, on SQLite too.)
        access_ended = conn.access_expires_at is not None and conn.access_expires_at <= now
        if access_ended or conn.token_refreshed_at is None \
                or conn.token_refreshed_at < keepalive_before:
            try:
                client_for(company_id).tokens.refresh_now()
                done["kept_alive"] += 1
            except AuthorizationExpired:
                done["expired"] += 1
            except FortnoxError as exc:
                log.warning("Keep-alive for company %s failed: %s", company_id, exc.reason)
    done["scheduled"] = schedule_syncs(now)
    done["reconciled"] = reconcile_runs()
    done["nudged"] = reconcile_records()
    session().expire_all()
    return done


def schedule_syncs(now: datetime) -> int:
    """Start a scheduled sync for every connected company whose last run is older than
    ``AOURLY_FORTNOX_SCHEDULED_SYNC_INTERVAL``. Disconnected and expired companies get none."""
    due_before = now - timedelta(seconds=int(state().settings.scheduled_sync_interval))
    last_run = (
        select(SyncRun.company_id, func.max(SyncRun.created_at).label("last"))
        .group_by(SyncRun.company_id)
        .subquery()
    )
    due = session().execute(
        select(Connection.company_id)
        .outerjoin(last_run, last_run.c.company_id == Connection.company_id)
        .where(
            Connection.status == ConnectionStatus.CONNECTED,
            (last_run.c.last.is_(None)) | (last_run.c.last < due_before),
        )
    ).scalars()
    started = 0
    for company_id in list(due):
        try:
            enqueue_import(company_id, kind="sync")
        except QueueUnavailable:
            break  # the next tick tries again
        started += 1
    return started
