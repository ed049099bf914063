"""Seed data: two companies with a BAS chart, two financial years, series, customers, vouchers.

Deterministic for a given seed (amounts and the extra accounts' numbers come from
``random.Random``); dates follow today in Europe/Stockholm:

* 1001 "Demo Bygg AB" (556981-2349, the first and preselected company) and
  1002 "Test Konsult AB" (559214-5675).
* Financial years: Id 1 = last calendar year, Id 2 = this calendar year; the chart (374 BAS
  accounts plus ``extra_accounts``) in both; 3590 is inactive in year 2.
* Voucher series A "Redovisning" and I "Bokslut" are manual; B "Kundfakturor" and the other
  standard letters are not.
* Customers 1 (a company with an organisation number: 1001 has "Fjällbacka Rör AB"
  559087-6545, 1002 has "Kontorshotellet i Lund AB" 556745-3211) and 2 (a private person).
* A few series-A vouchers in both years; year 2 opens with year 1's balances.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

from . import bas, customers, ledger, vouchers
from .store import RecordRow, Store
from .values import amount

INACTIVE_IN_CURRENT_YEAR = 3590
CHART_NAME = "BAS 2024"

COMPANIES: tuple[dict[str, Any], ...] = (
    {
        "info": {
            "Address": "Byggvägen 3", "City": "Stockholm", "CompanyName": "Demo Bygg AB",
            "CountryCode": "SE", "DatabaseNumber": 1001, "OrganizationNumber": "556981-2349",
            "VisitAddress": "Byggvägen 3", "VisitCity": "Stockholm", "VisitCountryCode": "SE",
            "VisitZipCode": "112 45", "ZipCode": "112 45",
        },
        "settings": {"Email": "ekonomi@demobygg.se", "Phone1": "08-123 456 70",
                     "BG": "5050-1055", "PG": "", "VATNumber": "SE556981234901"},
        "customers": (
            {"Name": "Fjällbacka Rör AB", "OrganisationNumber": "559087-6545",
             "Email": "faktura@fjallbackaror.se", "Address1": "Hamngatan 4",
             "ZipCode": "457 40", "City": "Fjällbacka", "CountryCode": "SE",
             "Phone1": "0525-310 20", "Type": "COMPANY", "VATType": "SEVAT"},
            {"Name": "Anna Svensson", "Email": "anna.svensson@example.se",
             "Address1": "Björkvägen 12", "ZipCode": "123 45", "City": "Farsta",
             "CountryCode": "SE", "Type": "PRIVATE", "VATType": "SEVAT"},
        ),
    },
    {
        "info": {
            "Address": "Kungsgatan 20", "City": "Göteborg", "CompanyName": "Test Konsult AB",
            "CountryCode": "SE", "DatabaseNumber": 1002, "OrganizationNumber": "559214-5675",
            "VisitAddress": "Kungsgatan 20", "VisitCity": "Göteborg", "VisitCountryCode": "SE",
            "VisitZipCode": "411 19", "ZipCode": "411 19",
        },
        "settings": {"Email": "info@testkonsult.se", "Phone1": "031-70 80 90",
                     "BG": "5402-9681", "PG": "", "VATNumber": "SE559214567501"},
        "customers": (
            {"Name": "Kontorshotellet i Lund AB", "OrganisationNumber": "556745-3211",
             "Email": "ekonomi@kontorshotellet.se", "Address1": "Stora Södergatan 8",
             "ZipCode": "222 23", "City": "Lund", "CountryCode": "SE",
             "Phone1": "046-12 34 56", "Type": "COMPANY", "VATType": "SEVAT"},
            {"Name": "Erik Lindqvist", "Email": "erik.lindqvist@example.se",
             "Address1": "Parkgatan 5", "ZipCode": "752 20", "City": "Uppsala",
             "CountryCode": "SE", "Type": "PRIVATE", "VATType": "SEVAT"},
        ),
    },
)  # fmt: skip

SERIES = (
    ("A", "Redovisning", True), ("B", "Kundfakturor", False),
    ("C", "Inbetalningar från kunder", False), ("D", "Leverantörsfakturor", False),
    ("E", "Utbetalningar till leverantörer", False), ("F", "Kassa", False),
    ("G", "Avskrivning", False), ("I", "Bokslut", True), ("K", "Lön", False),
    ("L", "Kontantfaktura", False), ("M", "Momsredovisning", False),
)  # fmt: skip

#: Fortnox's predefined accounts as a real company had them (notima fortnox4j dump, 6.7);
#: 0 means "not set", which real companies show too.
PREDEFINED = {
    "ACCRINCOME": 3990, "ACCRINVOICE": 2990, "ACCRSINVOICE": 1790, "ADMFEE": 3540,
    "BG": 1930, "CASH": 1910, "CASHBYCARD": 1930, "CASHDISCOUNTIN": 4730,
    "CASHDISCOUNTOUT": 3730, "CURRENCYLOSS": 7960, "CURRENCYWIN": 3960, "CUSTCLAIM": 1510,
    "FREIGHT": 3520, "INTEREST": 8313, "INVAT": 2641, "OUTVAT_MP1": 2611, "OUTVAT_MP2": 2621,
    "OUTVAT_MP3": 2631, "OUTVAT_MP4": 0, "PG": 1920, "ROUNDOFF": 3740, "SALES": 3001,
    "SALES2": 3001, "SALES_MP2": 3002, "SALES_MP3": 3003, "SALES_MP0": 3004,
    "SALES_25_SE": 3001, "SALES_12_SE": 3002, "SALES_6_SE": 3003, "SALES_0_SE": 3004,
    "SALESEUREV": 3108, "SALESEUREV2": 3308, "SALESEUVAT": 3106, "SALESEXPORT": 3105,
    "SALESEXPORT2": 3305, "SUPADMFEE": 0, "SUPDEBT": 2440, "SUPFREIGHT": 5710,
}  # fmt: skip


def seed_if_empty(store: Store, *, seed: int = 0, extra_accounts: int = 0) -> bool:
    """Seed a new store; a store that already has companies is left alone."""
    if store.companies():
        return False
    today = ledger.today()
    with store.transaction():
        for company in COMPANIES:
            _seed_company(store, company, today, seed, extra_accounts)
    return True


def _seed_company(
    store: Store, company: dict[str, Any], today: date, seed: int, extra_accounts: int
) -> None:
    db = company["info"]["DatabaseNumber"]
    rng = random.Random(f"{seed}-{db}")
    store.add_company(db, company["info"], {"locked": False, "LockedPeriodEnd": "",
                                            **company["settings"]})  # fmt: skip
    years: list[dict[str, Any]] = [
        {"Id": 1, "FromDate": f"{today.year - 1}-01-01", "ToDate": f"{today.year - 1}-12-31",
         "AccountChartType": CHART_NAME, "AccountingMethod": "ACCRUAL"},
        {"Id": 2, "FromDate": f"{today.year}-01-01", "ToDate": f"{today.year}-12-31",
         "AccountChartType": CHART_NAME, "AccountingMethod": "ACCRUAL"},
    ]  # fmt: skip
    for year in years:
        ledger.put_year(store, db, year)
    chart = bas.chart()
    used = {number for number, _, _ in chart}
    free = [number for number in range(1000, 10000) if number not in used]
    extras = sorted(rng.sample(free, extra_accounts)) if extra_accounts else []
    chart += [(number, f"Tilläggskonto {number}", None) for number in extras]
    rows: list[RecordRow] = []
    for year in years:
        for number, description, vat_code in chart:
            active = not (year["Id"] == 2 and number == INACTIVE_IN_CURRENT_YEAR)
            account = ledger.account_shape(
                number, description, year["Id"], vat_code=vat_code, sru=bas.sru_for(number),
                active=active,
            )  # fmt: skip
            rows.append(ledger.account_row(db, account))
    for code, description, manual in SERIES:
        rows.append((db, "voucherseries", code, None, code,
                     {"Code": code, "Description": description, "Manual": manual}))  # fmt: skip
    for name, account_number in sorted(PREDEFINED.items()):
        rows.append((db, "predefined", name, None, name, {"Name": name, "Account": account_number}))
    store.put_many(rows)
    for customer in company["customers"]:
        customers.create_customer(store, db, dict(customer))
    _seed_vouchers(store, db, rng, today)
    _open_year(store, db, 1, 2)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _seed_vouchers(store: Store, db: int, rng: random.Random, today: date) -> None:
    def when(year: int, month: int, day: int) -> str:
        return min(date(year, month, day), today).isoformat()

    def post(description: str, day: str, year_id: int, lines: list[tuple[int, Decimal]]) -> None:
        rows = [
            {"Account": account, "Debit": value if value > 0 else 0,
             "Credit": -value if value < 0 else 0}
            for account, value in lines
        ]  # fmt: skip
        payload = {"Description": description, "TransactionDate": day, "VoucherSeries": "A",
                   "VoucherRows": rows}  # fmt: skip
        vouchers.create_voucher(store, db, payload, str(year_id))

    last, this = today.year - 1, today.year
    capital = Decimal(rng.choice([25000, 50000, 100000]))
    post("Insättning av aktiekapital", when(last, 1, 10), 1, [(1930, capital), (2081, -capital)])
    rent = Decimal(rng.choice([8500, 9200, 12000]))
    post("Lokalhyra januari", when(last, 1, 31), 1, [(5010, rent), (1930, -rent)])
    net = _money(rng, 300, 2000)
    vat = (net * Decimal("0.25")).quantize(Decimal("0.01"))
    post("Kontorsmateriel", when(last, 3, 12), 1, [(6110, net), (2641, vat), (1930, -(net + vat))])
    fee = _money(rng, 50, 200)
    post("Bankavgifter", when(last, 6, 30), 1, [(6570, fee), (1930, -fee)])
    post("Lokalhyra januari", when(this, 1, 31), 2, [(5010, rent), (1930, -rent)])
    phone = _money(rng, 200, 600)
    phone_vat = (phone * Decimal("0.25")).quantize(Decimal("0.01"))
    post("Mobiltelefoni", when(this, 2, 15), 2,
         [(6212, phone), (2641, phone_vat), (1930, -(phone + phone_vat))])  # fmt: skip


def _open_year(store: Store, db: int, previous: int, year_id: int) -> None:
    """Year 2 brings forward year 1's balance accounts; the result goes to 2098."""
    moved = ledger.movements(store, db, previous)
    result = sum((value for number, value in moved.items() if number >= 3000), Decimal(0))
    balances = {number: value for number, value in moved.items() if number < 3000}
    balances[2098] = balances.get(2098, Decimal(0)) + result
    for number, value in balances.items():
        account = ledger.account(store, db, year_id, number)
        if account is not None and value:
            account["BalanceBroughtForward"] = amount(value)
            ledger.put_account(store, db, account)
