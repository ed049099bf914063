"""The minimal host's own data: raw sqlite3, as Flask's tutorial app (flaskr) keeps it.

No ORM, no Flask-SQLAlchemy: one connection per app context in ``g``, plain SQL. The adapter
the plugin reads is written against these tables too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app, g
from werkzeug.security import generate_password_hash

from aourly_fortnox import CustomerData, InvoiceData, InvoiceRowData, VoucherData

SCHEMA = """
CREATE TABLE IF NOT EXISTS user (
    id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, password TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS company (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS membership (
    user_id INTEGER NOT NULL, company_id INTEGER NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (user_id, company_id));
CREATE TABLE IF NOT EXISTS customer (
    id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, name TEXT NOT NULL, email TEXT);
CREATE TABLE IF NOT EXISTS invoice (
    id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, customer_id INTEGER NOT NULL,
    number TEXT NOT NULL, invoice_date TEXT NOT NULL, description TEXT NOT NULL,
    quantity TEXT NOT NULL, unit_price TEXT NOT NULL, vat_rate INTEGER NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0);
"""


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    return g.db  # type: ignore[no-any-return]


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """The tables and a tiny seed: two companies, an owner and a bookkeeper, one invoice."""
    db = get_db()
    db.executescript(SCHEMA)
    if db.execute("SELECT count(*) FROM user").fetchone()[0]:
        return
    for username in ("olivia", "bo"):
        db.execute("INSERT INTO user (username, password) VALUES (?, ?)",
                   (username, generate_password_hash("secret")))
    db.executemany("INSERT INTO company (id, name) VALUES (?, ?)",
                   [(1, "Olivia Design AB"), (2, "Other AB")])
    db.executemany("INSERT INTO membership VALUES (?, ?, ?)",
                   [(1, 1, "owner"), (2, 1, "bookkeeper"), (2, 2, "owner")])
    db.execute("INSERT INTO customer (id, company_id, name, email) VALUES (7, 1, ?, ?)",
               ("Kund Minimal AB", "kund@example.test"))
    db.execute(
        "INSERT INTO invoice (id, company_id, customer_id, number, invoice_date, description,"
        " quantity, unit_price, vat_rate) VALUES (41, 1, 7, 'M-1001', ?, 'Design work', '3',"
        " '850.00', 25)", (date.today().isoformat(),))
    db.commit()


def my_role(user_id: int, company_id: int) -> str | None:
    row = get_db().execute(
        "SELECT role FROM membership WHERE user_id = ? AND company_id = ?", (user_id, company_id)
    ).fetchone()
    return None if row is None else str(row["role"])


class Adapter:
    """The plugin's HostAdapter over the host's own tables (ids arrive as strings)."""

    def get_customer(self, company_id: str, customer_id: str) -> CustomerData | None:
        row = get_db().execute("SELECT * FROM customer WHERE id = ? AND company_id = ?",
                               (int(customer_id), int(company_id))).fetchone()
        if row is None:
            return None
        return CustomerData(id=str(row["id"]), name=row["name"], email=row["email"])

    def get_invoice(self, company_id: str, invoice_id: str) -> InvoiceData | None:
        row = get_db().execute(
            "SELECT * FROM invoice WHERE id = ? AND company_id = ? AND sent = 1",
            (int(invoice_id), int(company_id))).fetchone()
        if row is None:
            return None
        day = date.fromisoformat(row["invoice_date"])
        return InvoiceData(
            id=str(row["id"]), number=row["number"], customer_id=str(row["customer_id"]),
            invoice_date=day, due_date=day + timedelta(days=30),
            rows=(InvoiceRowData(description=row["description"],
                                 quantity=Decimal(row["quantity"]),
                                 unit_price=Decimal(row["unit_price"]),
                                 vat_rate=int(row["vat_rate"])),),
        )

    def get_voucher(self, company_id: str, voucher_id: str) -> VoucherData | None:
        return None  # this host has no vouchers

    def sent_invoice_ids(self, company_id: str) -> Iterable[str]:
        rows = get_db().execute("SELECT id FROM invoice WHERE company_id = ? AND sent = 1"
                                " ORDER BY id", (int(company_id),))
        return [str(row["id"]) for row in rows]

    def voucher_ids(self, company_id: str) -> Iterable[str]:
        return []
