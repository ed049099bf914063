"""What the Fortnox card shows: the truth about one company's connection, in one object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from .. import mapping
from ..models import Connection, ConnectionStatus, SyncRun, WorkerHeartbeat, utcnow
from ..queries import active_run, connection_status, get_connection, record_counts, session
from ..reasons import Reason
from ..state import state


@dataclass
class Card:
    """The truth about one company's connection, as the card and the health JSON show it."""

    company_id: str
    status: ConnectionStatus
    connection: Connection | None
    run: SyncRun | None
    counts: dict[str, int]
    mapping: mapping.MappingHealth
    worker_stale: bool
    not_configured: bool
    switch_pending: bool
    poll_interval: int
    timezone: str

    @property
    def running(self) -> bool:
        """A run is queued or running: the card polls, and "Sync now" is disabled meanwhile."""
        return self.run is not None

    @property
    def held(self) -> int:
        """Items sent while disconnected: the card offers to send them once reconnected."""
        return self.counts.get("held", 0)

    @property
    def problems(self) -> int:
        """Failed and needs-attention items: the card links them to the sync log."""
        return self.counts.get("failed", 0) + self.counts.get("needs_attention", 0)

    @property
    def pending(self) -> int:
        """Items waiting in the outbox for a worker to send them."""
        return self.counts.get("pending", 0)

    @property
    def mapping_summary(self) -> str:
        """The stored mapping line, worded when drawn (no chart loaded per poll)."""
        return self.mapping.summary()

    @property
    def mapping_complete(self) -> bool:
        """Colours the mapping line and feeds the health JSON's ``mapping_complete``."""
        return self.mapping.complete

    @property
    def mapping_warnings(self) -> tuple[Reason, ...]:
        """Doubts about the mapping the card lists (the first five); they do not block saving."""
        return self.mapping.warnings

    def local(self, moment: datetime | None) -> str:
        """A timestamp in the company's time zone, as the owner reads it."""
        return local_time(moment, self.timezone)


def local_time(moment: datetime | None, timezone: str) -> str:
    """A stored UTC time in the company's time zone, to the minute."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def worker_seen_recently() -> bool:
    """Whether any plugin worker wrote a heartbeat lately (else automatic sync is stuck)."""
    settings = state().settings
    if not settings.queue_is_async:
        return True  # jobs run inline: there is no worker to miss
    last = session().execute(select(func.max(WorkerHeartbeat.seen_at))).scalar()
    if last is None:
        return False
    return utcnow() - last < timedelta(seconds=int(settings.heartbeat_stale_after))


def mapping_health(company_id: str, conn: Connection | None) -> mapping.MappingHealth:
    """The stored mapping line; computed once (with the chart) for a row stored before the
    line was kept, never on every poll."""
    if conn is None or conn.database_number is None:
        return mapping.MappingHealth()
    if conn.mapping_health is None:
        health = mapping.store_health(company_id, mapping.build_view(company_id))
        session().commit()
        return health
    return mapping.MappingHealth.from_json(conn.mapping_health)


def build(company_id: str) -> Card:
    """Everything the card shows, in a handful of queries and without loading the chart."""
    settings = state().settings
    conn = get_connection(company_id)
    status = connection_status(conn)
    return Card(
        company_id=company_id,
        status=status,
        connection=conn,
        run=active_run(company_id),
        counts=record_counts(company_id),
        mapping=mapping_health(company_id, conn),
        worker_stale=status == ConnectionStatus.CONNECTED and not worker_seen_recently(),
        not_configured=not (settings.client_id and settings.client_secret),
        switch_pending=bool(conn and conn.pending_database_number is not None),
        poll_interval=int(settings.poll_interval),
        timezone=settings.timezone,
    )


def health(company_id: str) -> dict[str, Any]:
    """JSON for the host's monitoring. No tokens, no secrets."""
    card = build(company_id)
    conn = card.connection
    return {
        "status": card.status.value,
        "fortnox_company": conn.fortnox_company_name if conn else None,
        "last_sync_at": conn.last_sync_at.isoformat() if conn and conn.last_sync_at else None,
        "running": card.running,
        "records": card.counts,
        "mapping_complete": card.mapping_complete,
        "worker_running": not card.worker_stale,
    }
