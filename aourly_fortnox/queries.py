"""Read-only queries the views, the CLI and the host API share."""

from __future__ import annotations

from flask_sqlalchemy.session import Session
from sqlalchemy import func, select
from sqlalchemy.orm import scoped_session

from .models import (
    SUMMARY_STATES,
    Connection,
    ConnectionStatus,
    PulledVoucher,
    RecordState,
    RecordSummary,
    SyncRecord,
    SyncRun,
)
from .state import state


def session() -> scoped_session[Session]:
    """The host's SQLAlchemy session: the plugin's rows join the host's transactions."""
    return state().db.session


def get_connection(company_id: str) -> Connection | None:
    """The company's connection row (any state), or None before the first connect."""
    return session().execute(
        select(Connection).where(Connection.company_id == company_id)
    ).scalar_one_or_none()


def connection_status(conn: Connection | None) -> ConnectionStatus:
    """A row's state; no row means the company never connected."""
    return ConnectionStatus(conn.status) if conn else ConnectionStatus.NOT_CONNECTED


def record_summary(company_id: str) -> dict[str, dict[str, int]]:
    """``{object_type: {state: count}}`` from the maintained summary: one statement, the same
    cost at 10 and at 100,000 records."""
    rows = session().execute(
        select(RecordSummary).where(RecordSummary.company_id == company_id)
    ).scalars()
    return {row.object_type: {s: int(getattr(row, s) or 0) for s in SUMMARY_STATES}
            for row in rows}


def totals(summary: dict[str, dict[str, int]]) -> dict[str, int]:
    """Per-state totals over every object type of a ``record_summary``."""
    counts = {s.value: 0 for s in RecordState}
    for by_state in summary.values():
        for name, count in by_state.items():
            counts[name] = counts.get(name, 0) + count
    return counts


def record_counts(company_id: str) -> dict[str, int]:
    """How many outbox records are in each state for the company (from the summary)."""
    return totals(record_summary(company_id))


def counted_records(company_id: str) -> dict[str, int]:
    """The same counts as ``record_counts``, counted from the outbox itself (the sync log's
    check on the summary, and the tests')."""
    rows = session().execute(
        select(SyncRecord.state, func.count())
        .where(SyncRecord.company_id == company_id)
        .group_by(SyncRecord.state)
    ).all()
    counts = {s.value: 0 for s in RecordState}
    counts.update({row[0]: row[1] for row in rows})
    return counts


def last_finished_run(
    company_id: str, kinds: tuple[str, ...] = ("sync", "retry")
) -> SyncRun | None:
    """The latest run of these kinds that ended (finished or failed): the card says how the
    last one went."""
    return session().execute(
        select(SyncRun)
        .where(SyncRun.company_id == company_id, SyncRun.kind.in_(kinds),
               SyncRun.state.in_(("finished", "failed")))
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def active_run(company_id: str) -> SyncRun | None:
    """The run queued or running now, if any (one at a time per company)."""
    return session().execute(
        select(SyncRun)
        .where(SyncRun.company_id == company_id, SyncRun.state.in_(("queued", "running")))
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def recent_runs(company_id: str, limit: int = 20) -> list[SyncRun]:
    """The latest runs, newest first (the sync log's history)."""
    return list(
        session().execute(
            select(SyncRun)
            .where(SyncRun.company_id == company_id)
            .order_by(SyncRun.id.desc())
            .limit(limit)
        ).scalars()
    )


def pulled_vouchers(
    company_id: str, financial_year: int | None = None, series: str | None = None,
    limit: int | None = None, offset: int = 0,
) -> list[PulledVoucher]:
    """Vouchers read from the company's current Fortnox company, newest first (by date,
    then series and number); ``limit``/``offset`` page through them."""
    query = select(PulledVoucher).where(PulledVoucher.company_id == company_id)
    conn = get_connection(company_id)
    if conn is not None and conn.database_number is not None:
        query = query.where(PulledVoucher.database_number == conn.database_number)
    if financial_year is not None:
        query = query.where(PulledVoucher.financial_year == financial_year)
    if series is not None:
        query = query.where(PulledVoucher.series == series)
    query = query.order_by(
        PulledVoucher.transaction_date.desc(), PulledVoucher.series, PulledVoucher.number.desc()
    ).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session().execute(query).scalars())


def count_unrecorded_invoices(company_id: str, database_number: int) -> int:
    """How many sent host invoices have no row for this Fortnox company: asked of the host
    adapter once, at connect, and stored on the connection."""
    return len(unrecorded_invoice_ids(company_id, database_number))


def unrecorded_invoice_ids(company_id: str, database_number: int) -> list[str]:
    """Sent host invoices with no outbox row for this Fortnox company (nor an *earlier* one)."""
    adapter = state().adapter
    if adapter is None:
        return []
    recorded = set(session().execute(
        select(SyncRecord.object_id).where(
            SyncRecord.company_id == company_id,
            SyncRecord.object_type == "invoice",
            SyncRecord.database_number.in_((database_number, 0)),
        )
    ).scalars())
    return [str(i) for i in adapter.sent_invoice_ids(company_id) if str(i) not in recorded]
