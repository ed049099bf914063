"""``flask --app example_host demo ...``: bulk volume and reset."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import func, select

from aourly_fortnox.models import SyncRecord
from example_host.extensions import db
from example_host.models import Customer, Invoice, InvoiceRow, InvoiceStatus


def count(app: Flask, model: type, *where: object) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model).where(*where)
        return db.session.execute(query).scalar_one()


def test_demo_seed_adds_the_requested_counts_fast(app: Flask) -> None:
    customers_before = count(app, Customer, Customer.company_id == "acme")
    invoices_before = count(app, Invoice, Invoice.company_id == "acme")
    started = time.monotonic()
    result = app.test_cli_runner().invoke(args=[
        "demo", "seed", "--company", "acme", "--customers", "200", "--invoices", "1000"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert "added 200 customers and 1000 sent invoices" in result.output
    assert elapsed < 15, f"bulk seeding took {elapsed:.1f} s"
    assert count(app, Customer, Customer.company_id == "acme") == customers_before + 200
    assert count(app, Invoice, Invoice.company_id == "acme") == invoices_before + 1000
    assert count(app, Invoice, Invoice.company_id == "globex",
                 Invoice.status == InvoiceStatus.DRAFT) > 0  # Globex untouched
    with app.app_context():
        new = db.session.scalars(
            select(Invoice).where(Invoice.company_id == "acme")
            .order_by(Invoice.number.desc()).limit(1000)
        ).all()
        assert {i.status for i in new} == {InvoiceStatus.SENT}
        assert {r.vat_rate for i in new[:20] for r in i.rows} == {25, 12, 6}
        numbers = db.session.scalars(
            select(Invoice.number).where(Invoice.company_id == "acme")).all()
        assert len(numbers) == len(set(numbers))  # numbering continues, no clash
        orgs = db.session.scalars(select(Customer.organisation_number).where(
            Customer.company_id == "acme", Customer.organisation_number.is_not(None))).all()
        assert len(orgs) == len(set(orgs))
    assert count(app, InvoiceRow) >= 3000
    assert count(app, SyncRecord) == 0  # nothing handed to the plugin


def test_demo_seed_twice_keeps_numbers_unique(app: Flask) -> None:
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "seed", "--company", "globex", "--customers", "5",
                                     "--invoices", "10"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        orgs = db.session.scalars(select(Customer.organisation_number).where(
            Customer.company_id == "globex", Customer.organisation_number.is_not(None))).all()
        assert len(orgs) == len(set(orgs))


def test_demo_seed_for_an_unknown_company_is_a_clear_error(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--company", "nope",
                                                "--invoices", "3"])
    assert result.exit_code != 0
    assert "No company 'nope'" in result.output


def test_demo_reset_gives_back_the_demo_data(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "seed", "--company", "acme", "--customers", "3"])
    before = count(app, Customer)
    result = runner.invoke(args=["demo", "reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert count(app, Customer) == before - 3
    assert count(app, SyncRecord) == 0
