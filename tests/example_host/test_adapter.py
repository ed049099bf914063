"""The adapter: our models as the plugin's dataclasses, never across companies."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from aourly_fortnox.host import HostAdapter
from example_host.adapter import ExampleHostAdapter
from example_host.extensions import db
from example_host.fortnox_setup import fortnox
from example_host.models import Customer, Invoice, InvoiceStatus, Payout


@pytest.fixture
def ctx(app: Flask) -> Iterator[ExampleHostAdapter]:
    with app.app_context():
        yield ExampleHostAdapter()


def test_it_implements_the_protocol() -> None:
    assert isinstance(ExampleHostAdapter(), HostAdapter)


def test_customer(ctx: ExampleHostAdapter) -> None:
    customer = db.session.scalars(
        select(Customer).where(Customer.company_id == "acme", Customer.vat_type == "EUREVERSEDVAT")
    ).one()
    data = ctx.get_customer("acme", str(customer.id))
    assert data is not None
    assert data.id == str(customer.id) and data.name == customer.name
    assert data.vat_type == "EUREVERSEDVAT" and data.vat_number and data.country_code == "DE"
    assert ctx.get_customer("globex", str(customer.id)) is None
    assert ctx.get_customer("acme", "not-a-number") is None
    assert ctx.get_customer("acme", "999999") is None


def test_sent_invoice_and_draft(ctx: ExampleHostAdapter) -> None:
    invoices = db.session.scalars(select(Invoice).where(Invoice.company_id == "acme")).all()
    sent = next(i for i in invoices if i.status == InvoiceStatus.SENT and len(i.rows) > 1)
    draft = next(i for i in invoices if i.status == InvoiceStatus.DRAFT)
    data = ctx.get_invoice("acme", str(sent.id))
    assert data is not None
    assert data.number == str(sent.number) and data.customer_id == str(sent.customer_id)
    assert data.invoice_date == sent.invoice_date
    assert all(isinstance(r.unit_price, Decimal) and isinstance(r.quantity, Decimal)
               for r in data.rows)
    assert [r.vat_rate for r in data.rows] == [r.vat_rate for r in sent.rows]
    assert ctx.get_invoice("acme", str(draft.id)) is None  # drafts never reach Fortnox
    assert ctx.get_invoice("globex", str(sent.id)) is None


def test_payout_becomes_a_balanced_voucher(ctx: ExampleHostAdapter) -> None:
    payout = db.session.scalars(select(Payout).where(Payout.company_id == "acme")).first()
    data = ctx.get_voucher("acme", str(payout.id))
    assert data is not None
    assert data.transaction_date == payout.payout_date
    debit, credit = data.rows
    assert (debit.account_key, debit.debit) == ("performer_costs", payout.amount)
    assert (credit.account_key, credit.credit) == ("bank", payout.amount)
    assert sum(r.debit for r in data.rows) == sum(r.credit for r in data.rows)
    assert ctx.get_voucher("globex", str(payout.id)) is None


def test_ids_for_backfill_are_strings_of_this_company_only(ctx: ExampleHostAdapter) -> None:
    sent = list(ctx.sent_invoice_ids("acme"))
    assert sent and all(isinstance(i, str) for i in sent)
    acme_sent = db.session.scalars(select(Invoice.id).where(
        Invoice.company_id == "acme", Invoice.status == InvoiceStatus.SENT)).all()
    assert sorted(sent) == sorted(str(i) for i in acme_sent)
    vouchers = list(ctx.voucher_ids("globex"))
    assert vouchers and not set(vouchers) & set(ctx.voucher_ids("acme"))


def test_backfill_hands_every_sent_invoice_and_payout_to_the_plugin(
    ctx: ExampleHostAdapter,
) -> None:
    invoices = list(ctx.sent_invoice_ids("acme"))
    customers = {ctx.get_invoice("acme", i).customer_id for i in invoices}  # type: ignore[union-attr]
    expected = len(invoices) + len(customers) + len(list(ctx.voucher_ids("acme")))
    assert fortnox.backfill("acme") == expected
    from aourly_fortnox.models import SyncRecord

    recorded = db.session.scalars(
        db.select(SyncRecord.object_id).where(SyncRecord.object_type == "customer")
    ).all()
    assert set(recorded) == customers and len(recorded) == len(customers)



def test_the_host_registered_its_mapping_key() -> None:
    info = fortnox.host_mapping_keys["performer_costs"]
    assert info.default_account == 4600
