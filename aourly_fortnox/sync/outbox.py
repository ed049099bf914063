"""The outbox: intents recorded in the database first, then handed to the queue.

``record_push`` is what the host API calls; the database row is the truth about every item
(pending, held while disconnected, synced, failed with a reason). When the host's
transaction commits, the company's push job is nudged (``dispatch``); the push job (``push``)
does the rest. Nothing here speaks to Fortnox or to a browser: callers render what these
functions return.
"""

from __future__ import annotations

from sqlalchemy import select, text

from ..models import ConnectionStatus, RecordState, SyncRecord, utcnow
from ..queries import get_connection, session, unrecorded_invoice_ids
from ..state import state
from . import dispatch
from .leases import lock_summary
from .payloads import PayloadProblem, body_hash, customer_payload
from .references import customer_number, installation_id, reference


def label_for(company_id: str, object_type: str, object_id: str) -> str | None:
    """The item as the owner knows it, asked of the host once, when the item is recorded:
    an invoice's number and customer, a customer's name, a voucher's (payout's) text."""
    adapter = state().adapter
    if adapter is None:
        return None
    text: str | None = None
    if object_type == "invoice":
        invoice = adapter.get_invoice(company_id, object_id)
        if invoice is not None:
            customer = adapter.get_customer(company_id, invoice.customer_id)
            text = f"{invoice.number} · {customer.name}" if customer else invoice.number
    elif object_type == "customer":
        customer = adapter.get_customer(company_id, object_id)
        text = customer.name if customer else None
    elif object_type == "voucher":
        voucher = adapter.get_voucher(company_id, object_id)
        text = voucher.description if voucher else None
    return text[:255] if text else None


def record_push(
    company_id: str, object_type: str, object_id: str, commit: bool = False
) -> SyncRecord:
    """Record that a host object must reach Fortnox (idempotent per object).

    The row joins the caller's transaction (a transactional outbox: it is committed with the
    host's own change, or not at all); ``commit=True`` for callers outside a host transaction.
    Before the first connection the row is *earlier* (offered on the card after connecting,
    never sent by itself); while Disconnected after a connection it is *held*.
    """
    db_session = session()
    conn = get_connection(company_id)
    db_number = conn.database_number if conn and conn.database_number else 0
    lock_summary(company_id)
    if db_number:
        earlier = _row(company_id, 0, object_type, object_id)
        if earlier is not None and earlier.state == RecordState.EARLIER \
                and object_type == "customer" \
                and _row(company_id, db_number, object_type, object_id) is None:
            # A customer recorded before the first connection, now needed by an invoice
            # sent while connected: the row moves to this Fortnox company and goes.
            earlier.database_number = db_number
        elif earlier is not None and earlier.state == RecordState.EARLIER:
            # Sent before the first connection: it waits for the owner's offer (an edit
            # only renames it), never for the automatic push.
            earlier.label = label_for(company_id, object_type, object_id) or earlier.label
            _finish_record(commit)
            return earlier
    record = db_session.execute(
        select(SyncRecord).where(
            SyncRecord.company_id == company_id,
            SyncRecord.database_number == db_number,
            SyncRecord.object_type == object_type,
            SyncRecord.object_id == object_id,
        )
    ).scalar_one_or_none()
    if record is None:
        record = _insert_if_absent(company_id, db_number, object_type, object_id)
    record.label = label_for(company_id, object_type, object_id) or record.label
    never_connected = conn is None or conn.connected_at is None \
        or conn.status == ConnectionStatus.NOT_CONNECTED
    # Disconnected means nothing reaches Fortnox: hold it for the owner's "Send held items".
    disconnected = conn is not None and conn.status == ConnectionStatus.DISCONNECTED
    if record.state == RecordState.SYNCED and record.remote_id is not None \
            and object_type == "customer" and _customer_unchanged(company_id, record):
        pass  # a linked customer is never overwritten; unchanged data is a no-op
    elif never_connected and not disconnected:
        record.state = RecordState.EARLIER
        record.next_attempt_at = None
    elif disconnected:
        record.state = RecordState.HELD
        record.next_attempt_at = utcnow()
    else:
        # New, failed, or synced and maybe edited: the push job compares and decides.
        record.state = RecordState.PENDING
        record.attempts = 0
        record.next_attempt_at = utcnow()
        dispatch.remember(company_id)
    _finish_record(commit)
    return record


def _finish_record(commit: bool) -> None:
    if commit:
        session().commit()
    else:
        session().flush()


def _row(company_id: str, db_number: int, object_type: str, object_id: str) -> SyncRecord | None:
    return session().execute(
        select(SyncRecord).where(
            SyncRecord.company_id == company_id,
            SyncRecord.database_number == db_number,
            SyncRecord.object_type == object_type,
            SyncRecord.object_id == object_id,
        )
    ).scalar_one_or_none()


def _insert_if_absent(
    company_id: str, db_number: int, object_type: str, object_id: str
) -> SyncRecord:
    """The object's new row; when a concurrent host request inserts the same row (two sends
    of invoices of one new customer), that request's row, so neither commit fails on the
    unique constraint. PostgreSQL waits for the other transaction, then does nothing."""
    db_session = session()
    values = {"company_id": company_id, "database_number": db_number,
              "object_type": object_type, "object_id": object_id, "attempts": 0}
    dialect = db_session.get_bind(mapper=SyncRecord).dialect.name
    if dialect not in ("postgresql", "sqlite"):
        record = SyncRecord(**values)
        db_session.add(record)
        return record
    key = ["company_id", "database_number", "object_type", "object_id"]
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        db_session.execute(postgresql.insert(SyncRecord).values(**values)
                           .on_conflict_do_nothing(index_elements=key))
    else:
        from sqlalchemy.dialects import sqlite

        db_session.execute(sqlite.insert(SyncRecord).values(**values)
                           .on_conflict_do_nothing(index_elements=key))
    return db_session.execute(
        select(SyncRecord).where(
            SyncRecord.company_id == company_id,
            SyncRecord.database_number == db_number,
            SyncRecord.object_type == object_type,
            SyncRecord.object_id == object_id,
        )
    ).scalar_one()


def _customer_unchanged(company_id: str, record: SyncRecord) -> bool:
    """Whether a synced customer needs no push: one we linked (the owner's own), or one we
    created whose data is what we sent last."""
    if record.remote_kind == "linked":
        return True
    adapter = state().adapter
    customer = adapter.get_customer(company_id, record.object_id) if adapter else None
    if customer is None:
        return False
    number = customer_number(str(state().settings.customer_number_prefix), customer.id)
    ref = reference(installation_id(), company_id, "customer", customer.id)
    try:
        return body_hash(customer_payload(customer, number, ref)) == record.payload_hash
    except PayloadProblem:
        return False


def record_invoice(company_id: str, invoice_id: str) -> SyncRecord:
    """An invoice and, unless it is already in Fortnox, its customer (which goes first)."""
    adapter = state().adapter
    invoice = adapter.get_invoice(company_id, invoice_id) if adapter else None
    if invoice is not None:
        existing = session().execute(
            select(SyncRecord.state).where(
                SyncRecord.company_id == company_id,
                SyncRecord.object_type == "customer",
                SyncRecord.object_id == invoice.customer_id,
                SyncRecord.state == RecordState.SYNCED,
            )
        ).first()
        if existing is None:
            record_push(company_id, "customer", invoice.customer_id)
    return record_push(company_id, "invoice", invoice_id)


#: Items a backfill records with cached plans before it plans each statement: planning costs
#: more than the generic plan's scan over the first thousand rows (measured with psql: 0.7 s
#: cached against 1.2 s planned for the first 2,000 items, 29.1 s against 3.1 s for 10,000;
#: see bench/backfill.py).
CUSTOM_PLANS_AFTER = 1000


def plan_each_statement() -> None:
    """PostgreSQL: plan this transaction's statements for their own values, never with a
    cached generic plan. psycopg prepares a statement run 5 times on a connection, and after
    5 more runs PostgreSQL may keep one generic plan for it; on a table without statistics
    (the outbox before its first backfill, or rows this transaction inserted, which no
    ANALYZE sees), the generic plan of ``record_push``'s lookup by (company, Fortnox company,
    type, id) scans the company's index ``ix_fortnox_sync_record_log`` on ``company_id``
    alone: every lookup read every row recorded so far, so a backfill of N items was
    O(N^2) (bench/backfill.py). A custom plan uses the unique key. Until the commit only."""
    db_session = session()
    if db_session.get_bind(mapper=SyncRecord).dialect.name == "postgresql":
        db_session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def backfill(company_id: str) -> int:
    """Record every sent invoice (and its customer) and every host voucher; returns how many
    items (customers included) were recorded."""
    adapter = state().adapter
    if adapter is None:
        return 0
    recorded: set[tuple[str, str]] = set()

    def record(object_type: str, object_id: str) -> None:
        if (object_type, object_id) not in recorded:
            if len(recorded) == CUSTOM_PLANS_AFTER:
                plan_each_statement()
            record_push(company_id, object_type, object_id)
            recorded.add((object_type, object_id))

    for invoice_id in adapter.sent_invoice_ids(company_id):
        invoice = adapter.get_invoice(company_id, str(invoice_id))
        if invoice is not None:
            record("customer", invoice.customer_id)  # a customer goes before its invoices
        record("invoice", str(invoice_id))
    for voucher_id in adapter.voucher_ids(company_id):
        record("voucher", str(voucher_id))
    session().commit()  # backfill is its own unit of work (CLI or host API)
    return len(recorded)


def sync_states(company_id: str, object_type: str, object_ids: list[str]) -> dict[str, str]:
    """``{object_id: state}`` for the current Fortnox company (for the host's badges)."""
    if not object_ids:
        return {}
    conn = get_connection(company_id)
    db_number = conn.database_number if conn and conn.database_number else 0
    rows = session().execute(
        select(SyncRecord.object_id, SyncRecord.state, SyncRecord.database_number).where(
            SyncRecord.company_id == company_id,
            SyncRecord.object_type == object_type,
            SyncRecord.object_id.in_(object_ids),
            SyncRecord.database_number.in_((db_number, 0)),
        )
    ).all()
    # A row bound to the current Fortnox company wins over one not bound yet (sorted last).
    ordered = sorted(rows, key=lambda row: row.database_number == db_number)
    return {row.object_id: str(row.state) for row in ordered}


def held_records(company_id: str) -> list[SyncRecord]:
    """Items sent while disconnected, waiting for the owner's "Send held items"."""
    return list(
        session().execute(
            select(SyncRecord).where(
                SyncRecord.company_id == company_id, SyncRecord.state == RecordState.HELD
            )
        ).scalars()
    )


def send_held(company_id: str) -> int | None:
    """Release held items to the current Fortnox company: how many, or None when not
    connected (they stay held)."""
    conn = get_connection(company_id)
    if conn is None or conn.status != ConnectionStatus.CONNECTED:
        return None
    lock_summary(company_id)
    held = held_records(company_id)
    for record in held:
        record.state = RecordState.PENDING
        record.database_number = conn.database_number or 0
        record.next_attempt_at = utcnow()
    if held:
        dispatch.remember(company_id)
    session().commit()
    return len(held)


def earlier_records(company_id: str) -> list[SyncRecord]:
    """Items recorded before the first connection, waiting for the owner's offer."""
    return list(
        session().execute(
            select(SyncRecord)
            .where(SyncRecord.company_id == company_id, SyncRecord.state == RecordState.EARLIER)
            .order_by(SyncRecord.id)
        ).scalars()
    )


def send_earlier(company_id: str) -> int | None:
    """The owner confirmed the offer: invoices sent before the first connection (and, through
    backfill, those sent before the plugin was installed or only to a previous Fortnox
    company) go to the current Fortnox company. How many invoices, or None when not connected
    (nothing changes)."""
    conn = get_connection(company_id)
    if conn is None or conn.status != ConnectionStatus.CONNECTED or not conn.database_number:
        return None
    db_number = conn.database_number
    plan_each_statement()  # as many items as a backfill
    lock_summary(company_id)
    count = 0
    for record in earlier_records(company_id):
        if _row(company_id, db_number, record.object_type, record.object_id) is not None:
            # Recorded again since (a customer of a later invoice): that row carries it.
            session().delete(record)
            continue
        record.state = RecordState.PENDING
        record.database_number = db_number
        record.attempts = 0
        record.next_attempt_at = utcnow()
        count += record.object_type == "invoice"
    session().flush()
    for invoice_id in unrecorded_invoice_ids(company_id, db_number):
        record_invoice(company_id, invoice_id)
        count += 1
    conn.earlier_unrecorded = 0
    dispatch.remember(company_id)
    session().commit()
    return count


def problem_records(company_id: str) -> list[SyncRecord]:
    """Items that failed or need the owner, newest first (the sync log lists them)."""
    return list(
        session().execute(
            select(SyncRecord)
            .where(
                SyncRecord.company_id == company_id,
                SyncRecord.state.in_((RecordState.FAILED, RecordState.NEEDS_ATTENTION)),
            )
            .order_by(SyncRecord.updated_at.desc())
        ).scalars()
    )


def retry(company_id: str, record_id: int) -> bool:
    """Queue one failed record again. False (-> 404) for another company's record."""
    lock_summary(company_id)
    record = session().get(SyncRecord, record_id)
    if record is None or record.company_id != company_id:
        return False
    if record.state in (RecordState.FAILED, RecordState.NEEDS_ATTENTION):
        record.state = RecordState.PENDING
        record.attempts = 0
        record.next_attempt_at = utcnow()
        dispatch.remember(company_id)
        session().commit()
    return True


def retry_all(company_id: str) -> int:
    """Queue every failed item of the company again; returns how many."""
    lock_summary(company_id)
    records = problem_records(company_id)
    for record in records:
        record.state = RecordState.PENDING
        record.attempts = 0
        record.next_attempt_at = utcnow()
    if records:
        dispatch.remember(company_id)
    session().commit()
    return len(records)


def link_customer(
    company_id: str, record_id: int, customer_number: str | None, create: bool
) -> bool | None:
    """The owner's choice for a customer with several Fortnox matches: link one of them
    (never overwritten), or create a new customer. None (-> 404) for another company's row
    or a row without that choice; False for a number that is not one of the candidates."""
    lock_summary(company_id)
    record = session().get(SyncRecord, record_id)
    if record is None or record.company_id != company_id or record.object_type != "customer" \
            or not record.candidates:
        return None
    if create:
        record.remote_kind = "create"  # the push skips the lookup and creates ours
        record.state = RecordState.PENDING
    else:
        numbers = {str(c.get("number")) for c in record.candidates}
        if customer_number not in numbers:
            return False
        record.remote_id = customer_number
        record.remote_kind = "linked"
        record.state = RecordState.SYNCED
        record.synced_at = utcnow()
        record.attention_notified_at = None  # a later problem is a new one
        release_waiting(company_id, record.database_number, record.object_id)
    record.candidates = None
    record.error_code = None
    record.error_params = None
    record.attempts = 0
    record.next_attempt_at = utcnow()
    dispatch.remember(company_id)
    session().commit()
    return True


def release_waiting(company_id: str, database_number: int, customer_id: str) -> None:
    """A customer reached Fortnox: invoices that waited for it are due now (caller commits)."""
    for waiting in session().execute(
        select(SyncRecord).where(
            SyncRecord.company_id == company_id,
            SyncRecord.database_number == database_number,
            SyncRecord.object_type == "invoice",
            SyncRecord.state == RecordState.PENDING,
            SyncRecord.error_code == "WAITING_FOR_CUSTOMER",
        )
    ).scalars():
        if (waiting.error_params or {}).get("customer_id") == customer_id:
            waiting.next_attempt_at = utcnow()
