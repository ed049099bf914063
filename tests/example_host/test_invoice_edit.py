"""Editing a sent invoice: the new-invoice form, pre-filled; saved and handed to Fortnox again
in one commit; managers of the invoice's company only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from example_host.extensions import db
from example_host.fortnox_setup import fortnox
from example_host.models import Invoice, InvoiceStatus

from .conftest import HANDED, TAKEN_BACK, csrf_from, post, submit, text
from .test_handover import break_after_writing, states
from .test_invoices import create_invoice, customer_id, invoice_form

Login = Callable[[str], FlaskClient]

ROWS = [("Konsulttimmar", "8", "950", "25"), ("Konferenslunch", "3", "99,90", "12")]


def sent_invoice(app: Flask, client: FlaskClient,
                 rows: list[tuple[str, str, str, str]] = ROWS) -> int:
    invoice_id = create_invoice(app, client, rows)
    response = submit(client, f"/invoices/{invoice_id}", f"/invoices/{invoice_id}/send")
    assert response.status_code == 303
    return invoice_id


def snapshot(app: Flask, invoice_id: int) -> tuple[Any, ...]:
    """Everything an edit could change (to show that a refused one changed nothing)."""
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        return (invoice.customer_id, invoice.invoice_date, invoice.due_date, invoice.status,
                invoice.number, invoice.sent_at,
                [(r.id, r.position, r.description, r.quantity, r.unit_price, r.vat_rate)
                 for r in invoice.rows])


def first(app: Flask, company: str, status: InvoiceStatus) -> int:
    with app.app_context():
        return db.session.scalars(
            select(Invoice.id).where(Invoice.company_id == company, Invoice.status == status)
            .order_by(Invoice.id)
        ).first()


def calls_to_sync_invoice(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    real = fortnox.sync_invoice

    def spy(company_id: str, invoice_id: str) -> None:
        calls.append((str(company_id), str(invoice_id)))
        real(company_id, invoice_id)

    monkeypatch.setattr(fortnox, "sync_invoice", spy)
    return calls


# -- the page ---------------------------------------------------------------------------------
def test_a_sent_invoice_has_an_edit_link_and_a_draft_has_none(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    invoice_id = create_invoice(app, client, ROWS)
    assert 'data-testid="edit-invoice"' not in text(client.get(f"/invoices/{invoice_id}"))
    submit(client, f"/invoices/{invoice_id}", f"/invoices/{invoice_id}/send")
    page = text(client.get(f"/invoices/{invoice_id}"))
    assert f'href="/invoices/{invoice_id}/edit" data-testid="edit-invoice">Edit<' in page


def test_the_edit_form_is_the_invoice_form_filled_from_the_invoice(
    app: Flask, as_user: Login
) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client, [*ROWS, ("Kurslitteratur", "1,5", "389", "6")])
    response = client.get(f"/invoices/{invoice_id}/edit")
    assert response.status_code == 200
    body = text(response)
    with app.app_context():
        number = db.session.get(Invoice, invoice_id).number
    assert f"Edit invoice #{number}" in body
    assert f'<option value="{customer_id(app)}" selected>' in body
    assert 'name="invoice_date" value="2025-03-10"' in body
    assert 'name="due_date" value="2025-04-09"' in body
    assert body.count('name="row_description"') == 3  # its rows, no empty ones
    for value in ("Konsulttimmar", "8", "950.00", "Konferenslunch", "3", "99.90",
                  "Kurslitteratur", "1.5", "389.00"):
        assert f'value="{value}"' in body, value
    assert '<option value="12" selected>' in body and '<option value="6" selected>' in body
    assert ">Save<" in body and ">Create invoice<" not in body
    assert f'href="/invoices/{invoice_id}">Cancel<' in body


# -- saving -----------------------------------------------------------------------------------
def test_saving_updates_the_invoice_and_hands_it_over_again_in_one_commit(
    app: Flask, as_user: Login, transactions: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = as_user("coordinator@acme.test")
    invoice_id = sent_invoice(app, client)
    before = snapshot(app, invoice_id)
    calls = calls_to_sync_invoice(monkeypatch)
    form = {**invoice_form(customer_id(app), [
        ("Konsulttimmar, justerat", "7,5", "1 000,50", "25"),  # changed
        ("Parkering", "1", "120", "6"),                         # replaces the lunch
        ("Kurslitteratur", "2", "389", "6"),                    # a new row
        ("", "", "", "25"),                                     # an empty row is ignored
    ]), "invoice_date": "2025-03-12", "due_date": "2025-04-11"}
    page = f"/invoices/{invoice_id}/edit"
    response = post(client, page, page, transactions, form)
    assert response.status_code == 303, text(response)
    assert response.location.endswith(f"/invoices/{invoice_id}")
    assert transactions == HANDED
    assert calls == [("acme", str(invoice_id))]
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.invoice_date == date(2025, 3, 12) and invoice.due_date == date(2025, 4, 11)
        assert [(r.description, r.quantity, r.unit_price, r.vat_rate) for r in invoice.rows] == [
            ("Konsulttimmar, justerat", Decimal("7.5"), Decimal("1000.50"), 25),
            ("Parkering", Decimal("1"), Decimal("120.00"), 6),
            ("Kurslitteratur", Decimal("2"), Decimal("389.00"), 6),
        ]
        assert [r.position for r in invoice.rows] == [0, 1, 2]
        assert invoice.rows[0].id == before[6][0][0]  # rows are updated, not churned
        assert invoice.net == Decimal("8401.75")  # 7503.75 + 120 + 778
        assert isinstance(invoice.total, Decimal)
        # Still the same sent invoice.
        assert (invoice.status, invoice.number, invoice.sent_at) == (
            InvoiceStatus.SENT, before[4], before[5])
    assert str(invoice_id) in states(app, "invoice", invoice_id)
    page_after = text(client.get(response.location))
    assert "Invoice saved." in page_after and "could not be handed" not in page_after
    assert "SEK\u00a07,503.75" in page_after


def test_fewer_rows_remove_the_others_and_the_customer_can_change(
    app: Flask, as_user: Login
) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client)
    other = customer_id(app, "EXPORT")
    form = invoice_form(other, [("Consulting", "8", "950", "0")])
    response = submit(client, f"/invoices/{invoice_id}/edit", data=form)
    assert response.status_code == 303, text(response)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.customer_id == other
        assert [(r.description, r.vat_rate) for r in invoice.rows] == [("Consulting", 0)]


def test_the_prefilled_form_saved_as_it_is_changes_nothing(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client, [*ROWS, ("Kurslitteratur", "1,5", "389", "6")])
    before = snapshot(app, invoice_id)
    prefilled = invoice_form(customer_id(app), [
        ("Konsulttimmar", "8", "950.00", "25"), ("Konferenslunch", "3", "99.90", "12"),
        ("Kurslitteratur", "1.5", "389.00", "6")])
    assert submit(client, f"/invoices/{invoice_id}/edit", data=prefilled).status_code == 303
    assert snapshot(app, invoice_id) == before


def test_a_failing_hand_over_keeps_the_edit_and_warns(
    app: Flask, as_user: Login, transactions: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client)
    state_before = states(app, "invoice", invoice_id)
    break_after_writing(monkeypatch, "sync_invoice")
    page = f"/invoices/{invoice_id}/edit"
    response = post(client, page, page, transactions,
                    invoice_form(customer_id(app), [("Konsulttimmar", "9", "950", "25")]))
    assert response.status_code == 303
    assert transactions == TAKEN_BACK
    with app.app_context():
        rows = db.session.get(Invoice, invoice_id).rows
        assert [(r.description, r.quantity) for r in rows] == [("Konsulttimmar", Decimal("9"))]
    assert states(app, "invoice", invoice_id) == state_before
    shown = text(client.get(response.location))
    assert "could not be handed to Fortnox" in shown and "Invoice saved." in shown


# -- refusals: a clear answer, nothing changed ------------------------------------------------
@pytest.mark.parametrize(("rows", "dates", "message"), [
    ([("Konsulttimmar", "8", "12,34,56", "25")], {}, "is not a number"),
    ([("Konsulttimmar", "0", "950", "25")], {}, "Quantity must be more than 0."),
    ([("", "", "", "25")], {}, "Add at least one row."),
    ([("Konsulttimmar", "8", "950", "7")], {}, "VAT must be 25, 12, 6 or 0 %."),
    ([("Konsulttimmar", "8", "950", "25")], {"invoice_date": "12/3/2025"},
     "Enter a date as YYYY-MM-DD."),
    ([("Konsulttimmar", "8", "950", "25")], {"due_date": "2025-01-01"},
     "The due date cannot be before the invoice date."),
])
def test_bad_input_is_422_with_the_values_kept_and_nothing_changed(
    app: Flask, as_user: Login, monkeypatch: pytest.MonkeyPatch,
    rows: list[tuple[str, str, str, str]], dates: dict[str, str], message: str,
) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client)
    before = snapshot(app, invoice_id)
    calls = calls_to_sync_invoice(monkeypatch)
    form = {**invoice_form(customer_id(app), rows), **dates}
    response = submit(client, f"/invoices/{invoice_id}/edit", data=form)
    assert response.status_code == 422
    body = text(response)
    assert message in body and "Please correct the fields marked below." in body
    for value in (rows[0][0], rows[0][2], *dates.values()):
        if value:
            assert f'value="{value}"' in body, value
    assert snapshot(app, invoice_id) == before
    assert calls == []


def test_another_companys_customer_is_refused(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client)
    before = snapshot(app, invoice_id)
    response = submit(client, f"/invoices/{invoice_id}/edit", data=invoice_form(
        customer_id(app, company="globex"), [("Konsulttimmar", "8", "950", "25")]))
    assert response.status_code == 422
    assert "Choose a customer." in text(response)
    assert snapshot(app, invoice_id) == before


def test_add_row_shows_one_more_row_and_saves_nothing(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client)
    before = snapshot(app, invoice_id)
    form = invoice_form(customer_id(app), [("Konsulttimmar", "9", "950", "25")])
    response = submit(client, f"/invoices/{invoice_id}/edit", data={**form, "action": "add_row"})
    assert response.status_code == 200
    body = text(response)
    assert body.count('name="row_description"') == 2 and 'value="9"' in body
    assert snapshot(app, invoice_id) == before


def test_a_draft_is_not_edited_here(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    invoice_id = create_invoice(app, client, ROWS)
    before = snapshot(app, invoice_id)
    response = client.get(f"/invoices/{invoice_id}/edit")
    assert response.status_code == 303
    assert response.location.endswith(f"/invoices/{invoice_id}")
    assert "Only sent invoices can be edited here." in text(client.get(response.location))
    token = csrf_from(client.get(f"/invoices/{invoice_id}"))
    posted = client.post(f"/invoices/{invoice_id}/edit", data={
        "csrf_token": token, **invoice_form(customer_id(app), [("Ändrat", "1", "1", "25")])})
    assert posted.status_code == 303
    assert snapshot(app, invoice_id) == before


def test_performers_get_403_and_change_nothing(app: Flask, as_user: Login) -> None:
    invoice_id = first(app, "acme", InvoiceStatus.SENT)
    before = snapshot(app, invoice_id)
    client = as_user("performer@acme.test")
    assert client.get(f"/invoices/{invoice_id}/edit").status_code == 403
    token = csrf_from(client.get("/payouts/"))
    response = client.post(f"/invoices/{invoice_id}/edit", data={
        "csrf_token": token, **invoice_form(customer_id(app), [("Kapat", "1", "1", "25")])})
    assert response.status_code == 403
    assert snapshot(app, invoice_id) == before


def test_coordinators_may_edit(app: Flask, as_user: Login) -> None:
    invoice_id = first(app, "acme", InvoiceStatus.SENT)
    assert as_user("coordinator@acme.test").get(f"/invoices/{invoice_id}/edit").status_code == 200


def test_another_companys_invoice_is_404_and_unchanged(app: Flask, as_user: Login) -> None:
    invoice_id = first(app, "acme", InvoiceStatus.SENT)
    before = snapshot(app, invoice_id)
    client = as_user("owner@globex.test")
    assert client.get(f"/invoices/{invoice_id}/edit").status_code == 404
    response = submit(client, "/invoices/new", f"/invoices/{invoice_id}/edit",
                      data=invoice_form(customer_id(app, company="globex"),
                                        [("Kapat", "1", "1", "25")]))
    assert response.status_code == 404
    assert snapshot(app, invoice_id) == before
    assert client.get("/invoices/999999/edit").status_code == 404


def test_saving_needs_csrf(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client)
    before = snapshot(app, invoice_id)
    response = client.post(f"/invoices/{invoice_id}/edit",
                           data=invoice_form(customer_id(app), [("Kapat", "1", "1", "25")]))
    assert response.status_code == 400
    assert snapshot(app, invoice_id) == before


# -- Swedish ----------------------------------------------------------------------------------
def test_the_edit_page_in_swedish_round_trips_swedish_numbers(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    invoice_id = sent_invoice(app, client, [("Kurslitteratur", "1,5", "1 389,50", "6")])
    submit(client, "/invoices/", "/language/sv")
    assert ">Redigera<" in text(client.get(f"/invoices/{invoice_id}"))
    body = text(client.get(f"/invoices/{invoice_id}/edit"))
    assert "Redigera faktura #" in body and ">Spara<" in body
    assert 'value="1,5"' in body and 'value="1389,50"' in body
    before = snapshot(app, invoice_id)
    as_shown = invoice_form(customer_id(app), [("Kurslitteratur", "1,5", "1389,50", "6")])
    response = submit(client, f"/invoices/{invoice_id}/edit", data=as_shown)
    assert response.status_code == 303
    assert snapshot(app, invoice_id) == before
    assert "Fakturan är sparad." in text(client.get(response.location))
    bad = invoice_form(customer_id(app), [("Kurslitteratur", "0", "1389,50", "6")])
    response = submit(client, f"/invoices/{invoice_id}/edit", data=bad)
    assert response.status_code == 422
    assert "Antalet måste vara större än 0." in text(response)
    with client.session_transaction() as session:
        session["lang"] = "sv"
    draft = create_invoice(app, client, ROWS)
    response = client.get(f"/invoices/{draft}/edit")
    assert "Endast skickade fakturor kan redigeras här." in text(client.get(response.location))
