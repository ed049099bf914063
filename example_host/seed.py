"""Demo data (on an empty database) and bulk volume for benchmarks (``flask demo seed``).

Everything is deterministic except the dates, which are relative to today in Stockholm so
invoices fall in the sandbox's current financial year (clamped to 1 January).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from .extensions import db
from .models import (
    Company,
    Customer,
    Invoice,
    InvoiceRow,
    InvoiceStatus,
    Membership,
    Payout,
    Role,
    User,
    VatType,
)
from .parsing import luhn_check_digit, today

DEMO_PASSWORD = "demo"

COMPANIES = [
    ("acme", "Acme Konsult AB", "556123456"),
    ("globex", "Globex Event AB", "556987654"),
]

#: (email, name, {company: role}); owner@acme.test also coordinates Globex.
USERS = [
    ("owner@acme.test", "Anna Andersson", {"acme": Role.OWNER, "globex": Role.COORDINATOR}),
    ("coordinator@acme.test", "Carl Carlsson", {"acme": Role.COORDINATOR}),
    ("performer@acme.test", "Pia Persson", {"acme": Role.PERFORMER}),
    ("owner@globex.test", "Olof Olsson", {"globex": Role.OWNER}),
    ("coordinator@globex.test", "Karin Karlsson", {"globex": Role.COORDINATOR}),
    ("performer@globex.test", "Per Pettersson", {"globex": Role.PERFORMER}),
]


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    org9: str | None  # first nine digits; the tenth is the Luhn check digit
    email: str
    address: str
    zip_code: str
    city: str
    country_code: str = "SE"
    vat_type: VatType = VatType.SEVAT
    vat_number: str | None = None


CUSTOMERS: dict[str, list[DemoCustomer]] = {
    "acme": [
        DemoCustomer("Bergström Bygg AB", "556677889", "faktura@bergstrombygg.se",
                     "Storgatan 12", "111 22", "Stockholm"),
        DemoCustomer("Lindqvist & Söner HB", "969712345", "ekonomi@lindqvistsoner.se",
                     "Kungsportsavenyen 5", "411 36", "Göteborg"),
        DemoCustomer("Sjöberg Redovisning AB", "559012345", "info@sjobergredovisning.se",
                     "Stortorget 3", "211 22", "Malmö"),
        DemoCustomer("Kaffekompaniet i Uppsala AB", "556834567", "hej@kaffekompaniet.se",
                     "Svartbäcksgatan 8", "753 20", "Uppsala"),
        DemoCustomer("Müller Veranstaltungen GmbH", None, "buchhaltung@mueller-events.de",
                     "Friedrichstraße 44", "10117", "Berlin", "DE",
                     VatType.EUREVERSEDVAT, "DE811907980"),
        DemoCustomer("Fjordlys Konsult AS", None, "post@fjordlys.no",
                     "Karl Johans gate 17", "0159", "Oslo", "NO", VatType.EXPORT),
    ],
    "globex": [
        DemoCustomer("Ekström Konferens AB", "556456789", "konferens@ekstrom.se",
                     "Drottninggatan 71", "111 36", "Stockholm"),
        DemoCustomer("Holm & Nyberg Catering AB", "559187654", "order@holmnyberg.se",
                     "Vasagatan 22", "411 24", "Göteborg"),
        DemoCustomer("Västerås Musikförening", "802412345", "kassor@vmf.se",
                     "Kopparbergsvägen 10", "722 13", "Västerås"),
        DemoCustomer("Nordlund Teknik AB", "556543210", "ap@nordlundteknik.se",
                     "Industrigatan 4", "582 77", "Linköping"),
        DemoCustomer("Van der Berg Events B.V.", None, "finance@vdberg-events.nl",
                     "Herengracht 120", "1015 BT", "Amsterdam", "NL",
                     VatType.EUREVERSEDVAT, "NL859245670B01"),
        DemoCustomer("Alpine Stage Productions AG", None, "billing@alpinestage.ch",
                     "Bahnhofstrasse 30", "8001", "Zürich", "CH", VatType.EXPORT),
    ],
}

#: Row templates per VAT rate: what a consultancy / event company in Sweden bills.
ROWS_BY_RATE: dict[int, list[tuple[str, str, str]]] = {
    25: [("Konsulttimmar", "8", "950.00"), ("Projektledning", "4", "1150.00"),
         ("Ljud- och ljusteknik", "1", "12500.00"), ("Resekostnader", "1", "1840.00")],
    12: [("Konferenslunch", "25", "145.00"), ("Hotellnatt", "3", "1290.00"),
         ("Fika", "30", "48.50")],
    6: [("Kurslitteratur", "12", "389.00"), ("Konsertbiljetter", "40", "295.00"),
        ("Persontransport", "1", "3200.00")],
    0: [("Consulting hours", "6", "980.00"), ("Event production", "1", "18500.00")],
}


def org_number(nine: str) -> str:
    return f"{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}"


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # One hash for every demo user: same password, and hashing is deliberately slow.
    return generate_password_hash(DEMO_PASSWORD)


def _days_ago(days: int) -> date:
    day = today()
    return max(day - timedelta(days=days), date(day.year, 1, 1))


def is_empty() -> bool:
    return db.session.execute(select(func.count()).select_from(Company)).scalar_one() == 0


def seed_demo() -> bool:
    """Create the demo companies, users, customers, invoices and payouts. Only once."""
    if not is_empty():
        return False
    session = db.session
    for company_id, name, nine in COMPANIES:
        session.add(Company(id=company_id, name=name, organisation_number=org_number(nine)))
    users: dict[str, User] = {}
    for email, name, roles in USERS:
        user = User(email=email, name=name, password_hash=_demo_password_hash())
        session.add(user)
        users[email] = user
        for company_id, role in roles.items():
            session.add(Membership(user=user, company_id=company_id, role=role))
    session.flush()

    for company_id, _, _ in COMPANIES:
        customers = []
        for demo in CUSTOMERS[company_id]:
            customer = Customer(
                company_id=company_id, name=demo.name,
                organisation_number=org_number(demo.org9) if demo.org9 else None,
                email=demo.email, address=demo.address, zip_code=demo.zip_code,
                city=demo.city, country_code=demo.country_code, vat_type=demo.vat_type,
                vat_number=demo.vat_number,
            )
            session.add(customer)
            customers.append(customer)
        session.flush()
        _seed_invoices(company_id, customers)
        performer = users[f"performer@{company_id}.test"]
        for days, amount, text in ((12, "4500.00", "Fotografering, kundevent"),
                                   (3, "2750.50", "Moderator, frukostseminarium")):
            session.add(Payout(company_id=company_id, performer_id=performer.id,
                               amount=Decimal(amount), payout_date=_days_ago(days),
                               description=text))
    session.commit()
    return True


def _seed_invoices(company_id: str, customers: list[Customer]) -> None:
    """Four sent and three draft invoices; Swedish customers get 25/12/6 %, others 0 %."""
    plan = [  # (customer index, status, days ago, rates)
        (0, InvoiceStatus.SENT, 20, (25, 12)),
        (1, InvoiceStatus.SENT, 14, (25, 6)),
        (4, InvoiceStatus.SENT, 9, (0,)),
        (2, InvoiceStatus.SENT, 5, (25, 12, 6)),
        (3, InvoiceStatus.DRAFT, 2, (12, 6)),
        (5, InvoiceStatus.DRAFT, 1, (0,)),
        (0, InvoiceStatus.DRAFT, 0, (25,)),
    ]
    sent_at = datetime.now(UTC)
    for number, (index, status, days, rates) in enumerate(plan, start=1):
        invoice_date = _days_ago(days)
        invoice = Invoice(
            company_id=company_id, customer=customers[index], number=number,
            invoice_date=invoice_date, due_date=invoice_date + timedelta(days=30),
            status=status, sent_at=sent_at if status == InvoiceStatus.SENT else None,
        )
        for position, rate in enumerate(rates):
            choices = ROWS_BY_RATE[rate]
            text, quantity, price = choices[(number + position) % len(choices)]
            invoice.rows.append(InvoiceRow(position=position, description=text,
                                           quantity=Decimal(quantity),
                                           unit_price=Decimal(price), vat_rate=rate))
        db.session.add(invoice)


# -- bulk volume -----------------------------------------------------------------------------
FIRST = ["Alm", "Berg", "Dal", "Ek", "Fors", "Gran", "Hag", "Lind", "Lund", "Mal", "Nord",
         "Sjö", "Sten", "Strand", "Ström", "Sund", "Vik", "Ås", "Öst", "Väst"]
LAST = ["ström", "gren", "qvist", "berg", "lund", "holm", "dahl", "ling", "blad", "mark"]
KIND = ["Bygg", "Konsult", "Event", "Media", "Teknik", "Redovisning", "Design", "Transport"]
CITIES = [("Stockholm", "111"), ("Göteborg", "411"), ("Malmö", "211"), ("Uppsala", "753"),
          ("Västerås", "722"), ("Örebro", "702"), ("Linköping", "582"), ("Umeå", "903")]
STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Järnvägsgatan", "Skolgatan"]


def seed_volume(company_id: str, customers: int, invoices: int) -> tuple[int, int]:
    """Add ``customers`` customers and ``invoices`` SENT invoices, nothing handed to the plugin.

    Bulk inserts (one statement per table): 1000 invoices with 3000 rows take seconds.
    """
    if db.session.get(Company, company_id) is None:
        raise ValueError(f"No company {company_id!r}.")
    existing = db.session.execute(
        select(func.count()).select_from(Customer).where(Customer.company_id == company_id)
    ).scalar_one()
    rng = random.Random(f"{company_id}:{existing}")  # deterministic per starting point
    customer_ids: list[int] = []
    if customers:
        values: list[dict[str, Any]] = []
        for n in range(existing, existing + customers):
            city, zip_prefix = CITIES[n % len(CITIES)]
            base = f"{FIRST[n % len(FIRST)]}{LAST[(n // len(FIRST)) % len(LAST)]}"
            name = f"{base} {KIND[n % len(KIND)]} AB"
            if n >= len(FIRST) * len(LAST):
                name = f"{name} {n // (len(FIRST) * len(LAST)) + 1}"
            nine = f"559{n:06d}"
            values.append({
                "company_id": company_id, "name": name, "organisation_number": org_number(nine),
                "email": f"faktura{n}@{base.lower()}.example.se".replace("ö", "o")
                .replace("ä", "a").replace("å", "a"),
                "address": f"{STREETS[n % len(STREETS)]} {rng.randint(1, 99)}",
                "zip_code": f"{zip_prefix} {rng.randint(10, 99)}", "city": city,
                "country_code": "SE", "vat_type": VatType.SEVAT.value, "vat_number": None,
            })
        customer_ids = list(db.session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True), values
        ))
    if invoices:
        if not customer_ids:
            customer_ids = list(db.session.scalars(
                select(Customer.id).where(Customer.company_id == company_id,
                                          Customer.vat_type == VatType.SEVAT.value)
                .order_by(Customer.id)
            ))
        if not customer_ids:
            raise ValueError(f"Company {company_id!r} has no Swedish customers to invoice.")
        last_number = db.session.execute(
            select(func.max(Invoice.number)).where(Invoice.company_id == company_id)
        ).scalar_one() or 0
        sent_at = datetime.now(UTC)
        invoice_values = []
        for i in range(invoices):
            invoice_date = _days_ago(rng.randint(0, 30))
            invoice_values.append({
                "company_id": company_id, "customer_id": customer_ids[i % len(customer_ids)],
                "number": last_number + 1 + i, "invoice_date": invoice_date,
                "due_date": invoice_date + timedelta(days=30),
                "status": InvoiceStatus.SENT.value, "sent_at": sent_at,
            })
        invoice_ids = list(db.session.scalars(
            insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True), invoice_values
        ))
        row_values = []
        for invoice_id in invoice_ids:
            for position, rate in enumerate((25, 12, 6)):
                text, quantity, price = rng.choice(ROWS_BY_RATE[rate])
                row_values.append({
                    "invoice_id": invoice_id, "position": position, "description": text,
                    "quantity": Decimal(quantity), "unit_price": Decimal(price), "vat_rate": rate,
                })
        db.session.execute(insert(InvoiceRow), row_values)
    db.session.commit()
    return len(customer_ids) if customers else 0, invoices
