"""Logging in and out, as a person at the login form would."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from .conftest import login, submit, text, unchanged_db


def test_login_page_renders_the_form(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    body = text(page)
    for field in ('name="email"', 'name="password"', 'name="csrf_token"'):
        assert field in body
    assert "owner@acme.test" in body  # the demo logins are listed for newcomers


def test_good_login_lands_on_the_invoices_of_the_first_company(client: FlaskClient) -> None:
    response = login(client, "owner@acme.test")
    assert response.status_code == 303
    assert response.location.endswith("/invoices/")
    page = client.get("/invoices/")
    assert page.status_code == 200
    assert "Acme Konsult AB" in text(page)


def test_email_is_case_insensitive(client: FlaskClient) -> None:
    assert login(client, "Owner@ACME.test").status_code == 303


def test_bad_password_shows_the_form_again_with_a_message(
    app: Flask, client: FlaskClient
) -> None:
    with unchanged_db(app):
        response = login(client, "owner@acme.test", password="wrong")
    assert response.status_code == 401
    body = text(response)
    assert "Wrong email or password." in body
    assert 'value="owner@acme.test"' in body  # the email is kept
    assert client.get("/invoices/").status_code == 302  # still anonymous


def test_unknown_email_and_empty_password_are_refused_the_same_way(
    app: Flask, client: FlaskClient
) -> None:
    for email, password in (("nobody@acme.test", "demo"), ("owner@acme.test", "")):
        with unchanged_db(app):
            response = login(client, email, password)
        assert response.status_code == 401
        assert "Wrong email or password." in text(response)
        assert client.get("/invoices/").status_code == 302  # still anonymous


def test_login_without_csrf_token_is_400(app: Flask, client: FlaskClient) -> None:
    with unchanged_db(app):
        response = client.post("/login", data={"email": "owner@acme.test", "password": "demo"})
    assert response.status_code == 400
    assert "expired" in text(response)
    assert client.get("/invoices/").status_code == 302


def test_pages_need_login(client: FlaskClient) -> None:
    for path in ("/customers/", "/invoices/", "/invoices/new", "/payouts/", "/integrations/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.location


def test_logout(client: FlaskClient) -> None:
    login(client, "owner@acme.test")
    response = submit(client, "/invoices/", "/logout")
    assert response.status_code == 303
    assert client.get("/invoices/").status_code == 302


def test_logout_needs_post_and_csrf(app: Flask, client: FlaskClient) -> None:
    login(client, "owner@acme.test")
    with unchanged_db(app):
        assert client.get("/logout").status_code == 405
        assert client.post("/logout").status_code == 400
    assert client.get("/invoices/").status_code == 200  # still logged in


def test_next_goes_back_to_the_page_asked_for_but_never_off_site(client: FlaskClient) -> None:
    response = submit(client, "/login?next=/customers/", "/login?next=/customers/",
                      data={"email": "owner@acme.test", "password": "demo"})
    assert response.location.endswith("/customers/")
    submit(client, "/customers/", "/logout")
    response = submit(client, "/login", "/login?next=https://evil.example/",
                      data={"email": "owner@acme.test", "password": "demo"})
    assert "evil" not in response.location


def test_performer_starts_on_payouts(client: FlaskClient) -> None:
    response = login(client, "performer@acme.test")
    assert response.location.endswith("/payouts/")
