"""The dry run: what the next sync (or the earlier-invoices offer) would send, without
sending anything.

It counts the items per type, says which customers would be linked to the owner's own
Fortnox customers (found by organisation number: a read) and which would be created, and
builds the exact body of the next item with the same payload builders the push uses. It
never writes to Fortnox: reads only, and at most ``CHECK_LIMIT`` of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, union_all

from ..connection.clients import client_for
from ..fortnox.errors import FortnoxError
from ..fortnox.parsing import to_str
from ..host import CustomerData
from ..mapping import AccountResolver
from ..models import ConnectionStatus, RecordState, SyncRecord, utcnow
from ..queries import get_connection, record_summary, session, unrecorded_invoice_ids
from ..reasons import Problem, Reason
from ..state import state
from . import payloads
from .identity import normalise_org_number, search_fragment
from .leases import PUSH_ORDER, due_filter
from .references import customer_number, installation_id, reference

#: How many customers the preview looks up in Fortnox (one read each).
CHECK_LIMIT = 20
#: How many items the preview lists by name.
LIST_LIMIT = 50
#: How many items the preview reads to plan customers and find the next body. The counts come
#: from the record summary whatever the number of items; past this sample, customers count as
#: not looked up (bench/pages.py measured the preview at 11.7 s p95 for 40,000 due items
#: before the cap). The page lists ``LIST_LIMIT`` items and looks up ``CHECK_LIMIT``
#: customers in Fortnox; each sampled customer is one call to the host's adapter.
SAMPLE_LIMIT = 100


@dataclass
class CustomerPlan:
    """What the sync would do with one customer."""

    id: str
    name: str
    organisation_number: str
    #: The Fortnox number it would be linked to, or created under (None: not checked).
    number: str | None


@dataclass
class Preview:
    """The dry run's answer."""

    counts: dict[str, int] = field(default_factory=dict)
    linked: list[CustomerPlan] = field(default_factory=list)
    created: list[CustomerPlan] = field(default_factory=list)
    unchecked: int = 0
    next_kind: str | None = None
    next_label: str | None = None
    next_payload: str | None = None
    problem: Reason | None = None
    connected: bool = False
    #: The first ``LIST_LIMIT`` items: (type, host id, label).
    items: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many items would be sent."""
        return sum(self.counts.values())


def _counts(company_id: str, earlier: bool) -> dict[str, int]:
    """Items per type on their way to Fortnox, from the maintained record summary (one
    statement, the same cost at 10 and at 100,000 records; bench/pages.py): for the next sync
    the pending and failed ones, as the card counts them (a failed item is retried by itself),
    for the offer the earlier ones."""
    states = ("earlier",) if earlier else ("pending", "failed")
    return {kind: total for kind, by_state in record_summary(company_id).items()
            if kind in PUSH_ORDER and (total := sum(by_state.get(s, 0) for s in states))}


def _sample(company_id: str, db_number: int, earlier: bool,
            counts: dict[str, int]) -> list[tuple[str, str, str | None]]:
    """The first ``SAMPLE_LIMIT`` items as (type, id, label), in the order the push claims
    them: customers first, then by id.

    One read per type and state, each taking its lowest ids through the queue index
    (migration 0009), so a read walks the rows it returns, not every due row of the company
    (sorting those made the preview 18.5 times slower at 100,000 records than at 10)."""
    now = utcnow()
    states = (RecordState.EARLIER,) if earlier else (RecordState.PENDING, RecordState.FAILED)
    items: list[tuple[str, str, str | None]] = []
    for kind in PUSH_ORDER:
        room = SAMPLE_LIMIT - len(items)
        if room <= 0:
            break
        if not counts.get(kind):  # none on its way (the summary): nothing to read
            continue
        reads = []
        for record_state in states:
            where = [SyncRecord.company_id == company_id, SyncRecord.object_type == kind,
                     SyncRecord.state == record_state]
            if not earlier:  # exactly what the push would claim now (leases.due_filter)
                where += due_filter(company_id, db_number, now)
            reads.append(
                select(SyncRecord.id, SyncRecord.object_id, SyncRecord.label).where(*where)
                .order_by(SyncRecord.id).limit(room).subquery().select())
        rows = session().execute(union_all(*reads) if len(reads) > 1 else reads[0]).all()
        items += [(kind, str(r.object_id), r.label)
                  for r in sorted(rows, key=lambda r: int(r.id))[:room]]
    return items


def _items(
    company_id: str, db_number: int, earlier: bool
) -> tuple[dict[str, int], list[tuple[str, str, str | None]]]:
    """The counts per type of what would be sent, and the first ``SAMPLE_LIMIT`` items as
    (type, id, label), customers first."""
    counts = _counts(company_id, earlier)
    items = _sample(company_id, db_number, earlier, counts)
    if earlier and db_number:
        unrecorded = list(unrecorded_invoice_ids(company_id, db_number))
        if unrecorded:
            counts["invoice"] = counts.get("invoice", 0) + len(unrecorded)
            room = max(0, SAMPLE_LIMIT - len(items))
            items += [("invoice", invoice_id, None) for invoice_id in unrecorded[:room]]
    return counts, items


def build(company_id: str, earlier: bool = False) -> Preview:
    """The preview of the next sync (``earlier``: of the earlier-invoices offer)."""
    conn = get_connection(company_id)
    adapter = state().adapter
    db_number = conn.database_number if conn and conn.database_number else 0
    preview = Preview(connected=bool(conn and conn.status == ConnectionStatus.CONNECTED))
    preview.counts, items = _items(company_id, db_number, earlier)
    preview.items = items[:LIST_LIMIT]
    customers: dict[str, CustomerData] = {}
    invoices = {object_id: invoice for kind, object_id, _label in items
                if kind == "invoice" and earlier and adapter is not None
                and (invoice := adapter.get_invoice(company_id, object_id)) is not None}
    # Which of the planned customers are already in Fortnox. A due customer of the next sync
    # has its row in this Fortnox company, so it is not synced there (one row per customer
    # and company): only the offer's customers are looked up. (Looking up the sample's 100
    # made PostgreSQL walk every customer of the company: 10 ms at 100,000 records.)
    synced = _synced_customers(company_id, db_number, {
        object_id for kind, object_id, _label in items if kind == "customer"
    } | {invoice.customer_id for invoice in invoices.values()}) if earlier else {}
    # Customers past the sample are not planned: they count as not looked up.
    preview.unchecked = preview.counts.get("customer", 0) - sum(
        1 for kind, _id, _label in items if kind == "customer")
    for kind, object_id, _label in items:
        if adapter is None:
            continue
        if kind == "customer" and object_id not in synced:
            found = adapter.get_customer(company_id, object_id)
            if found is not None:
                customers[found.id] = found
        elif kind == "invoice" and object_id in invoices:
            invoice = invoices[object_id]
            if invoice.customer_id not in synced and invoice.customer_id not in customers:
                found = adapter.get_customer(company_id, invoice.customer_id)
                if found is not None:
                    customers[found.id] = found
    if earlier:
        listed = {object_id for kind, object_id, _label in items if kind == "customer"}
        extra = [c for c in customers if c not in listed]
        if extra:
            preview.counts["customer"] = preview.counts.get("customer", 0) + len(extra)
    numbers = _plan_customers(preview, company_id, list(customers.values()))
    # The next item that would be sent: a customer that is linked sends nothing.
    linked = {plan.id for plan in preview.linked}
    sent = [item for item in items if not (item[0] == "customer" and item[1] in linked)]
    if sent and adapter is not None:
        _next_payload(preview, company_id, db_number, sent[0], numbers)
    return preview


def _synced_customers(company_id: str, db_number: int, ids: set[str]) -> dict[str, str]:
    """Which of these customers are already in this Fortnox company: ``{host id: Fortnox
    number}`` (a lookup by the outbox's unique key, however many customers are synced)."""
    if not ids:
        return {}
    # By the outbox's unique key alone: with the state in the WHERE clause SQLite chose the
    # queue index and read every synced customer (6 ms at 100,000 records).
    rows = session().execute(
        select(SyncRecord.object_id, SyncRecord.state, SyncRecord.remote_id).where(
            SyncRecord.company_id == company_id, SyncRecord.database_number == db_number,
            SyncRecord.object_type == "customer", SyncRecord.object_id.in_(sorted(ids)),
        )
    ).all()
    return {r.object_id: str(r.remote_id) for r in rows
            if r.state == RecordState.SYNCED and r.remote_id is not None}


def _plan_customers(preview: Preview, company_id: str,
                    customers: list[CustomerData]) -> dict[str, str]:
    """Linked or created, per customer: a read per organisation number, up to the limit."""
    prefix = str(state().settings.customer_number_prefix)
    client = None
    numbers: dict[str, str] = {}
    for index, customer in enumerate(customers):
        ours = customer_number(prefix, customer.id)
        plan = CustomerPlan(customer.id, customer.name, customer.organisation_number or "", ours)
        normalised = normalise_org_number(customer.organisation_number)
        if normalised is None:
            preview.created.append(plan)
            numbers[customer.id] = ours
            continue
        if not preview.connected or index >= CHECK_LIMIT:
            preview.unchecked += 1
            continue
        try:
            client = client or client_for(company_id, limiter_max_wait=2.0)
            matches = [
                m for m in client.find_customers(organisationnumber=search_fragment(normalised))
                if normalise_org_number(to_str(m.get("OrganisationNumber"))) == normalised
            ]
        except FortnoxError:
            preview.unchecked += 1
            continue
        if len(matches) == 1:
            plan.number = str(matches[0].get("CustomerNumber"))
            preview.linked.append(plan)
        elif matches:
            plan.number = None  # several: the owner chooses in the sync log
            preview.linked.append(plan)
        else:
            preview.created.append(plan)
        if plan.number:
            numbers[customer.id] = plan.number
    return numbers


def _next_payload(preview: Preview, company_id: str, db_number: int,
                  item: tuple[str, str, str | None], numbers: dict[str, str]) -> None:
    """The exact body the next item would be sent with (or why it could not be sent)."""
    adapter = state().adapter
    assert adapter is not None
    kind, object_id, label = item
    preview.next_kind, preview.next_label = kind, label or object_id
    install = installation_id()
    body: dict[str, Any] | None = None
    try:
        if kind == "customer":
            customer = adapter.get_customer(company_id, object_id)
            if customer is not None:
                number = customer_number(str(state().settings.customer_number_prefix),
                                         customer.id)
                body = payloads.customer_payload(
                    customer, number, reference(install, company_id, "customer", customer.id))
        elif kind == "invoice":
            invoice = adapter.get_invoice(company_id, object_id)
            customer = adapter.get_customer(company_id, invoice.customer_id) if invoice else None
            if invoice is not None and customer is not None:
                synced = _synced_customers(company_id, db_number, {customer.id})
                number = synced.get(customer.id) or numbers.get(customer.id) or customer_number(
                    str(state().settings.customer_number_prefix), customer.id)
                resolver = AccountResolver(company_id)
                resolver.check_date(invoice.invoice_date)
                accounts = {key: resolver.account(key, invoice.invoice_date)
                            for key in sorted(payloads.account_keys(invoice, customer))}
                body = payloads.invoice_payload(
                    invoice, customer, number,
                    reference(install, company_id, "invoice", invoice.id), accounts).body
                preview.next_label = label or f"{invoice.number} · {customer.name}"
    except Problem as problem:
        preview.problem = Reason(problem.code, problem.params)
        return
    if body is not None:
        preview.next_payload = json.dumps(body, indent=2, ensure_ascii=False)
