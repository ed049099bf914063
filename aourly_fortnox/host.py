"""The host contract: plain data the host hands to the plugin.

The plugin never imports the host. The host fills these dataclasses from its own models
(money as :class:`~decimal.Decimal`, dates as :class:`datetime.date` in the company's
time zone) and implements :class:`HostAdapter` so the sync engine can read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class CustomerData:
    """A host customer, as Fortnox needs it. Only ``name`` is required by Fortnox."""

    id: str
    name: str
    organisation_number: str | None = None
    email: str | None = None
    address: str | None = None
    zip_code: str | None = None
    city: str | None = None
    country_code: str = "SE"
    vat_number: str | None = None
    #: "SEVAT" (domestic), "EUREVERSEDVAT" (EU business, reverse charge) or "EXPORT".
    vat_type: str = "SEVAT"
    is_company: bool = True


@dataclass(frozen=True)
class InvoiceRowData:
    """One invoice row. ``unit_price`` excludes VAT; ``vat_rate`` is a whole percent."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: int
    #: A host mapping key for the sales account (e.g. a product category); None means the
    #: plugin picks ``sales_<vat>`` / ``sales_eu`` / ``sales_export`` from the customer.
    account_key: str | None = None


@dataclass(frozen=True)
class InvoiceData:
    """A sent host invoice. Drafts are never handed to the plugin."""

    id: str
    number: str
    customer_id: str
    invoice_date: date
    due_date: date
    rows: tuple[InvoiceRowData, ...]
    currency: str = "SEK"
    your_reference: str | None = None
    our_reference: str | None = None
    remarks: str | None = None


@dataclass(frozen=True)
class VoucherRowData:
    """One voucher row: exactly one of ``account`` and ``account_key`` is set."""

    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    account: int | None = None
    account_key: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class VoucherData:
    """A host voucher (in the example host: a payout to a performer)."""

    id: str
    description: str
    transaction_date: date
    rows: tuple[VoucherRowData, ...] = field(default_factory=tuple)


@runtime_checkable
class HostAdapter(Protocol):
    """What the plugin asks the host for. Return ``None`` for an object that does not exist
    (or does not belong to ``company_id``); the plugin records that as a clear failure."""

    def get_customer(self, company_id: str, customer_id: str) -> CustomerData | None:
        """A customer to push; Fortnox needs it before any invoice that names it."""
        ...

    def get_invoice(self, company_id: str, invoice_id: str) -> InvoiceData | None:
        """A sent invoice to push; backfill also reads it to queue its customer first."""
        ...

    def get_voucher(self, company_id: str, voucher_id: str) -> VoucherData | None:
        """A host voucher (in the example host, a payout) to book in Fortnox."""
        ...

    def sent_invoice_ids(self, company_id: str) -> Iterable[str]:
        """Every sent invoice of the company (for backfill), oldest first."""
        ...

    def voucher_ids(self, company_id: str) -> Iterable[str]:
        """Every host voucher of the company (for backfill), oldest first."""
        ...
