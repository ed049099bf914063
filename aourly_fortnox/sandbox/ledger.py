"""Financial years, the chart of accounts per year, voucher series, predefined accounts and
the locked period: what every booking is checked against.

Charts are per financial year, as in Fortnox (docs/fortnox.md): account 3590 can be active
in one year and inactive in the next. "Today" is the date in Europe/Stockholm.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from . import errors
from .store import RecordRow, Store
from .values import amount, decimal_of, to_bool, to_date, to_decimal, to_int, to_text

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ACCOUNT_FIELDS = {
    "@url", "Active", "BalanceBroughtForward", "BalanceCarriedForward", "CostCenter",
    "CostCenterSettings", "Description", "Number", "OpeningQuantities", "Project",
    "ProjectSettings", "QuantitySettings", "QuantityUnit", "SRU", "TransactionInformation",
    "TransactionInformationSettings", "VATCode", "Year",
}  # fmt: skip
ACCOUNT_LIST_FIELDS = (
    "@url", "Active", "BalanceBroughtForward", "CostCenter", "CostCenterSettings",
    "Description", "Number", "Project", "ProjectSettings", "SRU", "VATCode", "Year",
)  # fmt: skip


def today() -> date:
    """Today in Stockholm, Fortnox's clock: which year is current, which invoices are overdue."""
    return datetime.now(STOCKHOLM).date()


# -- financial years ------------------------------------------------------------------------------


def years(store: Store, db: int) -> list[dict[str, Any]]:
    """The company's financial years in Id order, so the latest created is last."""
    return [record.data for record in store.records(db, "financialyear")]


def year_by_id(store: Store, db: int, year_id: int) -> dict[str, Any] | None:
    """The year a ``financialyear`` Id names, or None: vouchers and charts are addressed by it."""
    return store.get(db, "financialyear", str(year_id))


def year_for_date(store: Store, db: int, day: date) -> dict[str, Any] | None:
    """The year covering a date, or None: a booking dated in no year is refused."""
    iso = day.isoformat()
    for year in years(store, db):
        if year["FromDate"] <= iso <= year["ToDate"]:
            return year
    return None


def current_year(store: Store, db: int) -> dict[str, Any] | None:
    """The "preselected" year: the one covering today, else the latest."""
    found = year_for_date(store, db, today())
    if found:
        return found
    every = years(store, db)
    return every[-1] if every else None


def resolve_year(store: Store, db: int, args: Any) -> dict[str, Any]:
    """The year a request means: ``financialyear`` (Id), ``financialyeardate``, or current."""
    if args.get("financialyear"):
        try:
            year_id = int(args["financialyear"])
        except ValueError:
            raise errors.bad_request(
                errors.INVALID_PARAMETER, "Ogiltig parameter (financialyear)."
            ) from None
        year = year_by_id(store, db, year_id)
        if year is None:
            raise errors.bad_request(
                errors.UNKNOWN_FINANCIAL_YEAR, f"Räkenskapsår {year_id} hittades inte."
            )
        return year
    if args.get("financialyeardate"):
        day = to_date(args["financialyeardate"], "financialyeardate")
        year = year_for_date(store, db, day)
        if year is None:
            raise errors.bad_request(
                errors.NO_FINANCIAL_YEAR, f"Det finns inget räkenskapsår för datumet {day}."
            )
        return year
    year = current_year(store, db)
    if year is None:
        raise errors.bad_request(errors.NO_FINANCIAL_YEAR, "Det finns inget räkenskapsår.")
    return year


def put_year(store: Store, db: int, year: dict[str, Any]) -> None:
    """Store a year, sorted by Id so lists and "the latest year" follow creation order."""
    store.put(db, "financialyear", str(year["Id"]), year, sort=f"{year['Id']:06d}")


def year_item(year: dict[str, Any], base: str) -> dict[str, Any]:
    """List item: the official example names the chart ``accountCharts`` here (6.6)."""
    return {
        "@url": f"{base}/3/financialyears/{year['Id']}",
        "Id": year["Id"],
        "FromDate": year["FromDate"],
        "ToDate": year["ToDate"],
        "accountCharts": year["AccountChartType"],
        "AccountingMethod": year["AccountingMethod"],
    }


def year_full(year: dict[str, Any], base: str) -> dict[str, Any]:
    """Single item: ``AccountChartType`` (the inconsistency is Fortnox's, 6.6)."""
    return {"@url": f"{base}/3/financialyears/{year['Id']}", **year}


def create_year(store: Store, db: int, payload: dict[str, Any]) -> dict[str, Any]:
    """A person creates the next year; its chart is copied from the latest year, as Fortnox
    offers. Years must not overlap."""
    unknown = set(payload) - {"FromDate", "ToDate", "AccountChartType", "AccountingMethod", "Id"}
    if unknown:
        raise errors.bad_request(errors.INVALID_FIELD, f"Felaktigt fältnamn ({sorted(unknown)[0]})")
    for field in ("FromDate", "ToDate"):
        if not payload.get(field):
            raise errors.missing_field(field)
    start, end = to_date(payload["FromDate"], "FromDate"), to_date(payload["ToDate"], "ToDate")
    if end < start:
        raise errors.bad_request(errors.INVALID_DATE, "ToDate måste vara efter FromDate.")
    method = payload.get("AccountingMethod", "ACCRUAL")
    if method not in {"ACCRUAL", "CASH"}:
        raise errors.bad_request(errors.INVALID_VALUE, "Ogiltigt värde (AccountingMethod).")
    with store.transaction():
        existing = years(store, db)
        for other in existing:
            if start.isoformat() <= other["ToDate"] and other["FromDate"] <= end.isoformat():
                raise errors.bad_request(
                    errors.YEAR_OVERLAP, f"Räkenskapsåret överlappar räkenskapsår {other['Id']}."
                )
        year_id = max((y["Id"] for y in existing), default=0) + 1
        latest = max(existing, key=lambda y: y["ToDate"], default=None)
        year = {
            "Id": year_id,
            "FromDate": start.isoformat(),
            "ToDate": end.isoformat(),
            "AccountChartType": payload.get("AccountChartType")
            or (latest["AccountChartType"] if latest else "Bas 2024"),
            "AccountingMethod": method,
        }
        put_year(store, db, year)
        if latest:
            for record in store.records(db, "account", year=latest["Id"]):
                put_account(store, db, {**record.data, "Year": year_id, "BalanceBroughtForward": 0})
        return year


# -- accounts -------------------------------------------------------------------------------------


def account_shape(
    number: int,
    description: str,
    year: int,
    *,
    vat_code: str | None = None,
    sru: int | None = None,
    active: bool = True,
    balance: Decimal | int = 0,
) -> dict[str, Any]:
    """The stored account: its single-GET shape minus ``@url`` and the computed carried-forward."""
    return {
        "Active": active,
        "BalanceBroughtForward": amount(Decimal(balance)),
        "CostCenter": "",
        "CostCenterSettings": "ALLOWED",
        "Description": description,
        "Number": number,
        "OpeningQuantities": [],
        "Project": "",
        "ProjectSettings": "ALLOWED",
        "QuantitySettings": "ALLOWED",
        "QuantityUnit": "",
        "SRU": sru,
        "TransactionInformation": "",
        "TransactionInformationSettings": "ALLOWED",
        "VATCode": vat_code,
        "Year": year,
    }


def account_row(db: int, account: dict[str, Any]) -> RecordRow:
    """A :meth:`Store.put_many` row for an account."""
    year, number = account["Year"], account["Number"]
    return (db, "account", f"{year}:{number}", year, f"{number:06d}", account)


def put_account(store: Store, db: int, account: dict[str, Any]) -> None:
    """Store an account in one year's chart (an account may differ from one year to the next)."""
    _, kind, key, year, sort, data = account_row(db, account)
    store.put(db, kind, key, data, year=year, sort=sort)


def account(store: Store, db: int, year_id: int, number: int) -> dict[str, Any] | None:
    """An account in one year's chart, or None; the same number may differ between years."""
    return store.get(db, "account", f"{year_id}:{number}")


def check_account(store: Store, db: int, year_id: int, number: Any, field: str) -> dict[str, Any]:
    """The account must exist and be active in that year's chart (2000423 / 2000550)."""
    found = account(store, db, year_id, to_int(number, field))
    if found is None:
        raise errors.bad_request(errors.ACCOUNT_NOT_FOUND, f"Kan inte hitta kontot ({number}).")
    if not found["Active"]:
        raise errors.bad_request(errors.ACCOUNT_INACTIVE, f"Kontot {number} är inte aktivt.")
    return found


def movements(store: Store, db: int, year_id: int) -> dict[int, Decimal]:
    """Debit minus credit per account over the year's vouchers."""
    totals: dict[int, Decimal] = {}
    for record in store.records(db, "voucher", year=year_id):
        for row in record.data["VoucherRows"]:
            change = decimal_of(row["Debit"]) - decimal_of(row["Credit"])
            totals[row["Account"]] = totals.get(row["Account"], Decimal(0)) + change
    return totals


def account_full(account: dict[str, Any], base: str, moved: dict[int, Decimal]) -> dict[str, Any]:
    """The single-GET shape, ``BalanceCarriedForward`` computed from the year's vouchers."""
    url = f"{base}/3/accounts/{account['Number']}?financialyear={account['Year']}"
    carried = decimal_of(account["BalanceBroughtForward"]) + moved.get(account["Number"], 0)
    return {"@url": url, **account, "BalanceCarriedForward": amount(carried)}


def account_item(account: dict[str, Any], base: str) -> dict[str, Any]:
    """A list item: the subset Fortnox lists, without the carried-forward balance."""
    url = f"{base}/3/accounts/{account['Number']}?financialyear={account['Year']}"
    full = {"@url": url, **account}
    return {name: full.get(name) for name in ACCOUNT_LIST_FIELDS}


def upsert_account(
    store: Store, db: int, payload: dict[str, Any], year_id: Any
) -> list[dict[str, Any]]:
    """What a person does in the chart: create or change an account by ``Number``, in one
    year (``Year`` = financial-year Id) or, without one, in every year."""
    unknown = set(payload) - ACCOUNT_FIELDS
    if unknown:
        raise errors.bad_request(errors.INVALID_FIELD, f"Felaktigt fältnamn ({sorted(unknown)[0]})")
    if "Number" not in payload:
        raise errors.missing_field("Number")
    number = to_int(payload["Number"], "Number")
    if not 1000 <= number <= 9999:
        raise errors.bad_request(errors.INVALID_VALUE, "Kontonummer måste ha fyra siffror.")
    with store.transaction():
        if year_id is not None:
            year = year_by_id(store, db, to_int(year_id, "Year"))
            if year is None:
                raise errors.bad_request(
                    errors.UNKNOWN_FINANCIAL_YEAR, f"Räkenskapsår {year_id} hittades inte."
                )
            targets = [year]
        else:
            targets = years(store, db)
        saved = []
        for year in targets:
            current = account(store, db, year["Id"], number)
            if current is None:
                if not payload.get("Description"):
                    raise errors.missing_field("Description")
                current = account_shape(number, "", year["Id"])
            current.update(_account_changes(payload))
            put_account(store, db, current)
            saved.append(current)
        return saved


def _account_changes(payload: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "Description" in payload:
        changes["Description"] = to_text(payload["Description"], "Description") or ""
    if "Active" in payload:
        changes["Active"] = to_bool(payload["Active"], "Active")
    if "VATCode" in payload:
        changes["VATCode"] = to_text(payload["VATCode"], "VATCode") or None
    if "SRU" in payload:
        changes["SRU"] = to_int(payload["SRU"], "SRU") if payload["SRU"] not in (None, "") else None
    if "BalanceBroughtForward" in payload:
        value = to_decimal(payload["BalanceBroughtForward"], "BalanceBroughtForward")
        changes["BalanceBroughtForward"] = amount(value)
    return changes


# -- voucher series, predefined accounts, locked period --------------------------------------------


def series(store: Store, db: int, code: str) -> dict[str, Any] | None:
    """A voucher series by code (A, B...), or None; ``Manual`` says whether the API may use it."""
    return store.get(db, "voucherseries", code)


def series_item(item: dict[str, Any], year_id: int | None, base: str) -> dict[str, Any]:
    """A series as Fortnox shows it, stamped with the financial year asked about."""
    return {
        "@url": f"{base}/3/voucherseries/{item['Code']}",
        "Approver": {"Id": 0, "Name": ""},
        "Code": item["Code"],
        "Description": item["Description"],
        "Manual": item["Manual"],
        "Year": year_id,
    }


def predefined_account(store: Store, db: int, name: str) -> int | None:
    """The account a predefined role (CUSTCLAIM, OUTVAT_MP1...) points at, or None if unset."""
    found = store.get(db, "predefined", name)
    return int(found["Account"]) if found else None


def locked_until(store: Store, db: int) -> str:
    """``EndDate`` of the locked period, ``""`` when nothing is locked."""
    return str(store.company_settings(db).get("LockedPeriodEnd", ""))


def check_not_locked(store: Store, db: int, day: date) -> None:
    """Refuse a booking dated on or before the locked period's end (2000773, our code)."""
    end = locked_until(store, db)
    if end and day.isoformat() <= end:
        raise errors.bad_request(
            errors.PERIOD_LOCKED,
            f"Perioden är låst. Bokföring kan inte ske på eller före {end}.",
        )


def set_locked_period(store: Store, db: int, payload: dict[str, Any]) -> dict[str, str]:
    """Lock the books up to ``EndDate``, as a person does in Fortnox; an empty one unlocks."""
    end = payload.get("EndDate") or ""
    if end:
        end = to_date(end, "EndDate").isoformat()
    store.update_company_settings(db, {"LockedPeriodEnd": end})
    return {"EndDate": end}
