"""The Vouchers page's read model: vouchers pulled from Fortnox, one financial year at a time,
per series, a page at a time (statements per page do not grow with the vouchers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import func, select

from ..i18n import current_locale
from ..models import FinancialYear, PulledVoucher
from ..queries import get_connection, pulled_vouchers, session
from ..sync.pull_vouchers import MARKER

PAGE_SIZE = 50


@dataclass(frozen=True)
class YearChoice:
    """An imported financial year and how many of its vouchers were pulled."""

    fortnox_id: int
    from_date: date
    to_date: date
    count: int


@dataclass(frozen=True)
class VoucherRow:
    """One row of a voucher as shown (amounts Decimal)."""

    account: int | None
    name: str
    text: str
    debit: Decimal
    credit: Decimal
    removed: bool


@dataclass(frozen=True)
class ShownVoucher:
    """A voucher as the page shows it: our marker taken off the text, flagged as ours."""

    series: str
    number: int
    transaction_date: date | None
    description: str
    total: Decimal
    ours: bool
    rows: tuple[VoucherRow, ...]


@dataclass(frozen=True)
class VoucherPage:
    """What the page lists: the years, the chosen year's series, one page of vouchers."""

    years: list[YearChoice]
    year: YearChoice | None
    series: list[tuple[str, int]]
    chosen_series: str | None
    vouchers: list[ShownVoucher]
    page: int
    pages: int
    connected: bool


def build(company_id: str, year_arg: str | None = None, series_arg: str | None = None,
          page_arg: str | None = None) -> VoucherPage:
    """The page for ``?year=<Fortnox year Id>&series=<code>&page=<n>`` (all optional; bad
    values fall back to the defaults: the newest year with vouchers, every series, page 1)."""
    conn = get_connection(company_id)
    db_number = conn.database_number if conn else None
    if db_number is None:
        return VoucherPage([], None, [], None, [], 1, 1, False)
    counts = dict(session().execute(
        select(PulledVoucher.financial_year, func.count(PulledVoucher.id))
        .where(PulledVoucher.company_id == company_id,
               PulledVoucher.database_number == db_number)
        .group_by(PulledVoucher.financial_year)
    ).all())
    years = [
        YearChoice(fortnox_id, from_date, to_date, int(counts.get(fortnox_id, 0)))
        for fortnox_id, from_date, to_date in session().execute(
            select(FinancialYear.fortnox_id, FinancialYear.from_date, FinancialYear.to_date)
            .where(FinancialYear.company_id == company_id,
                   FinancialYear.database_number == db_number)
            .order_by(FinancialYear.from_date.desc())
        )
    ]
    year = next((y for y in years if str(y.fortnox_id) == (year_arg or "")), None) \
        or next((y for y in years if y.count), None) or (years[0] if years else None)
    if year is None:
        return VoucherPage(years, None, [], None, [], 1, 1, True)
    series = [(str(code), int(count)) for code, count in session().execute(
        select(PulledVoucher.series, func.count(PulledVoucher.id))
        .where(PulledVoucher.company_id == company_id,
               PulledVoucher.database_number == db_number,
               PulledVoucher.financial_year == year.fortnox_id)
        .group_by(PulledVoucher.series).order_by(PulledVoucher.series)
    )]
    chosen = series_arg if series_arg in {code for code, _ in series} else None
    total = sum(count for code, count in series if chosen in (None, code))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(_int(page_arg), 1), pages)
    found = pulled_vouchers(company_id, year.fortnox_id, chosen, PAGE_SIZE,
                            (page - 1) * PAGE_SIZE)
    return VoucherPage(years, year, series, chosen, [_shown(v) for v in found], page, pages,
                       True)


def money(value: Decimal) -> str:
    """An amount to the öre in the owner's language (``1 250,50`` in Swedish)."""
    return str(format_decimal(value, format="#,##0.00", locale=current_locale()))


def _int(value: str | None) -> int:
    try:
        return int(value or 1)
    except ValueError:
        return 1


def _shown(voucher: PulledVoucher) -> ShownVoucher:
    text = voucher.description or ""
    ours = voucher.sync_record_id is not None
    if ours:
        text = MARKER.sub("", text).rstrip()
    return ShownVoucher(
        series=voucher.series, number=voucher.number,
        transaction_date=voucher.transaction_date, description=text,
        total=Decimal(voucher.total or 0), ours=ours,
        rows=tuple(_row(row) for row in voucher.rows or []),
    )


def _row(row: dict[str, Any]) -> VoucherRow:
    return VoucherRow(
        account=row.get("account"), name=str(row.get("name") or ""),
        text=str(row.get("text") or ""),
        debit=Decimal(str(row.get("debit") or 0)), credit=Decimal(str(row.get("credit") or 0)),
        removed=bool(row.get("removed")),
    )
