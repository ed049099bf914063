"""Vouchers (verifikationer): created, listed and read, never changed or deleted.

Identity is (financial year, series, number); numbers start at 1 per year and series
(docs/fortnox.md, "Vouchers"). A new voucher is refused, each rule with its own code (see
:mod:`errors`), when: the body is malformed; the series does not exist or is not manual (API
only); the date lies outside the financial year given in ``financialyear`` or, without it,
outside the preselected (current) year; the date is in the locked period; there are fewer
than two rows; an account is missing or inactive in that year; debit and credit differ by
even one öre; a text is over its published length (:mod:`field_limits`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import errors, field_limits, ledger
from .store import Store
from .values import ZERO, amount, round2, to_date, to_decimal, to_text

WRITABLE = {
    "ApprovalState", "Comments", "CostCenter", "Description", "Project", "ReferenceNumber",
    "ReferenceType", "TransactionDate", "VoucherRows", "VoucherSeries",
}  # fmt: skip
READ_ONLY = {"@url", "VoucherNumber", "Year"}
ROW_WRITABLE = {
    "Account", "CostCenter", "Credit", "Debit", "Description", "Project", "Quantity",
    "TransactionInformation",
}  # fmt: skip
ROW_READ_ONLY = {"Removed"}
REFERENCE_TYPES = {
    "INVOICE", "SUPPLIERINVOICE", "INVOICEPAYMENT", "SUPPLIERPAYMENT", "MANUAL", "CASHINVOICE",
    "ACCRUAL",
}  # fmt: skip
LIST_FIELDS = (
    "@url", "Description", "ReferenceNumber", "ReferenceType", "TransactionDate",
    "VoucherNumber", "VoucherSeries", "Year",
)  # fmt: skip


def voucher_key(year: int, series: str, number: int) -> str:
    """The storage key: a voucher is identified by year, series and number together."""
    return f"{year}:{series}:{number}"


def voucher_url(voucher: dict[str, Any], base: str) -> str:
    """The ``@url``, with ``financialyear``: series and number alone do not name a voucher."""
    return (
        f"{base}/3/vouchers/{voucher['VoucherSeries']}/{voucher['VoucherNumber']}"
        f"?financialyear={voucher['Year']}"
    )


def voucher_full(voucher: dict[str, Any], base: str) -> dict[str, Any]:
    """The single-GET shape, rows included, with its ``@url``."""
    return {"@url": voucher_url(voucher, base), **voucher}


def voucher_item(voucher: dict[str, Any], base: str) -> dict[str, Any]:
    """List items carry no rows (docs/fortnox.md): one GET per voucher for those."""
    full = voucher_full(voucher, base)
    return {name: full[name] for name in LIST_FIELDS}


def get_voucher(store: Store, db: int, series: str, number: int, year_id: int) -> dict[str, Any]:
    """A voucher by year, series and number, or Fortnox's 404."""
    found = store.get(db, "voucher", voucher_key(year_id, series, number))
    if found is None:
        raise errors.not_found(errors.VOUCHER_NOT_FOUND, "Kan inte hitta verifikationen.")
    return found


def _check_fields(payload: dict[str, Any], writable: set[str], read_only: set[str]) -> None:
    for name in payload:
        if name not in writable and name not in read_only:
            raise errors.bad_request(errors.INVALID_FIELD, f"Felaktigt fältnamn ({name})")


def create_voucher(
    store: Store,
    db: int,
    payload: Any,
    financialyear: str | None,
    *,
    manual_only: bool = True,
) -> dict[str, Any]:
    """Validate and book a voucher; ``manual_only`` is the API's rule (a person may use any
    series)."""
    if not isinstance(payload, dict):
        raise errors.no_data()
    _check_fields(payload, WRITABLE, READ_ONLY)
    raw_rows = payload.get("VoucherRows")
    if isinstance(raw_rows, dict):
        # {"VoucherRows": {"VoucherRow": [...]}} is the XML habit Fortnox refuses (6.3).
        raise errors.bad_request(errors.WRONG_STRUCTURE, "Felaktig datastruktur (VoucherRows).")
    for field in ("Description", "TransactionDate", "VoucherSeries"):
        if payload.get(field) in (None, ""):
            raise errors.missing_field(field)
    if not isinstance(raw_rows, list) or not all(isinstance(row, dict) for row in raw_rows):
        raise errors.missing_field("VoucherRows")
    description = to_text(payload["Description"], "Description")
    field_limits.check_lengths({"Description": description}, field_limits.VOUCHER)
    reference_type = payload.get("ReferenceType", "MANUAL")
    if reference_type not in REFERENCE_TYPES:
        raise errors.bad_request(errors.INVALID_VALUE, "Ogiltigt värde (ReferenceType).")

    with store.transaction():
        code = str(payload["VoucherSeries"])
        found_series = ledger.series(store, db, code)
        if found_series is None:
            raise errors.bad_request(
                errors.SERIES_NOT_FOUND, f"Verifikationsserien {code} finns inte."
            )
        if manual_only and not found_series["Manual"]:
            raise errors.bad_request(
                errors.SERIES_NOT_MANUAL,
                f"Verifikationsserien {code} får inte användas för manuella verifikationer.",
            )
        day = to_date(payload["TransactionDate"], "TransactionDate")
        year = _year_for(store, db, day, financialyear)
        ledger.check_not_locked(store, db, day)
        if len(raw_rows) < 2:
            raise errors.bad_request(
                errors.VOUCHER_TOO_FEW_ROWS, "En verifikation måste ha minst två rader."
            )
        rows = [_row(store, db, year["Id"], raw) for raw in raw_rows]
        debit = sum((Decimal(str(r["Debit"])) for r in rows), ZERO)
        credit = sum((Decimal(str(r["Credit"])) for r in rows), ZERO)
        if debit != credit:
            raise errors.bad_request(
                errors.VOUCHER_UNBALANCED,
                f"Verifikationen balanserar inte: debet {debit} och kredit {credit}.",
            )
        return book(
            store,
            db,
            year["Id"],
            code,
            {
                "Comments": to_text(payload.get("Comments"), "Comments") or "",
                "CostCenter": to_text(payload.get("CostCenter"), "CostCenter") or "",
                "Description": description,
                "Project": to_text(payload.get("Project"), "Project") or "",
                "ReferenceNumber": to_text(payload.get("ReferenceNumber"), "ReferenceNumber") or "",
                "ReferenceType": reference_type,
                "TransactionDate": day.isoformat(),
                "ApprovalState": 0,
            },
            rows,
        )


def book(
    store: Store,
    db: int,
    year_id: int,
    series: str,
    head: dict[str, Any],
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """Number and store an already validated voucher (also used by invoice bookkeeping)."""
    with store.transaction():
        number = store.next_value(db, f"voucher:{year_id}:{series}")
        voucher = {
            "Comments": head.get("Comments", ""),
            "CostCenter": head.get("CostCenter", ""),
            "Description": head["Description"],
            "Project": head.get("Project", ""),
            "ReferenceNumber": head.get("ReferenceNumber", ""),
            "ReferenceType": head.get("ReferenceType", "MANUAL"),
            "TransactionDate": head["TransactionDate"],
            "VoucherNumber": number,
            "VoucherRows": rows,
            "VoucherSeries": series,
            "Year": year_id,
            "ApprovalState": head.get("ApprovalState", 0),
        }
        store.put(
            db,
            "voucher",
            voucher_key(year_id, series, number),
            voucher,
            year=year_id,
            sort=f"{series}:{number:09d}",
        )
        return voucher


def voucher_row(
    account: dict[str, Any], debit: Decimal, credit: Decimal, info: str = ""
) -> dict[str, Any]:
    """A row as Fortnox stores it: amounts as JSON numbers, Description the account's name."""
    return {
        "Account": account["Number"],
        "CostCenter": "",
        "Credit": amount(credit),
        "Debit": amount(debit),
        "Description": account["Description"],
        "Project": "",
        "Quantity": 0,
        "Removed": False,
        "TransactionInformation": info,
    }


def _year_for(store: Store, db: int, day: Any, financialyear: str | None) -> dict[str, Any]:
    """The year the voucher goes into; its date must lie inside it.

    Without ``financialyear`` that is the company's preselected (current) year, not the
    year covering the date: a voucher dated last year needs ``financialyear`` (docs/sandbox.md).
    """
    if financialyear:
        year = ledger.resolve_year(store, db, {"financialyear": financialyear})
    else:
        current = ledger.current_year(store, db)
        if current is None:
            raise errors.bad_request(errors.NO_FINANCIAL_YEAR, "Det finns inget räkenskapsår.")
        year = current
    if not year["FromDate"] <= day.isoformat() <= year["ToDate"]:
        raise errors.bad_request(
            errors.DATE_OUTSIDE_YEAR,
            f"Datumet {day} ligger utanför räkenskapsår {year['Id']} "
            f"({year['FromDate']} - {year['ToDate']}).",
        )
    return year


def _row(store: Store, db: int, year_id: int, raw: dict[str, Any]) -> dict[str, Any]:
    _check_fields(raw, ROW_WRITABLE, ROW_READ_ONLY)
    if raw.get("Account") in (None, ""):
        raise errors.missing_field("Account")
    account = ledger.check_account(store, db, year_id, raw["Account"], "Account")
    debit = round2(to_decimal(raw.get("Debit", 0), "Debit"))
    credit = round2(to_decimal(raw.get("Credit", 0), "Credit"))
    info = to_text(raw.get("TransactionInformation"), "TransactionInformation") or ""
    field_limits.check_lengths({"TransactionInformation": info}, field_limits.VOUCHER_ROW)
    row = voucher_row(account, debit, credit, info)
    if raw.get("Description"):
        row["Description"] = to_text(raw["Description"], "Description")
    for name in ("CostCenter", "Project"):
        if raw.get(name):
            row[name] = to_text(raw[name], name)
    if raw.get("Quantity") not in (None, ""):
        row["Quantity"] = amount(to_decimal(raw["Quantity"], "Quantity"))
    return row
