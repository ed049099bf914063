"""One invoice to Fortnox, exactly once, with the totals checked against our prediction.

- Its customer goes first; until the customer is in Fortnox the invoice waits as *pending*
  ("waiting for customer X").
- Pre-checks (financial year, locked period, every account mapped, existing and active) use
  the mapping and chart loaded once per job: no request per invoice.
- Before the POST the row records *post started*. An attempt that finds it without a remote
  id searches Fortnox for our reference (``ExternalInvoiceReference1``, compared exactly) and
  adopts a match before creating anything.
- After create, Fortnox's ``Total``/``TotalVAT`` are compared with the prediction; a
  difference keeps the invoice linked and needs the owner (Retry re-reads, never POSTs again).
  Only an invoice whose totals agree is booked (when the owner chose bookkeeping), and it is
  synced only once booked: a row created in Fortnox but never synced (the job stopped after
  the POST) is read again and finished, never left unbooked.
- An edit is PUT while Fortnox has neither booked nor cancelled the invoice; after that the
  owner credits it in Fortnox.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..fortnox.errors import NotFound, ValidationFailed
from ..fortnox.parsing import to_bool, to_decimal, to_str
from ..models import RecordState, SyncRecord, utcnow
from ..queries import session
from ..state import state
from . import leases, payloads
from .leases import Claim
from .outbox import record_push
from .push_context import NeedsOwner, PushContext, posting, synced
from .references import reference

#: Fortnox's code for an unknown customer (recorded; docs/fortnox.md, "Errors").
CUSTOMER_NOT_FOUND = 2000433

#: How long an invoice waits before it looks again for a customer still on its way.
CUSTOMER_WAIT_SECONDS = 5


def push(ctx: PushContext, claim: Claim, record: SyncRecord) -> None:
    """Bring one invoice row to *synced* (or to the owner, with the reason)."""
    invoice = ctx.adapter.get_invoice(ctx.company_id, record.object_id)
    if invoice is None:
        raise NeedsOwner("HOST_OBJECT_MISSING", kind="invoice", id=record.object_id)
    customer_row = _customer_row(ctx, invoice.customer_id)
    customer = ctx.adapter.get_customer(ctx.company_id, invoice.customer_id)
    if customer is None:
        raise NeedsOwner("HOST_OBJECT_MISSING", kind="customer", id=invoice.customer_id)
    if customer_row is None or customer_row.state != RecordState.SYNCED \
            or not customer_row.remote_id:
        _wait_for_customer(ctx, claim, customer_row, invoice.customer_id, customer.name)
        return
    ctx.resolver.check_date(invoice.invoice_date)
    accounts = {key: ctx.resolver.account(key, invoice.invoice_date)
                for key in sorted(payloads.account_keys(invoice, customer))}
    ref = reference(ctx.installation, ctx.company_id, "invoice", invoice.id)
    payload = payloads.invoice_payload(invoice, customer, customer_row.remote_id, ref, accounts)
    digest = payloads.body_hash(payload.body)
    if record.remote_id and record.synced_at is None:
        # Created in Fortnox but never settled: the job that posted it stopped before the
        # totals check or the bookkeeping (a crash, a 429, a 5xx), or the totals differed.
        _settle(ctx, claim, payload, digest, ctx.client.get_invoice(str(record.remote_id)))
        return
    if record.remote_id:
        _update(ctx, claim, record, payload, digest)
        return
    if record.post_started_at is not None:
        found = _find_ours(ctx, ref)
        if found is not None:  # our earlier POST went through: adopt it, never post again
            _settle(ctx, claim, payload, digest, ctx.client.get_invoice(found))
            return
    ctx.before_write(claim)
    started_before = record.post_started_at
    if not leases.write(claim, keep_lease=True, post_started_at=utcnow()):
        return
    try:
        with posting(claim, started_before):
            answer = ctx.client.create_invoice(payload.body["Invoice"])
    except (NotFound, ValidationFailed) as refused:
        if refused.code != CUSTOMER_NOT_FOUND:
            raise
        _customer_gone(ctx, customer_row, customer.name)
        raise NeedsOwner("CUSTOMER_GONE", number=customer_row.remote_id, name=customer.name) \
            from None
    document = str(answer["DocumentNumber"])
    # The remote id first, under the lease: whatever happens next, no second POST.
    if not leases.write(claim, keep_lease=True, remote_id=document, payload_hash=digest):
        return
    _settle(ctx, claim, payload, digest, answer)


def _customer_gone(ctx: PushContext, customer_row: SyncRecord, name: str) -> None:
    """The customer was deleted in Fortnox: list it for the owner, never recreate it
    silently."""
    leases.lock_summary(ctx.company_id)
    customer_row.state = RecordState.NEEDS_ATTENTION
    customer_row.error_code = "CUSTOMER_GONE"
    customer_row.error_params = {"number": customer_row.remote_id, "name": name}
    session().flush()
    leases.notify_attention(customer_row.id)
    session().commit()


def _customer_row(ctx: PushContext, customer_id: str) -> SyncRecord | None:
    return session().execute(
        select(SyncRecord).where(
            SyncRecord.company_id == ctx.company_id,
            SyncRecord.database_number == ctx.database_number,
            SyncRecord.object_type == "customer",
            SyncRecord.object_id == customer_id,
        )
    ).scalar_one_or_none()


def _wait_for_customer(ctx: PushContext, claim: Claim, customer_row: SyncRecord | None,
                       customer_id: str, name: str) -> None:
    """Not an error: the invoice waits (and says for whom) until its customer is in Fortnox;
    a customer that needs the owner holds it until the owner has chosen."""
    if customer_row is None:
        record_push(ctx.company_id, "customer", customer_id)
        session().commit()
    blocked = customer_row is not None and customer_row.state == RecordState.NEEDS_ATTENTION
    # Blocked on the owner: look again after the backoff cap (the owner's choice for the
    # customer releases it at once, see outbox.release_waiting).
    wait = float(state().settings.backoff_cap) if blocked else CUSTOMER_WAIT_SECONDS
    leases.write(
        claim, state=RecordState.PENDING, error_code="WAITING_FOR_CUSTOMER",
        error_params={"customer_id": customer_id, "name": name},
        next_attempt_at=utcnow() + timedelta(seconds=wait),
    )


def _find_ours(ctx: PushContext, ref: str) -> str | None:
    """The DocumentNumber of the invoice carrying exactly our reference, if Fortnox has one."""
    for item in ctx.client.find_invoices(externalinvoicereference1=ref):
        if to_str(item.get("ExternalInvoiceReference1")) == ref:
            return str(item["DocumentNumber"])
    return None


def _update(ctx: PushContext, claim: Claim, record: SyncRecord,
            payload: payloads.InvoicePayload, digest: str) -> None:
    """Pushed before: unchanged data re-reads only when it must; an edit is PUT while
    Fortnox allows it."""
    document = str(record.remote_id)
    if digest == record.payload_hash:
        if record.error_code == "TOTALS_DIFFER":  # Retry re-reads, never posts again
            _settle(ctx, claim, payload, digest, ctx.client.get_invoice(document))
        else:
            synced(claim, payload_hash=digest)
        return
    current = ctx.client.get_invoice(document)
    if to_bool(current.get("Booked")) or to_bool(current.get("Cancelled")):
        raise NeedsOwner("CHANGED_AFTER_BOOKING", number=document)
    ctx.before_write(claim)
    answer = ctx.client.update_invoice(document, payload.body["Invoice"])
    _settle(ctx, claim, payload, digest, answer)


def _settle(ctx: PushContext, claim: Claim, payload: payloads.InvoicePayload, digest: str,
            answer: dict[str, Any]) -> None:
    """Compare Fortnox's totals with ours. Different: the owner decides (the invoice stays
    linked, and is never booked for them). Equal: booked if the owner chose that and
    Fortnox has not booked it yet (also for an invoice adopted or resumed after a stop),
    then synced."""
    document = str(answer.get("DocumentNumber"))
    theirs = (to_decimal(answer.get("Total")), to_decimal(answer.get("TotalVAT")))
    ours = (payload.totals.total, payload.totals.total_vat)
    if theirs != ours:
        leases.write(
            claim, state=RecordState.NEEDS_ATTENTION, remote_id=document, payload_hash=digest,
            error_code="TOTALS_DIFFER",
            error_params={"number": document, "ours": str(ours[0]), "theirs": str(theirs[0]),
                          "ours_vat": str(ours[1]), "theirs_vat": str(theirs[1])},
            next_attempt_at=None,
        )
        return
    if ctx.bookkeep and not to_bool(answer.get("Booked")) \
            and not to_bool(answer.get("Cancelled")):
        ctx.before_write(claim)
        ctx.client.bookkeep_invoice(document)
    synced(claim, remote_id=document, remote_kind="created", payload_hash=digest)
