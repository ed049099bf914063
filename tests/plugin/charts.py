"""Put an imported chart straight into the plugin's tables (for mapping rule tests).

The end-to-end tests import it from the sandbox instead; these build exact cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from aourly_fortnox.models import (
    Account,
    Connection,
    ConnectionStatus,
    FinancialYear,
    PredefinedAccount,
    VoucherSeries,
    utcnow,
)
from aourly_fortnox.state import state

DB_NUMBER = 1001
BASE_CHART = {
    1510: ("Kundfordringar", None),
    1930: ("Företagskonto", None),
    2611: ("Utgående moms 25 %", "MP1"),
    2621: ("Utgående moms 12 %", "MP2"),
    2631: ("Utgående moms 6 %", "MP3"),
    3001: ("Försäljning 25 %", "MP1"),
    3002: ("Försäljning 12 %", "MP2"),
    3003: ("Försäljning 6 %", "MP3"),
    3004: ("Försäljning momsfri", "MF"),
    3105: ("Försäljning export", None),
    3108: ("Försäljning EU", None),
    3740: ("Öres- och kronutjämning", None),
    4600: ("Legoarbeten", None),
    3011: ("Försäljning tjänster 25 %", "MP1"),
    5010: ("Lokalhyra", None),
}


def install_chart(
    company_id: str = "acme",
    years: tuple[tuple[int, date, date], ...] | None = None,
    inactive: dict[int, set[int]] | None = None,
    missing: dict[int, set[int]] | None = None,
    predefined: dict[str, int] | None = None,
    series: dict[str, tuple[str, bool]] | None = None,
    database_number: int = DB_NUMBER,
    connected: bool = True,
) -> None:
    """A connected company with its chart per year (inside an app context).

    ``connected=False`` stores the chart only: another company's, or one of a Fortnox company
    (``database_number``) connected before."""
    today = date.today()
    years = years or (
        (1, date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        (2, date(today.year, 1, 1), date(today.year, 12, 31)),
    )
    db = state().db
    if connected:
        db.session.add(
            Connection(
                company_id=company_id, status=ConnectionStatus.CONNECTED,
                database_number=database_number, fortnox_company_name="Demo Bygg AB",
                connected_at=utcnow(),
            )
        )
    for fortnox_id, start, end in years:
        db.session.add(FinancialYear(company_id=company_id, database_number=database_number,
                                     fortnox_id=fortnox_id, from_date=start, to_date=end))
        for number, (description, vat) in BASE_CHART.items():
            if number in (missing or {}).get(fortnox_id, set()):
                continue
            db.session.add(Account(
                company_id=company_id, database_number=database_number, financial_year=fortnox_id,
                number=number, description=description, vat_code=vat,
                active=number not in (inactive or {}).get(fortnox_id, set()),
            ))
    for name, account in (predefined or {}).items():
        db.session.add(PredefinedAccount(company_id=company_id, database_number=database_number,
                                         name=name, account=account))
    for code, (description, manual) in (series or {}).items():
        db.session.add(VoucherSeries(company_id=company_id, database_number=database_number,
                                     code=code, description=description, manual=manual))
    db.session.commit()


def clock_at(moment: datetime) -> type[datetime]:
    """A ``datetime`` whose ``now()`` is always ``moment`` (aware, UTC), to put in place of
    ``aourly_fortnox.mapping.datetime``: the mapping reads the company's date from it."""

    class Clock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return moment.astimezone(tz) if tz else moment.astimezone(UTC).replace(tzinfo=None)

    return Clock
