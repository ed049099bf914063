"""Claiming outbox rows under a lease with a fencing token.

RQ only carries work; the row decides who works on it. A job claims due rows by writing its
own token and an expiry on them (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the one
UPDATE statement is atomic). Every later write is conditional on that token, checked right
before a request to Fortnox and again when the result is stored: a job whose lease was taken
over (it stalled past the expiry, its worker was killed) writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..models import RecordState, RecordSummary, SyncRecord, utcnow
from ..queries import session

#: The order a company's rows go in: a customer before the invoices that name it, then
#: vouchers (which need neither).
PUSH_ORDER = ("customer", "invoice", "voucher")


@dataclass(frozen=True)
class Claim:
    """One row held by one job: its id and the job's fencing token."""

    record_id: int
    token: str


def due_filter(company_id: str, database_number: int, now: datetime) -> list[Any]:
    """Rows of the company's current Fortnox company that are due and not held by a live
    lease."""
    return [
        SyncRecord.company_id == company_id,
        SyncRecord.database_number == database_number,
        SyncRecord.object_type.in_(PUSH_ORDER),
        SyncRecord.state.in_((RecordState.PENDING, RecordState.FAILED)),
        or_(SyncRecord.next_attempt_at.is_(None), SyncRecord.next_attempt_at <= now),
        or_(SyncRecord.lease_token.is_(None), SyncRecord.lease_expires_at < now),
    ]


def claim_due(
    company_id: str, database_number: int, limit: int, lease_seconds: float,
    job_id: str | None = None,
) -> list[Claim]:
    """Take up to ``limit`` due rows (customers first) under a new lease; commits."""
    now = utcnow()
    token = uuid.uuid4().hex
    order = case({kind: i for i, kind in enumerate(PUSH_ORDER)}, value=SyncRecord.object_type)
    due = (
        select(SyncRecord.id)
        .where(*due_filter(company_id, database_number, now))
        .order_by(order, SyncRecord.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    db_session = session()
    db_session.execute(
        update(SyncRecord)
        .where(SyncRecord.id.in_(due.scalar_subquery()))
        .values(lease_token=token, lease_expires_at=now + timedelta(seconds=lease_seconds),
                job_id=job_id)
        .execution_options(synchronize_session=False)
    )
    ids = db_session.execute(
        select(SyncRecord.id)
        .where(SyncRecord.lease_token == token)
        .order_by(order, SyncRecord.id)
    ).scalars().all()
    db_session.commit()
    return [Claim(record_id, token) for record_id in ids]


def is_due(company_id: str, database_number: int) -> bool:
    """Whether any row of the company could be claimed now."""
    found = session().execute(
        select(SyncRecord.id).where(*due_filter(company_id, database_number, utcnow())).limit(1)
    ).first()
    session().commit()
    return found is not None


def still_ours(claim: Claim, lease_seconds: float) -> bool:
    """Check the lease right before a write to Fortnox, and renew it; False: someone else
    works on the row now, so stop without writing."""
    result = session().execute(
        update(SyncRecord)
        .where(SyncRecord.id == claim.record_id, SyncRecord.lease_token == claim.token)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    session().commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def write(claim: Claim, keep_lease: bool = False, **values: Any) -> bool:
    """Store a result only while the lease is ours (and end the lease unless ``keep_lease``);
    commits. False: the lease was lost and nothing was written."""
    if not keep_lease:
        values.update(lease_token=None, lease_expires_at=None)
    if "state" in values:
        lock_summary(record_id=claim.record_id)
    if values.get("state") == RecordState.SYNCED:
        values["attention_notified_at"] = None  # a later problem is a new one
    result = session().execute(
        update(SyncRecord)
        .where(SyncRecord.id == claim.record_id, SyncRecord.lease_token == claim.token)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    written = bool(getattr(result, "rowcount", 0) == 1)
    if written and values.get("state") == RecordState.NEEDS_ATTENTION:
        notify_attention(claim.record_id)
    session().commit()
    return written


def notify_attention(record_id: int) -> None:
    """Send ``signals.sync_failed`` when an item newly needs the owner: once per item, never
    per retry (the row remembers it until the item reaches Fortnox). Runs before the commit
    of the state change; the signal goes after it (``dispatch``)."""
    result = session().execute(
        update(SyncRecord)
        .where(SyncRecord.id == record_id, SyncRecord.attention_notified_at.is_(None))
        .values(attention_notified_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return
    row = session().execute(
        select(SyncRecord.company_id, SyncRecord.object_type, SyncRecord.object_id,
               SyncRecord.label, SyncRecord.error_code, SyncRecord.error_params)
        .where(SyncRecord.id == record_id)
    ).one()
    session().info.setdefault(NOTIFY_KEY, []).append({
        "company_id": row.company_id, "record_id": record_id, "object_type": row.object_type,
        "object_id": row.object_id, "label": row.label, "code": row.error_code,
        "params": dict(row.error_params or {}),
    })


#: Items whose ``sync_failed`` signal waits for the commit (``dispatch.ATTENTION``).
NOTIFY_KEY = "aourly_fortnox_attention"


def lock_summary(company_id: str | None = None, record_id: int | None = None) -> None:
    """Take the company's summary rows before changing any row's state (PostgreSQL row locks;
    SQLite has one writer anyway). The summary is kept by triggers, so a state change locks it
    too; taking it first in every transaction that changes states keeps one lock order
    (summary, then rows) and so no deadlock between a push job and Retry all.

    A row that does not exist cannot be locked: a company's first records, written by
    several host requests at once, would each take no lock here, hold their records' row
    locks, and meet at the summary when migration 0008's fold runs at commit (a deadlock,
    seen in tests/engine/test_async_dispatch.py). So the rows are created first, zero,
    in key order; a concurrent creator of the same row is waited for, in the same order."""
    db_session = session()
    if db_session.get_bind(mapper=SyncRecord).dialect.name != "postgresql":
        return
    company = company_id if company_id is not None else db_session.execute(
        select(SyncRecord.company_id).where(SyncRecord.id == record_id)
    ).scalar_one_or_none()
    if company is None:
        return
    db_session.execute(
        pg_insert(RecordSummary)
        .values([{"company_id": company, "object_type": kind} for kind in sorted(PUSH_ORDER)])
        .on_conflict_do_nothing()
    )
    db_session.execute(
        select(RecordSummary.object_type)
        .where(RecordSummary.company_id == company)
        .order_by(RecordSummary.object_type)
        .with_for_update()
    ).all()


def release(claims: Sequence[Claim]) -> None:
    """Give rows back untouched (the job stops early: limiter full, connection gone)."""
    for claim in claims:
        write(claim)
