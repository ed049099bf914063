"""Customer invoices: create, update while unbooked, bookkeep, cancel.

An invoice needs an existing customer (400 with 2000433 "Kan inte hitta kunden." otherwise: a
sandbox choice of status, the code is Fortnox's). Row accounts must exist and be active in the
financial year covering ``InvoiceDate`` (or the current year when none covers it). Only SEK is
known (2000427), and no articles exist (2000428). Texts over Fortnox's published lengths are
refused (:mod:`field_limits`). Booked invoices cannot be changed (2000764).
Bookkeeping creates a voucher in series B (``ReferenceType`` INVOICE): debit CUSTCLAIM (1510)
the total, credit each sales account its net, each OUTVAT_MP* its VAT and ROUNDOFF (3740) the
öresavrundning.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from . import errors, field_limits, ledger, vouchers
from .invoice_math import (
    OUTVAT_BY_VAT,
    SALES_BY_VAT,
    VAT_BY_CODE,
    VAT_RATES,
    invoice_ledger,
    ocr_for,
    row_amounts,
)
from .invoice_shape import (
    BOOLEANS,
    DATES,
    EDI_READ_ONLY,
    EDI_WRITABLE,
    ENUMS,
    LIST_FIELDS,
    NUMBERS,
    OBJECTS,
    READ_ONLY,
    ROW_READ_ONLY,
    ROW_WRITABLE,
    WRITABLE,
    blank_invoice,
)
from .store import Store
from .values import ZERO, amount, decimal_of, to_bool, to_date, to_decimal, to_int, to_text

PREDEFINED_MISSING = 2001304  # "Kunde inte hitta konto": a predefined account is not set


def invoice_full(invoice: dict[str, Any], base: str) -> dict[str, Any]:
    """The single-GET shape: the stored invoice plus its ``@url`` on this server."""
    return {"@url": f"{base}/3/invoices/{invoice['DocumentNumber']}", **invoice}


def invoice_item(invoice: dict[str, Any], base: str) -> dict[str, Any]:
    """List items are a subset; ``CurrencyRate`` is the string ``"1"`` here (recorded)."""
    full = invoice_full(invoice, base)
    item = {name: full.get(name) for name in LIST_FIELDS}
    item["CurrencyRate"] = format(decimal_of(invoice["CurrencyRate"]).normalize(), "f")
    return item


def get_invoice(store: Store, db: int, number: str) -> dict[str, Any]:
    """A stored invoice, or Fortnox's 404 2000434."""
    found = store.get(db, "invoice", number)
    if found is None:
        raise errors.not_found(errors.INVOICE_NOT_FOUND, "Kan inte hitta fakturan.")
    return found


def _put(store: Store, db: int, invoice: dict[str, Any]) -> None:
    number = invoice["DocumentNumber"]
    store.put(db, "invoice", number, invoice, sort=f"{int(number):012d}")


def _head_changes(payload: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, value in payload.items():
        if name in READ_ONLY or name == "InvoiceRows":
            continue
        if name not in WRITABLE:
            raise errors.bad_request(errors.INVALID_FIELD, f"Felaktigt fältnamn ({name})")
        if name in DATES:
            changes[name] = (
                to_date(value, name).isoformat()
                if value
                else (None if name == "DeliveryDate" else "")
            )
        elif name in NUMBERS:
            changes[name] = amount(to_decimal(value, name))
        elif name in BOOLEANS:
            changes[name] = to_bool(value, name)
        elif name in ENUMS:
            if value not in ENUMS[name]:
                raise errors.bad_request(errors.INVALID_VALUE, f"Ogiltigt värde ({name}): {value}.")
            changes[name] = value
        elif name in OBJECTS:
            if not isinstance(value, OBJECTS[name]):
                raise errors.no_data(name)
            changes[name] = value
        else:
            changes[name] = to_text(value, name) or ""
    field_limits.check_lengths(changes, field_limits.INVOICE)
    if changes.get("Currency", "SEK") != "SEK":
        raise errors.bad_request(errors.CURRENCY_NOT_FOUND, "Kan inte hitta valutan.")
    terms = changes.get("TermsOfPayment")
    if terms is not None and not str(terms).isdigit():
        raise errors.bad_request(
            errors.TERMS_OF_PAYMENT_NOT_FOUND, "Kan inte hitta betalningsvillkoret."
        )
    return changes


def _rows(
    store: Store, db: int, year_id: int, raw_rows: Any, vat_included: bool
) -> list[dict[str, Any]]:
    if isinstance(raw_rows, dict):
        raise errors.bad_request(errors.WRONG_STRUCTURE, "Felaktig datastruktur (InvoiceRows).")
    if not isinstance(raw_rows, list) or not all(isinstance(row, dict) for row in raw_rows):
        raise errors.no_data("InvoiceRows")
    rows = []
    for row_id, raw in enumerate(raw_rows, start=1):
        for name in raw:
            if name not in ROW_WRITABLE and name not in ROW_READ_ONLY:
                raise errors.bad_request(errors.INVALID_FIELD, f"Felaktigt fältnamn ({name})")
        if raw.get("ArticleNumber"):
            raise errors.bad_request(
                errors.ARTICLE_NOT_FOUND, f"Kan inte hitta artikeln ({raw['ArticleNumber']})."
            )
        vat = to_int(raw["VAT"], "VAT") if raw.get("VAT") not in (None, "") else None
        if vat is not None and vat not in VAT_RATES:
            raise errors.bad_request(errors.INVALID_VAT, f"Ogiltig momssats ({vat}).")
        if raw.get("AccountNumber") not in (None, "", 0):
            account = ledger.check_account(
                store, db, year_id, raw["AccountNumber"], "AccountNumber"
            )
            if vat is None:
                vat = VAT_BY_CODE.get(account.get("VATCode") or "", 25)
        else:
            vat = 25 if vat is None else vat
            number = _predefined(store, db, SALES_BY_VAT[vat])
            account = ledger.check_account(store, db, year_id, number, "AccountNumber")
        discount_type = raw.get("DiscountType") or "PERCENT"
        if discount_type not in {"PERCENT", "AMOUNT"}:
            raise errors.bad_request(errors.INVALID_VALUE, "Ogiltigt värde (DiscountType).")
        discount = to_decimal(raw.get("Discount") or 0, "Discount")
        row = {
            "AccountNumber": account["Number"],
            "ArticleNumber": "",
            "CostCenter": to_text(raw.get("CostCenter"), "CostCenter") or "",
            "Description": to_text(raw.get("Description"), "Description") or "",
            "Discount": amount(discount),
            "DiscountType": discount_type,
            "HouseWork": to_bool(raw.get("HouseWork", False), "HouseWork"),
            "Project": to_text(raw.get("Project"), "Project") or "",
            "RowId": row_id,
            "Unit": to_text(raw.get("Unit"), "Unit") or "",
            "VAT": vat,
        }
        row.update(
            row_amounts(
                to_decimal(raw.get("DeliveredQuantity") or 0, "DeliveredQuantity"),
                to_decimal(raw.get("Price") or 0, "Price"),
                discount,
                discount_type,
                vat,
                vat_included,
            )  # fmt: skip
        )
        field_limits.check_lengths(row, field_limits.INVOICE_ROW)
        rows.append(dict(sorted(row.items())))
    return rows


def _merge_edi(invoice: dict[str, Any], changes: dict[str, Any]) -> None:
    """``EDIInformation`` in a request changes only the fields it names (like Fortnox, which
    accepts it; an unknown field inside is refused like any unknown field name)."""
    if "EDIInformation" not in changes:
        return
    merged = {**blank_invoice()["EDIInformation"], **invoice.get("EDIInformation", {})}
    for name, value in changes["EDIInformation"].items():
        if name in EDI_READ_ONLY:
            continue
        if name not in EDI_WRITABLE:
            raise errors.bad_request(errors.INVALID_FIELD, f"Felaktigt fältnamn ({name})")
        merged[name] = to_text(value, name) or ""
    changes["EDIInformation"] = merged


def _predefined(store: Store, db: int, name: str) -> int:
    number = ledger.predefined_account(store, db, name)
    if not number:
        raise errors.bad_request(
            PREDEFINED_MISSING, f"Kunde inte hitta konto (förvalt konto {name} saknas)."
        )
    return number


def _as_input(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as a request row, to recompute an invoice whose rows were not sent."""
    keep = ("AccountNumber", "CostCenter", "DeliveredQuantity", "Description", "Discount",
            "DiscountType", "Price", "Project", "Unit", "VAT")  # fmt: skip
    return {name: row[name] for name in keep}


def _apply_customer(invoice: dict[str, Any], customer: dict[str, Any], given: set[str]) -> None:
    """Copy what Fortnox copies from the customer card, unless the request set it."""
    copies = {
        "CustomerName": customer["Name"], "Address1": customer["Address1"],
        "Address2": customer["Address2"], "City": customer["City"],
        "ZipCode": customer["ZipCode"], "Country": customer["Country"],
        "OrganisationNumber": customer["OrganisationNumber"], "Phone1": customer["Phone1"],
        "Phone2": customer["Phone2"], "YourReference": customer["YourReference"],
        "OurReference": customer["OurReference"],
        "TermsOfPayment": customer["TermsOfPayment"] or "30",
    }  # fmt: skip
    for name, value in copies.items():
        if name not in given:
            invoice[name] = value or ("30" if name == "TermsOfPayment" else "")
    if "EmailInformation" not in given:
        address = customer.get("EmailInvoice") or customer.get("Email") or ""
        invoice["EmailInformation"] = {**invoice["EmailInformation"], "EmailAddressTo": address}


def _compute(store: Store, db: int, invoice: dict[str, Any], raw_rows: Any) -> None:
    day = to_date(invoice["InvoiceDate"], "InvoiceDate")
    year = ledger.year_for_date(store, db, day) or ledger.current_year(store, db)
    if year is None:
        raise errors.bad_request(errors.NO_FINANCIAL_YEAR, "Det finns inget räkenskapsår.")
    invoice["InvoiceRows"] = _rows(store, db, year["Id"], raw_rows, invoice["VATIncluded"])
    if not invoice["DueDate"]:
        terms = str(invoice["TermsOfPayment"] or "")
        days = int(terms) if terms.isdigit() else 30  # a customer card may say anything
        invoice["DueDate"] = (day + timedelta(days=days)).isoformat()
    totals = invoice_ledger(
        invoice["InvoiceRows"],
        decimal_of(invoice["Freight"]),
        decimal_of(invoice["AdministrationFee"]),
        invoice["VATIncluded"],
    ).totals()
    invoice.update(totals)
    invoice["Balance"] = 0 if invoice["Cancelled"] else totals["Total"]


def create_invoice(store: Store, db: int, payload: Any) -> dict[str, Any]:
    """Create as Fortnox does: copy the customer card in, compute rows and totals, number, OCR."""
    if not isinstance(payload, dict):
        raise errors.no_data()
    changes = _head_changes(payload)
    if not changes.get("CustomerNumber"):
        raise errors.missing_field("CustomerNumber")
    with store.transaction():
        customer = store.get(db, "customer", changes["CustomerNumber"])
        if customer is None:
            raise errors.bad_request(errors.CUSTOMER_NOT_FOUND, "Kan inte hitta kunden.")
        invoice = blank_invoice()
        invoice["InvoiceDate"] = ledger.today().isoformat()
        invoice["Currency"] = customer["Currency"] or "SEK"
        _apply_customer(invoice, customer, set(changes))
        email = {**invoice["EmailInformation"], **changes.pop("EmailInformation", {})}
        _merge_edi(invoice, changes)
        invoice.update(changes)
        _compute(store, db, invoice, payload.get("InvoiceRows", []))
        number = str(store.next_value(db, "invoice"))
        invoice["DocumentNumber"] = number
        invoice["OCR"] = changes.get("OCR") or ocr_for(number)
        invoice["EmailInformation"] = {
            **email,
            "EmailSubject": email.get("EmailSubject") or f"Faktura {number} bifogas",
        }
        _put(store, db, invoice)
        return invoice


def _check_open(invoice: dict[str, Any], action: str) -> None:
    if invoice["Cancelled"]:
        raise errors.bad_request(errors.INVOICE_CANCELLED, f"Fakturan är makulerad ({action}).")
    if invoice["Booked"]:
        raise errors.bad_request(
            errors.INVOICE_BOOKED, f"Fakturan är bokförd och kan inte {action}."
        )


def update_invoice(store: Store, db: int, number: str, payload: Any) -> dict[str, Any]:
    """Change an unbooked invoice; totals recomputed, from the stored rows if none were sent."""
    if not isinstance(payload, dict):
        raise errors.no_data()
    changes = _head_changes(payload)
    with store.transaction():
        invoice = get_invoice(store, db, number)
        _check_open(invoice, "ändras")
        new_customer = changes.get("CustomerNumber")
        if new_customer and new_customer != invoice["CustomerNumber"]:
            customer = store.get(db, "customer", new_customer)
            if customer is None:
                raise errors.bad_request(errors.CUSTOMER_NOT_FOUND, "Kan inte hitta kunden.")
            _apply_customer(invoice, customer, set(changes))
        if "InvoiceDate" in changes and "DueDate" not in changes:
            invoice["DueDate"] = ""
        _merge_edi(invoice, changes)
        invoice.update(changes)
        raw_rows = payload.get("InvoiceRows")
        if raw_rows is None:
            raw_rows = [_as_input(row) for row in invoice["InvoiceRows"]]
        _compute(store, db, invoice, raw_rows)
        _put(store, db, invoice)
        return invoice


def cancel_invoice(store: Store, db: int, number: str) -> dict[str, Any]:
    """Cancel (makulera) an unbooked invoice: it stays, with balance 0 and no voucher."""
    with store.transaction():
        invoice = get_invoice(store, db, number)
        _check_open(invoice, "makuleras")
        invoice.update({"Cancelled": True, "Balance": 0})
        _put(store, db, invoice)
        return invoice


def bookkeep_invoice(store: Store, db: int, number: str) -> dict[str, Any]:
    """Book the invoice: a balanced voucher in series B; the invoice becomes read-only."""
    with store.transaction():
        invoice = get_invoice(store, db, number)
        if invoice["Cancelled"]:
            raise errors.bad_request(errors.INVOICE_CANCELLED, "Fakturan är makulerad.")
        if invoice["Booked"]:
            raise errors.bad_request(errors.INVOICE_ALREADY_BOOKED, "Fakturan är redan bokförd.")
        day = to_date(invoice["InvoiceDate"], "InvoiceDate")
        year = ledger.year_for_date(store, db, day)
        if year is None:
            raise errors.bad_request(
                errors.NO_FINANCIAL_YEAR, f"Det finns inget räkenskapsår för datumet {day}."
            )
        ledger.check_not_locked(store, db, day)
        figures = invoice_ledger(
            invoice["InvoiceRows"], decimal_of(invoice["Freight"]),
            decimal_of(invoice["AdministrationFee"]), invoice["VATIncluded"],
        )  # fmt: skip
        lines: list[tuple[int, Decimal]] = [(_predefined(store, db, "CUSTCLAIM"), figures.total)]
        lines += [(account, -net) for account, net in sorted(figures.sales_by_account.items())]
        lines += [
            (_predefined(store, db, OUTVAT_BY_VAT[rate]), -vat)
            for rate, vat in sorted(figures.vat_by_rate.items(), reverse=True)
        ]
        for name, value in (("FREIGHT", figures.freight), ("ADMFEE", figures.administration_fee)):
            if value:
                lines.append((_predefined(store, db, name), -value))
        if figures.round_off:
            lines.append((_predefined(store, db, "ROUNDOFF"), -figures.round_off))
        info = invoice["CustomerName"]
        rows = []
        for account_number, signed in lines:
            if not signed:
                continue
            account = ledger.check_account(store, db, year["Id"], account_number, "Account")
            debit, credit = (signed, ZERO) if signed > 0 else (ZERO, -signed)
            rows.append(vouchers.voucher_row(account, debit, credit, info))
        voucher = vouchers.book(
            store, db, year["Id"], "B",
            {"Description": f"Kundfaktura {number} {invoice['CustomerName']}".strip(),
             "ReferenceNumber": number, "ReferenceType": "INVOICE",
             "TransactionDate": day.isoformat()},
            rows,
        )  # fmt: skip
        invoice.update(
            {"Booked": True, "VoucherNumber": voucher["VoucherNumber"],
             "VoucherSeries": "B", "VoucherYear": year["Id"]}
        )  # fmt: skip
        _put(store, db, invoice)
        return invoice
