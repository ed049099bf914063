"""Fortnox -> Aourly: financial years, each year's chart of accounts, predefined accounts and
voucher series. Knows the client and the database; nothing about HTTP requests to us.

Each step reads everything from Fortnox first and only then writes: no write transaction is
open while we wait on Fortnox (or on a token refresh that must commit on its own).
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import delete, select

from .client import FortnoxClient
from .models import Account, FinancialYear, PredefinedAccount, VoucherSeries, utcnow
from .queries import session

log = logging.getLogger("aourly_fortnox.importer")


def _date(value: object) -> date:
    return date.fromisoformat(str(value))


def import_financial_years(client: FortnoxClient, company_id: str, db_number: int) -> list[int]:
    """Upsert every financial year; returns their Fortnox ids."""
    items = client.financial_years()
    db_session = session()
    existing = {
        y.fortnox_id: y
        for y in db_session.execute(
            select(FinancialYear).where(
                FinancialYear.company_id == company_id,
                FinancialYear.database_number == db_number,
            )
        ).scalars()
    }
    ids = []
    for item in items:
        fortnox_id = int(item["Id"])
        year = existing.get(fortnox_id) or FinancialYear(
            company_id=company_id, database_number=db_number, fortnox_id=fortnox_id
        )
        year.from_date = _date(item["FromDate"])
        year.to_date = _date(item["ToDate"])
        year.account_chart_type = item.get("AccountChartType")
        year.accounting_method = item.get("AccountingMethod")
        year.imported_at = utcnow()
        db_session.add(year)
        ids.append(fortnox_id)
    db_session.flush()
    return ids


def import_accounts(client: FortnoxClient, company_id: str, db_number: int, year: int) -> int:
    """Replace one year's chart with what Fortnox has now; returns the account count."""
    items = client.accounts(year)
    db_session = session()
    existing = {
        a.number: a
        for a in db_session.execute(
            select(Account).where(
                Account.company_id == company_id,
                Account.database_number == db_number,
                Account.financial_year == year,
            )
        ).scalars()
    }
    seen = set()
    now = utcnow()
    for item in items:
        number = int(item["Number"])
        seen.add(number)
        account = existing.get(number) or Account(
            company_id=company_id, database_number=db_number, financial_year=year, number=number
        )
        account.description = str(item.get("Description") or "")
        account.active = _truthy(item.get("Active", True))
        account.vat_code = (str(item["VATCode"]) if item.get("VATCode") else None)
        account.imported_at = now
        db_session.add(account)
    gone = set(existing) - seen
    if gone:
        db_session.execute(
            delete(Account).where(
                Account.company_id == company_id,
                Account.database_number == db_number,
                Account.financial_year == year,
                Account.number.in_(gone),
            )
        )
    db_session.flush()
    return len(seen)


def import_predefined_accounts(client: FortnoxClient, company_id: str, db_number: int) -> None:
    items = client.predefined_accounts()
    db_session = session()
    db_session.execute(
        delete(PredefinedAccount).where(
            PredefinedAccount.company_id == company_id,
            PredefinedAccount.database_number == db_number,
        )
    )
    for item in items:
        if item.get("Account") in (None, "", 0, "0"):
            continue
        db_session.add(
            PredefinedAccount(
                company_id=company_id, database_number=db_number,
                name=str(item["Name"]), account=int(item["Account"]),
            )
        )
    db_session.flush()


def import_voucher_series(client: FortnoxClient, company_id: str, db_number: int) -> None:
    items = client.voucher_series()
    db_session = session()
    db_session.execute(
        delete(VoucherSeries).where(
            VoucherSeries.company_id == company_id, VoucherSeries.database_number == db_number
        )
    )
    seen = set()
    for item in items:
        code = str(item["Code"])
        if code in seen:  # the list may repeat a series per year
            continue
        seen.add(code)
        db_session.add(
            VoucherSeries(
                company_id=company_id, database_number=db_number, code=code,
                description=str(item.get("Description") or ""),
                manual=_truthy(item.get("Manual", False)),
            )
        )
    db_session.flush()


def import_locked_period(client: FortnoxClient) -> date | None:
    """The last locked date in Fortnox (``None``: nothing is locked)."""
    end = client.locked_period().get("EndDate")
    return _date(end) if end else None


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)
