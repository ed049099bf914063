"""Customers: the list with org numbers, and forms that keep what was typed."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from aourly_fortnox.models import SyncRecord
from example_host.extensions import db
from example_host.models import Customer, Invoice, InvoiceStatus

from .conftest import submit, text, unchanged_db

Login = Callable[[str], FlaskClient]

VALID = {
    "name": "Åkesson Måleri AB", "organisation_number": "5560360793",
    "email": "info@akessonmaleri.se", "address": "Hantverkargatan 3", "zip_code": "112 21",
    "city": "Stockholm", "country_code": "se", "vat_type": "SEVAT", "vat_number": "",
}


def test_list_shows_swedish_organisation_numbers(as_user: Login) -> None:
    body = text(as_user("owner@acme.test").get("/customers/"))
    assert "Bergström Bygg AB" in body
    assert "556677-8899" in body


def test_create_a_customer(app: Flask, as_user: Login) -> None:
    client = as_user("coordinator@acme.test")
    response = submit(client, "/customers/new", data=VALID)
    assert response.status_code == 303
    page = client.get(response.location)
    assert "Customer saved." in text(page)
    assert "556036-0793" in text(page)  # normalised to NNNNNN-NNNN
    with app.app_context():
        customer = db.session.scalars(select(Customer).where(Customer.name == VALID["name"])).one()
        assert customer.company_id == "acme"
        assert customer.country_code == "SE"
        assert customer.vat_number is None  # empty optional fields are NULL, not ""


def test_invalid_input_is_kept_with_clear_messages(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    with unchanged_db(app):
        response = submit(client, "/customers/new", data={
            **VALID, "name": "  ", "organisation_number": "55-12", "email": "not-an-email",
        })
    assert response.status_code == 400
    body = text(response)
    assert "Name is required." in body
    assert "Organisation number must look like NNNNNN-NNNN" in body
    assert "Enter a valid email address." in body
    assert 'value="55-12"' in body and 'value="not-an-email"' in body
    assert 'value="Hantverkargatan 3"' in body


def test_eu_customers_need_a_vat_number(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    with unchanged_db(app):
        response = submit(client, "/customers/new", data={
            **VALID, "country_code": "DE", "vat_type": "EUREVERSEDVAT",
            "organisation_number": "",
        })
    assert response.status_code == 400
    assert "EU reverse charge needs the customer&#39;s VAT number." in text(response)


def test_garbage_vat_type_and_country_are_refused_not_crashing(
    app: Flask, as_user: Login
) -> None:
    client = as_user("owner@acme.test")
    with unchanged_db(app):
        response = submit(client, "/customers/new", data={
            **VALID, "vat_type": "BOGUS", "country_code": "Sweden"
        })
    assert response.status_code == 400
    assert "Choose a VAT type from the list." in text(response)
    assert "two-letter country code" in text(response)


def _records(app: Flask, customer_id: int) -> list[SyncRecord]:
    with app.app_context():
        return list(db.session.scalars(select(SyncRecord).where(
            SyncRecord.object_type == "customer", SyncRecord.object_id == str(customer_id)
        )))


def test_editing_a_customer_with_sent_invoices_hands_it_to_the_plugin(
    app: Flask, as_user: Login
) -> None:
    with app.app_context():
        sent = db.session.scalars(
            select(Invoice).where(Invoice.company_id == "acme",
                                  Invoice.status == InvoiceStatus.SENT)
        ).first()
        customer_id = sent.customer_id
    client = as_user("owner@acme.test")
    page = f"/customers/{customer_id}/edit"
    response = submit(client, page, data={**VALID, "name": "Bergström Bygg & Fastighet AB"})
    assert response.status_code == 303
    records = _records(app, customer_id)
    assert len(records) == 1 and records[0].company_id == "acme"


def test_editing_a_customer_that_never_left_aourly_does_not(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    submit(client, "/customers/new", data=VALID)
    with app.app_context():
        customer_id = db.session.scalars(
            select(Customer.id).where(Customer.name == VALID["name"])
        ).one()
    response = submit(client, f"/customers/{customer_id}/edit", data={**VALID, "city": "Solna"})
    assert response.status_code == 303
    assert _records(app, customer_id) == []


def test_edit_form_shows_stored_values_and_validates(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    with app.app_context():
        customer_id = db.session.scalars(
            select(Customer.id).where(Customer.organisation_number == "556677-8899")
        ).one()
    page = client.get(f"/customers/{customer_id}/edit")
    assert 'value="556677-8899"' in text(page)
    with unchanged_db(app):
        response = submit(client, f"/customers/{customer_id}/edit",
                          data={**VALID, "organisation_number": "12345"})
    assert response.status_code == 400
    assert 'value="12345"' in text(response)
