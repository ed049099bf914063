"""Host data for the payload tests: a customer, an invoice, rows, and the BAS accounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from aourly_fortnox.host import CustomerData, InvoiceData, InvoiceRowData

REFERENCE = "AOU:0123456789abcdef"
#: The BAS defaults (docs/fortnox.md, "BAS accounts"), all in the sandbox's seeded chart.
ACCOUNTS = {"sales_25": 3001, "sales_12": 3002, "sales_6": 3003, "sales_0": 3004,
            "sales_eu": 3108, "sales_export": 3105, "consulting": 3041}


def customer(**fields: Any) -> CustomerData:
    values: dict[str, Any] = {
        "id": "42", "name": "Fjällbacka Rör AB", "organisation_number": "559087-6545",
        "email": "faktura@fjallbackaror.se", "address": "Hamngatan 1", "zip_code": "457 40",
        "city": "Fjällbacka",
    }
    values.update(fields)
    return CustomerData(**values)


def row(description: str = "Konsulttimmar", quantity: str = "1", price: str = "100",
        vat: int = 25, account_key: str | None = None) -> InvoiceRowData:
    return InvoiceRowData(description, Decimal(quantity), Decimal(price), vat, account_key)


def invoice(*rows: InvoiceRowData, day: date = date(2026, 3, 2), **fields: Any) -> InvoiceData:
    values: dict[str, Any] = {
        "id": "7", "number": "1007", "customer_id": "42", "invoice_date": day,
        "due_date": date.fromordinal(day.toordinal() + 30), "rows": rows or (row(),),
    }
    values.update(fields)
    return InvoiceData(**values)
