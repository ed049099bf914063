"""Companies, roles and the tenant menu: every page scoped to the current company."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from example_host.extensions import db
from example_host.models import Customer, Invoice, Payout

from .conftest import submit, text, unchanged_db

Login = Callable[[str], FlaskClient]


def first_id(app: Flask, model: type, company_id: str) -> int:
    with app.app_context():
        return db.session.scalars(
            select(model.id).where(model.company_id == company_id).order_by(model.id)
        ).first()


def test_owner_sees_integrations_in_the_tenant_menu(as_user: Login) -> None:
    client = as_user("owner@acme.test")
    body = text(client.get("/invoices/"))
    assert "<details" in body and 'data-testid="tenant-menu"' in body
    assert 'data-testid="integrations-link"' in body
    assert 'href="/integrations/"' in body
    assert "Globex Event AB" in body  # the other company is in the menu


@pytest.mark.parametrize("email", ["coordinator@acme.test", "performer@acme.test",
                                   "coordinator@globex.test", "performer@globex.test"])
def test_coordinators_and_performers_never_see_integrations(as_user: Login, email: str) -> None:
    client = as_user(email)
    body = text(client.get("/payouts/"))
    assert 'data-testid="tenant-menu"' in body
    assert "Integrations" not in body
    assert 'href="/integrations/"' not in body


@pytest.mark.parametrize("email", ["coordinator@acme.test", "performer@acme.test"])
def test_coordinators_and_performers_get_403_on_the_integrations_page(
    app: Flask, as_user: Login, email: str
) -> None:
    client = as_user(email)
    with unchanged_db(app):
        assert client.get("/integrations/").status_code == 403
        assert submit(client, "/payouts/", "/integrations/fortnox/connect").status_code == 403


def test_owner_opens_the_integrations_page_inside_the_host_layout(as_user: Login) -> None:
    client = as_user("owner@acme.test")
    page = client.get("/integrations/")
    assert page.status_code == 200
    body = text(page)
    assert "Fortnox" in body
    assert 'class="sidebar"' in body  # the plugin's page sits in our layout
    assert "<title>Integrations · Aourly</title>" in body


def test_switching_company_changes_role_and_menu(as_user: Login) -> None:
    client = as_user("owner@acme.test")
    response = submit(client, "/invoices/", "/companies/globex/switch")
    assert response.status_code == 303
    body = text(client.get("/invoices/"))
    assert "Globex Event AB" in body.split('class="tenant-name"')[1][:40]
    assert "integrations-link" not in body  # a coordinator in Globex
    assert client.get("/integrations/").status_code == 403
    submit(client, "/invoices/", "/companies/acme/switch")
    assert client.get("/integrations/").status_code == 200


def test_switching_to_a_company_one_does_not_belong_to_is_404(
    app: Flask, as_user: Login
) -> None:
    client = as_user("coordinator@acme.test")
    with unchanged_db(app):
        assert submit(client, "/invoices/", "/companies/globex/switch").status_code == 404
        assert submit(client, "/invoices/", "/companies/no-such-company/switch").status_code == 404
    assert "Acme Konsult AB" in text(client.get("/invoices/"))


def test_switch_needs_csrf(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    with unchanged_db(app):
        assert client.post("/companies/globex/switch").status_code == 400
        assert client.post("/companies/globex/switch",
                           data={"csrf_token": "forged"}).status_code == 400
    body = text(client.get("/invoices/"))
    assert "Acme Konsult AB" in body.split('class="tenant-name"')[1][:40]  # still in Acme


def test_a_stale_company_in_the_session_falls_back_to_a_real_membership(
    as_user: Login,
) -> None:
    client = as_user("coordinator@acme.test")
    with client.session_transaction() as session:
        session["company_id"] = "globex"  # e.g. a membership removed meanwhile
    body = text(client.get("/invoices/"))
    assert "Acme Konsult AB" in body
    assert "Ekström Konferens AB" not in body  # no Globex data


def test_another_companys_customer_and_invoice_are_404(app: Flask, as_user: Login) -> None:
    customer_id = first_id(app, Customer, "acme")
    invoice_id = first_id(app, Invoice, "acme")
    client = as_user("owner@globex.test")
    with unchanged_db(app):  # no name changed, no invoice sent, nothing handed to Fortnox
        assert client.get(f"/customers/{customer_id}/edit").status_code == 404
        assert submit(client, "/customers/", f"/customers/{customer_id}/edit",
                      data={"name": "Hijacked AB"}).status_code == 404
        assert client.get(f"/invoices/{invoice_id}").status_code == 404
        assert submit(client, "/invoices/", f"/invoices/{invoice_id}/send").status_code == 404
    with app.app_context():
        assert db.session.get(Customer, customer_id).name != "Hijacked AB"


def test_lists_show_only_the_current_companys_objects(as_user: Login) -> None:
    client = as_user("owner@globex.test")
    assert "Ekström Konferens AB" in text(client.get("/customers/"))
    assert "Bergström Bygg AB" not in text(client.get("/customers/"))
    assert "Bergström Bygg AB" not in text(client.get("/invoices/"))
    assert "Fotografering" in text(client.get("/payouts/"))  # Globex has its own payouts


def test_another_companys_payout_is_invisible_and_cannot_be_targeted(
    app: Flask, as_user: Login
) -> None:
    client = as_user("owner@globex.test")
    with app.app_context():
        acme_payouts = db.session.scalars(
            select(Payout).where(Payout.company_id == "acme")
        ).all()
        acme_performer = acme_payouts[0].performer_id
    body = text(client.get("/payouts/"))
    assert "Pia Persson" not in body  # Acme's performer
    with unchanged_db(app):
        response = submit(client, "/payouts/new", data={
            "performer_id": str(acme_performer), "amount": "100", "payout_date": "2025-01-10",
            "description": "Not ours",
        })
    assert response.status_code == 400
    assert "Choose a performer of this company." in text(response)


@pytest.mark.parametrize("path", ["/customers/", "/customers/new", "/invoices/", "/invoices/new",
                                  "/payouts/new"])
def test_performers_cannot_manage_the_company(app: Flask, as_user: Login, path: str) -> None:
    client = as_user("performer@acme.test")
    with unchanged_db(app):
        assert client.get(path).status_code == 403
        assert client.post(path, data={"name": "Performer AB"}).status_code in (400, 403, 405)


def test_coordinators_manage_customers_invoices_and_payouts(as_user: Login) -> None:
    client = as_user("coordinator@acme.test")
    for path in ("/customers/", "/customers/new", "/invoices/", "/invoices/new", "/payouts/new"):
        assert client.get(path).status_code == 200, path
