"""One customer to Fortnox: link the owner's own customer, or create ours, exactly once.

- With an organisation number, look it up first (last four digits, compared normalised): one
  match is linked and never overwritten with our data; several need the owner's choice.
- Otherwise create it under our stable number. Fortnox's 2000637 (number taken) is settled by
  a GET: our own reference means a crash after an earlier POST (adopt it); anything else, or a
  404 (a deleted customer still holds the number), needs the owner.
- A customer we created is updated when the host's data changed (payload hash); unchanged
  data costs no request.
"""

from __future__ import annotations

from typing import Any

from ..fortnox.errors import NotFound, ValidationFailed
from ..fortnox.parsing import to_str
from ..models import SyncRecord, utcnow
from ..queries import session
from ..state import state
from . import leases, payloads
from .identity import normalise_org_number, search_fragment
from .leases import Claim
from .outbox import release_waiting
from .push_context import NeedsOwner, PushContext, posting, synced
from .references import customer_number, reference

NUMBER_TAKEN = 2000637


def push(ctx: PushContext, claim: Claim, record: SyncRecord) -> None:
    """Bring one customer row to *synced* (or to the owner, with the reason)."""
    customer = ctx.adapter.get_customer(ctx.company_id, record.object_id)
    if customer is None:
        raise NeedsOwner("HOST_OBJECT_MISSING", kind="customer", id=record.object_id)
    number = customer_number(str(state().settings.customer_number_prefix), customer.id)
    ref = reference(ctx.installation, ctx.company_id, "customer", customer.id)
    body = payloads.customer_payload(customer, number, ref)
    digest = payloads.body_hash(body)
    # Deleted in Fortnox, whose numbers are never reused: the owner's Retry looks the customer
    # up again (added anew in Fortnox, it is linked), never writes to the old number.
    remote_id = None if record.error_code == "CUSTOMER_GONE" else record.remote_id
    if remote_id:
        if record.remote_kind == "linked" or digest == record.payload_hash:
            done(ctx, claim, record, remote_id, record.remote_kind or "created", digest)
            return
        ctx.before_write(claim)
        try:
            ctx.client.update_customer(remote_id, body["Customer"])
        except NotFound:
            raise NeedsOwner("CUSTOMER_GONE", number=remote_id, name=customer.name) from None
        done(ctx, claim, record, remote_id, "created", digest)
        return
    if record.post_started_at is not None and _reference_at(ctx, number) == ref:
        done(ctx, claim, record, number, "created", digest)  # our earlier POST went through
        return
    normalised = normalise_org_number(customer.organisation_number)
    if normalised is not None and record.remote_kind != "create":  # "create": owner's choice
        matches = [
            found for found in ctx.client.find_customers(
                organisationnumber=search_fragment(normalised))
            if normalise_org_number(to_str(found.get("OrganisationNumber"))) == normalised
        ]
        # List items carry no ExternalReference (docs/fortnox.md, "Lists"): a match
        # under our own number is read in full to tell whether it is ours (kept up to date)
        # rather than the owner's (linked, never overwritten).
        if any(str(m.get("CustomerNumber")) == number for m in matches) \
                and _reference_at(ctx, number) == ref:
            done(ctx, claim, record, number, "created", digest)
            return
        if len(matches) == 1:
            done(ctx, claim, record, str(matches[0]["CustomerNumber"]), "linked", digest)
            return
        if len(matches) > 1:
            raise NeedsOwner(
                "CUSTOMER_AMBIGUOUS", candidates=[_candidate(m) for m in matches],
                name=customer.name, count=len(matches),
            )
    ctx.before_write(claim)
    started_before = record.post_started_at
    if not leases.write(claim, keep_lease=True, post_started_at=utcnow()):
        return
    try:
        with posting(claim, started_before):
            ctx.client.create_customer(body["Customer"])
    except ValidationFailed as refused:
        if refused.code != NUMBER_TAKEN:
            raise
        holder = _reference_at(ctx, number)
        if holder != ref:
            raise NeedsOwner(
                "CUSTOMER_NUMBER_DELETED" if holder is None else "CUSTOMER_NUMBER_TAKEN",
                number=number, name=customer.name,
            ) from None
    done(ctx, claim, record, number, "created", digest)


def _reference_at(ctx: PushContext, number: str) -> str | None:
    """The reference on Fortnox's customer ``number`` ("" without one); None for a 404,
    which after a 2000637 means a deleted customer still holds the number."""
    try:
        found = ctx.client.get_customer(number)
    except NotFound:
        return None
    return to_str(found.get("ExternalReference")) or ""


def _candidate(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": str(found.get("CustomerNumber")),
        "name": to_str(found.get("Name")) or "",
        "organisation_number": to_str(found.get("OrganisationNumber")) or "",
    }


def done(ctx: PushContext, claim: Claim, record: SyncRecord, number: str, kind: str,
         digest: str) -> None:
    """Synced: remember the Fortnox number, how we found it, and the data we sent."""
    if synced(claim, remote_id=number, remote_kind=kind, payload_hash=digest):
        release_waiting(ctx.company_id, ctx.database_number, record.object_id)
        session().commit()
