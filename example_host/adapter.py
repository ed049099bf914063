"""The host side of the plugin contract: our models as the plugin's plain dataclasses.

Every lookup is scoped to the company the plugin asks about: another company's id answers
None, exactly like an id that does not exist, so a mix-up can never leak data across tenants.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from aourly_fortnox import (
    CustomerData,
    InvoiceData,
    InvoiceRowData,
    VoucherData,
    VoucherRowData,
)

from .extensions import db
from .models import Customer, Invoice, InvoiceStatus, Payout


def _int_id(value: str) -> int | None:
    """Host ids are strings at the boundary; ours are integers underneath."""
    try:
        return int(str(value))
    except ValueError:
        return None


class ExampleHostAdapter:
    """Implements :class:`aourly_fortnox.host.HostAdapter` for the example host."""

    def get_customer(self, company_id: str, customer_id: str) -> CustomerData | None:
        key = _int_id(customer_id)
        customer = db.session.get(Customer, key) if key is not None else None
        if customer is None or customer.company_id != str(company_id):
            return None
        return customer_data(customer)

    def get_invoice(self, company_id: str, invoice_id: str) -> InvoiceData | None:
        key = _int_id(invoice_id)
        invoice = db.session.get(Invoice, key) if key is not None else None
        if invoice is None or invoice.company_id != str(company_id):
            return None
        if invoice.status != InvoiceStatus.SENT:
            return None  # drafts never reach Fortnox
        return InvoiceData(
            id=str(invoice.id),
            number=str(invoice.number),
            customer_id=str(invoice.customer_id),
            invoice_date=invoice.invoice_date,
            due_date=invoice.due_date,
            rows=tuple(
                InvoiceRowData(
                    description=row.description,
                    quantity=row.quantity,
                    unit_price=row.unit_price,
                    vat_rate=row.vat_rate,
                )
                for row in invoice.rows
            ),
            currency="SEK",
        )

    def get_voucher(self, company_id: str, voucher_id: str) -> VoucherData | None:
        key = _int_id(voucher_id)
        payout = db.session.get(Payout, key) if key is not None else None
        if payout is None or payout.company_id != str(company_id):
            return None
        # The whole text: the plugin cuts it to what Fortnox takes beside its own marker.
        text = f"Payout to {payout.performer.name}: {payout.description}"
        return VoucherData(
            id=str(payout.id),
            description=text,
            transaction_date=payout.payout_date,
            rows=(
                # The cost of the performer's work against the money leaving the bank.
                VoucherRowData(debit=payout.amount, account_key="performer_costs"),
                VoucherRowData(credit=payout.amount, account_key="bank"),
            ),
        )

    def sent_invoice_ids(self, company_id: str) -> Iterable[str]:
        ids = db.session.scalars(
            select(Invoice.id)
            .where(Invoice.company_id == str(company_id), Invoice.status == InvoiceStatus.SENT)
            .order_by(Invoice.invoice_date, Invoice.id)
        )
        return [str(i) for i in ids]

    def voucher_ids(self, company_id: str) -> Iterable[str]:
        ids = db.session.scalars(
            select(Payout.id)
            .where(Payout.company_id == str(company_id))
            .order_by(Payout.payout_date, Payout.id)
        )
        return [str(i) for i in ids]


def customer_data(customer: Customer) -> CustomerData:
    return CustomerData(
        id=str(customer.id),
        name=customer.name,
        organisation_number=customer.organisation_number,
        email=customer.email,
        address=customer.address,
        zip_code=customer.zip_code,
        city=customer.city,
        country_code=customer.country_code or "SE",
        vat_number=customer.vat_number,
        vat_type=customer.vat_type,
        is_company=True,
    )
