"""Fortnox -> Aourly: the vouchers of every imported financial year and every series.

Fortnox numbers vouchers upwards per (financial year, series) and never changes or deletes
one through the API (docs/fortnox.md, "Vouchers"), so a high-water mark per (year, series)
(``VoucherCursor``) tells exactly which listed vouchers are new. List items carry no rows,
so each new voucher costs one GET for them.

**Cost.** Each year is listed once per pull, with ``lastmodified`` set to when the last
complete listing of that year started, less a day: Fortnox's time zone for it is not
documented (docs/fortnox.md, "Formats"), so we overlap and drop what we already have. A pull
that finds nothing new costs one list request per imported year. Where Fortnox ignored
``lastmodified`` it would list the whole year: more pages, the same result.

**Our own vouchers** come back too. A voucher we pushed is stored from Fortnox's create
answer (rows included) when it is pushed, so the pull finds it stored and spends no GET on
it; one whose answer was lost is recognised by our marker at the end of its Description and
linked to our record. Either way it is listed once, as ours, and never counted as new.

Like the importer, each step reads from Fortnox with no transaction open, then writes and
commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..fortnox.client import FortnoxClient
from ..fortnox.parsing import to_bool, to_decimal, to_int, to_str
from ..models import FinancialYear, PulledVoucher, SyncRecord, VoucherCursor, utcnow
from ..queries import session
from ..state import state
from .references import PREFIX, installation_id, reference

#: How far back each listing reaches before the last one started (see the module docstring).
OVERLAP = timedelta(days=1)
#: Our marker at the end of a Description (``sync/references.py``: ``[AOU:`` + 16 + ``]``).
MARKER = re.compile(r"\[(" + re.escape(PREFIX) + r"[A-Z2-7]{16})\]$")
#: What ``description`` holds at most (the column's length).
DESCRIPTION_LENGTH = 255
ZERO = Decimal(0)


@dataclass
class PullResult:
    """What one pull found: years listed, new vouchers from Fortnox, ours seen again; and
    for progress, the vouchers above the marks found so far (``listed``) and settled
    (``done``: kept, or already kept)."""

    years: int = 0
    new: int = 0
    ours: int = 0
    listed: int = 0
    done: int = 0


def remote_id_of(year_id: int, series: str, number: int) -> str:
    """How a pushed voucher's identity is stored on its record: (year, series, number)."""
    return f"{year_id}:{series}:{number}"


def pull_vouchers(
    client: FortnoxClient, company_id: str, db_number: int,
    progress: Callable[[PullResult], None] | None = None,
) -> PullResult:
    """Fetch every voucher that is new since the last pull, in every imported year and
    series, with its rows; returns the counts. ``progress`` (for a run's progress) is called
    with the counts so far after each year's listing and each voucher kept (committed)."""
    db_session = session()
    years = [
        (year.fortnox_id, year.vouchers_listed_at)
        for year in db_session.execute(
            select(FinancialYear).where(
                FinancialYear.company_id == company_id,
                FinancialYear.database_number == db_number,
            ).order_by(FinancialYear.from_date)
        ).scalars()
    ]
    result = PullResult()
    ours = _OurReferences(company_id, db_number)
    zone = ZoneInfo(str(state().settings.timezone))
    for year_id, listed_at in years:
        started = utcnow()
        since = None
        if listed_at is not None:
            # lastmodified is Swedish local time to the minute (docs/fortnox.md, "Formats").
            since = (listed_at - OVERLAP).astimezone(zone).replace(tzinfo=None)
        marks = _marks(company_id, db_number, year_id)
        db_session.commit()  # no transaction open while we wait on Fortnox
        listed = [
            (str(item.get("VoucherSeries")), to_int(item.get("VoucherNumber")))
            for item in client.vouchers(year_id, lastmodified=since)
        ]
        fresh = sorted({(series, number) for series, number in listed
                        if number is not None and number > marks.get(series, 0)})
        result.listed += len(fresh)
        if progress is not None:
            progress(result)
        for series, number in fresh:
            if _stored(company_id, db_number, year_id, series, number) is None:
                db_session.commit()
                full = client.get_voucher(series, number, year_id)
                pulled = store_voucher(company_id, db_number, year_id, full,
                                       ours.record_for(full))
                if pulled.sync_record_id is None:
                    result.new += 1
                else:
                    result.ours += 1
            _advance(company_id, db_number, year_id, series, number)
            db_session.commit()
            result.done += 1
            if progress is not None:
                progress(result)
        year = db_session.execute(
            select(FinancialYear).where(
                FinancialYear.company_id == company_id,
                FinancialYear.database_number == db_number,
                FinancialYear.fortnox_id == year_id,
            )
        ).scalar_one()
        year.vouchers_listed_at = started
        db_session.commit()
        result.years += 1
    return result


def store_voucher(company_id: str, db_number: int, year_id: int, voucher: dict[str, Any],
                  sync_record_id: int | None = None) -> PulledVoucher:
    """Keep one voucher as Fortnox answered it (a single GET or a create, rows included);
    a voucher already kept is only linked to our record. The caller commits."""
    series = str(voucher.get("VoucherSeries"))
    number = int(to_int(voucher.get("VoucherNumber")) or 0)
    pulled = _stored(company_id, db_number, year_id, series, number)
    if pulled is None:
        rows = [_row(row) for row in voucher.get("VoucherRows") or [] if isinstance(row, dict)]
        raw_date = to_str(voucher.get("TransactionDate"))
        pulled = PulledVoucher(
            company_id=company_id, database_number=db_number, financial_year=year_id,
            series=series, number=number,
            transaction_date=datetime.strptime(raw_date, "%Y-%m-%d").date() if raw_date
            else None,
            description=(to_str(voucher.get("Description")) or "")[:DESCRIPTION_LENGTH],
            # A row Fortnox marks removed (struck out by a correction) no longer counts.
            total=sum((Decimal(row["debit"]) for row in rows if not row["removed"]), ZERO),
            rows=rows,
        )
        session().add(pulled)
    if sync_record_id is not None:
        pulled.sync_record_id = sync_record_id
    session().flush()
    return pulled


def _row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as kept: amounts as exact decimal strings (JSON has no Decimal)."""
    return {
        "account": to_int(row.get("Account")),
        "name": to_str(row.get("Description")) or "",  # Fortnox: the account's name
        "debit": format(to_decimal(row.get("Debit")) or ZERO, "f"),
        "credit": format(to_decimal(row.get("Credit")) or ZERO, "f"),
        "text": to_str(row.get("TransactionInformation")) or "",
        "removed": bool(to_bool(row.get("Removed"))),
    }


def _stored(company_id: str, db_number: int, year_id: int, series: str,
            number: int) -> PulledVoucher | None:
    return session().execute(
        select(PulledVoucher).where(
            PulledVoucher.company_id == company_id,
            PulledVoucher.database_number == db_number,
            PulledVoucher.financial_year == year_id,
            PulledVoucher.series == series,
            PulledVoucher.number == number,
        )
    ).scalar_one_or_none()


def _marks(company_id: str, db_number: int, year_id: int) -> dict[str, int]:
    return {
        cursor.series: cursor.last_number
        for cursor in session().execute(
            select(VoucherCursor).where(
                VoucherCursor.company_id == company_id,
                VoucherCursor.database_number == db_number,
                VoucherCursor.financial_year == year_id,
            )
        ).scalars()
    }


def _advance(company_id: str, db_number: int, year_id: int, series: str, number: int) -> None:
    """Move the (year, series) mark up to ``number`` (never down)."""
    cursor = session().execute(
        select(VoucherCursor).where(
            VoucherCursor.company_id == company_id,
            VoucherCursor.database_number == db_number,
            VoucherCursor.financial_year == year_id,
            VoucherCursor.series == series,
        )
    ).scalar_one_or_none()
    if cursor is None:
        cursor = VoucherCursor(company_id=company_id, database_number=db_number,
                               financial_year=year_id, series=series, last_number=0)
        session().add(cursor)
    cursor.last_number = max(cursor.last_number or 0, number)


class _OurReferences:
    """Our vouchers' references for this company, computed only when a pulled Description
    carries a marker (most pulls never need them)."""

    def __init__(self, company_id: str, db_number: int) -> None:
        self.company_id = company_id
        self.db_number = db_number
        self._by_reference: dict[str, int] | None = None

    def record_for(self, voucher: dict[str, Any]) -> int | None:
        """Our record's id when the voucher's Description ends in one of our markers."""
        found = MARKER.search(to_str(voucher.get("Description")) or "")
        if found is None:
            return None
        if self._by_reference is None:
            installation = installation_id()
            self._by_reference = {
                reference(installation, self.company_id, "voucher", object_id): record_id
                for record_id, object_id in session().execute(
                    select(SyncRecord.id, SyncRecord.object_id).where(
                        SyncRecord.company_id == self.company_id,
                        SyncRecord.database_number == self.db_number,
                        SyncRecord.object_type == "voucher",
                    )
                )
            }
        return self._by_reference.get(found.group(1))
