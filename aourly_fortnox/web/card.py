"""What the Fortnox card shows: the truth about one company's connection, in one object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from .. import mapping
from ..models import (
    Connection,
    ConnectionStatus,
    RecordState,
    SyncRecord,
    SyncRun,
    WorkerHeartbeat,
    utcnow,
)
from ..queries import (
    active_run,
    connection_status,
    get_connection,
    last_finished_run,
    record_summary,
    session,
    totals,
)
from ..reasons import Reason
from ..state import state


@dataclass(frozen=True)
class Failure:
    """The last sync failed: when, why (a reason code), and when it is tried again."""

    at: datetime | None
    code: str
    params: dict[str, Any]
    next_at: datetime | None


@dataclass
class Card:
    """The truth about one company's connection, as the card and the health JSON show it."""

    company_id: str
    status: ConnectionStatus
    connection: Connection | None
    run: SyncRun | None
    counts: dict[str, int]
    by_type: dict[str, dict[str, int]]
    failure: Failure | None
    #: The last sync ended with items still on their way (``SYNC_WAITING``), and some still
    #: are: the card says so rather than only "Last successful sync".
    unfinished: Reason | None
    due: bool
    mapping: mapping.MappingHealth
    worker_stale: bool
    not_configured: bool
    switch_pending: bool
    poll_interval: int
    timezone: str

    @property
    def running(self) -> bool:
        """A run is queued or running (not one waiting for its next try after a failure):
        "Sync now" is disabled meanwhile."""
        return self.run is not None and not _waiting_to_retry(self.run)

    @property
    def polling(self) -> bool:
        """The card refreshes itself while anything runs or is due, and stops when nothing is
        (a retry later, an item waiting for the owner: no polling)."""
        return self.running or (self.due and not self.worker_stale)

    @property
    def sending(self) -> bool:
        """The run sends items now (its progress counts items, not import steps)."""
        return self.run is not None and self.run.message == "SENDING"

    @property
    def waiting(self) -> int:
        """Items on their way: due now, or retried by themselves after a failed request."""
        return self.counts.get("pending", 0) + self.counts.get("failed", 0)

    @property
    def attention(self) -> int:
        """Items only the owner can move on (the sync log says why and how)."""
        return self.counts.get("needs_attention", 0)

    @property
    def earlier(self) -> int:
        """Invoices sent before the first connection, and (counted once at connect) those sent
        before the plugin was installed or only to a previous Fortnox company: offered, never
        sent by themselves."""
        recorded = self.by_type.get("invoice", {}).get("earlier", 0)
        stored = (self.connection.earlier_unrecorded or 0) if self.connection else 0
        return recorded + stored

    @property
    def held(self) -> int:
        """Items sent while disconnected: the card offers to send them once reconnected."""
        return self.counts.get("held", 0)

    @property
    def problems(self) -> int:
        """Items that need the owner (kept for hosts' templates: ``attention``)."""
        return self.attention

    @property
    def pending(self) -> int:
        """Items due in the outbox for a worker to send them."""
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

    def clock(self, moment: datetime | None) -> str:
        """A time of today as "16:40" (another day with its date), in the company's zone."""
        if moment is None:
            return ""
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        if local.date() == utcnow().astimezone(zone).date():
            return local.strftime("%H:%M")
        return local.strftime("%Y-%m-%d %H:%M")


def _waiting_to_retry(run: SyncRun) -> bool:
    return run.state == "queued" and run.message == "RETRYING"


def _when(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def last_failure(company_id: str, run: SyncRun | None,
                 last: SyncRun | None = None) -> Failure | None:
    """How the latest run ended, when it failed: a run waiting for its next try, or the
    latest finished run of any kind (``last``, read once by ``build``; none when a run is
    going now)."""
    if run is not None and _waiting_to_retry(run):
        params = dict(run.message_params or {})
        return Failure(_when(params.get("failed_at")), "FORTNOX_TEMPORARY", params,
                       _when(params.get("next_at")))
    if run is not None:
        return None
    if last is None:
        last = last_finished_run(company_id, ("import", "sync", "retry"))
    if last is None or last.state != "failed":
        return None
    params = dict(last.message_params or {})
    return Failure(last.finished_at, last.message or "UNEXPECTED", params,
                   _when(params.get("next_at")))


def anything_due(company_id: str, conn: Connection | None) -> bool:
    """Whether an item of the current Fortnox company is due now (one indexed query)."""
    if conn is None or conn.database_number is None:
        return False
    found = session().execute(
        select(SyncRecord.id).where(
            SyncRecord.company_id == company_id,
            SyncRecord.state.in_((RecordState.PENDING, RecordState.FAILED)),
            SyncRecord.database_number == conn.database_number,
            or_(SyncRecord.next_attempt_at.is_(None), SyncRecord.next_attempt_at <= utcnow()),
        ).limit(1)
    ).first()
    return found is not None


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
    """Everything the card shows, in at most six statements whatever the number of records
    (the counts come from the maintained summary) and without loading the chart."""
    settings = state().settings
    conn = get_connection(company_id)
    status = connection_status(conn)
    run = active_run(company_id)
    by_type = record_summary(company_id)
    counts = totals(by_type)
    connected = status == ConnectionStatus.CONNECTED
    waiting_now = counts.get("pending", 0) + counts.get("failed", 0)
    last = last_finished_run(company_id, ("import", "sync", "retry")) \
        if connected and run is None else None
    unfinished = None
    if last is not None and last.message == "SYNC_WAITING" and counts.get("pending", 0):
        # Those the sync left, fewer as the push job sends them.
        params = dict(last.message_params or {})
        left = min(int(params.get("waiting", 0)), counts.get("pending", 0))
        unfinished = Reason("SYNC_WAITING", {**params, "waiting": left}) if left else None
    return Card(
        company_id=company_id,
        status=status,
        connection=conn,
        run=run,
        counts=counts,
        by_type=by_type,
        failure=last_failure(company_id, run, last) if connected else None,
        unfinished=unfinished,
        due=bool(connected and (run is None or _waiting_to_retry(run)) and waiting_now
                 and anything_due(company_id, conn)),
        mapping=mapping_health(company_id, conn),
        worker_stale=status == ConnectionStatus.CONNECTED and not worker_seen_recently(),
        not_configured=not (settings.client_id and settings.client_secret),
        switch_pending=bool(conn and conn.pending_database_number is not None),
        poll_interval=int(settings.poll_interval),
        timezone=settings.timezone,
    )
