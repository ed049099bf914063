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

from ..models import RecordState, SyncRecord, utcnow
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
    result = session().execute(
        update(SyncRecord)
        .where(SyncRecord.id == claim.record_id, SyncRecord.lease_token == claim.token)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session().commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def release(claims: Sequence[Claim]) -> None:
    """Give rows back untouched (the job stops early: limiter full, connection gone)."""
    for claim in claims:
        write(claim)
