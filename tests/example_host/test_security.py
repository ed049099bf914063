"""The example host against the audit of issue 18: request size, login throttling, equal
work for unknown e-mails, logout that ends the session, cookie flags, security headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from example_host.extensions import db
from example_host.security import LoginThrottle, dummy_password_hash

from ..plugin.test_hardening import WatchedBody
from .conftest import csrf_from, login, text, unchanged_db

ELSEWHERE = {"REMOTE_ADDR": "198.51.100.7"}


# -- request size --------------------------------------------------------------------------------
def test_a_body_above_the_limit_is_a_413_page_and_nothing_is_read(
    app: Flask, client: FlaskClient
) -> None:
    token = csrf_from(client.get("/login"))
    with unchanged_db(app):
        response = client.post("/login", data={"csrf_token": token, "email": "owner@acme.test",
                                               "password": "demo", "pad": "x" * 2_000_000})
    assert response.status_code == 413
    page = text(response)
    assert "Request too large" in page and "Nothing was saved." in page
    assert 'data-testid="error-413"' in page  # the host's own error page, in its layout
    assert client.get("/invoices/").status_code == 302  # and nobody was logged in


def test_an_anonymous_post_to_the_plugin_is_sent_to_login_unread(
    app: Flask, client: FlaskClient
) -> None:
    body = WatchedBody(512 * 1024)
    with unchanged_db(app):
        response = client.post("/integrations/fortnox/sync", input_stream=body,
                               content_length=len(body.getvalue()),
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert body.reads == 0


# -- login throttling ----------------------------------------------------------------------------
def wrong(client: FlaskClient, email: str, times: int, **environ: str) -> None:
    for _ in range(times):
        token = csrf_from(client.get("/login", environ_base=environ))
        response = client.post("/login", data={"csrf_token": token, "email": email,
                                               "password": "wrong"}, environ_base=environ)
        assert response.status_code == 401


def post_login(client: FlaskClient, email: str, **environ: str) -> Any:
    token = csrf_from(client.get("/login", environ_base=environ))
    return client.post("/login", data={"csrf_token": token, "email": email, "password": "demo"},
                       environ_base=environ)


def test_after_five_wrong_passwords_even_the_right_one_waits(client: FlaskClient) -> None:
    wrong(client, "owner@acme.test", 5)
    response = post_login(client, "owner@acme.test")
    assert response.status_code == 429
    assert "Too many failed logins. Wait a few minutes and try again." in text(response)
    assert client.get("/invoices/").status_code == 302  # not logged in
    # The account is held from every address, and other accounts are not.
    assert post_login(client, "OWNER@acme.test", **ELSEWHERE).status_code == 429
    assert post_login(client, "coordinator@acme.test").status_code == 303


def test_one_address_guessing_many_accounts_is_held(client: FlaskClient) -> None:
    for number in range(20):
        wrong(client, f"guess{number}@acme.test", 1)
    assert post_login(client, "owner@acme.test").status_code == 429
    assert post_login(client, "owner@acme.test", **ELSEWHERE).status_code == 303


def test_the_throttle_forgets_failures_after_its_window_and_a_success_clears_the_account(
) -> None:
    now = [1000.0]
    throttle = LoginThrottle(per_account=3, per_address=5, window=60, clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("a@x.test", "10.0.0.1")
    assert throttle.blocked("A@x.test ", "10.0.0.2")
    now[0] += 59.9
    assert throttle.blocked("a@x.test", "10.0.0.2")
    now[0] += 0.2
    assert not throttle.blocked("a@x.test", "10.0.0.2")
    for _ in range(2):
        throttle.failed("b@x.test", "10.0.0.3")
    throttle.succeeded("b@x.test")
    throttle.failed("b@x.test", "10.0.0.3")
    assert not throttle.blocked("b@x.test", "10.0.0.4")  # 1 failure since the success
    assert not throttle.blocked("c@x.test", "10.0.0.3")  # 3 from this address, below 5
    throttle.failed("c@x.test", "10.0.0.3")
    throttle.failed("d@x.test", "10.0.0.3")
    assert throttle.blocked("e@x.test", "10.0.0.3")  # the address's 5th failure


def test_an_unknown_email_checks_a_password_hash_too(client: FlaskClient) -> None:
    from example_host.views import auth

    with mock.patch.object(auth, "check_password_hash",
                           wraps=auth.check_password_hash) as checked:
        response = login(client, "nobody@acme.test", "guess")
    assert response.status_code == 401
    checked.assert_called_once_with(dummy_password_hash(), "guess")


def test_the_dummy_hash_is_as_costly_as_a_real_one(app: Flask) -> None:
    from example_host.models import User

    with app.app_context():
        real = db.session.execute(sa.select(User.password_hash).limit(1)).scalar_one()
    # Same method and cost parameters (e.g. "scrypt:32768:8:1"), so the same work.
    assert dummy_password_hash().split("$")[0] == real.split("$")[0]


# -- logout ends the session ---------------------------------------------------------------------
def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_cookie_copied_before_logout_no_longer_works(app: Flask) -> None:
    browser = app.test_client()
    assert login(browser, "owner@acme.test").status_code == 303
    copied = cookie_of(browser)
    token = csrf_from(browser.get("/invoices/"))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/invoices/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Logging in again works, with a fresh session.
    assert login(browser, "owner@acme.test").status_code == 303
    assert browser.get("/invoices/").status_code == 200


def test_an_older_demo_database_is_upgraded_on_start(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE users DROP COLUMN session_version"))
        db.engine.dispose()
    upgraded = make_app()
    with upgraded.app_context():
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
    assert "session_version" in columns
    client = upgraded.test_client()
    assert login(client, "owner@acme.test").status_code == 303
    assert client.get("/invoices/").status_code == 200


# -- cookie flags and headers --------------------------------------------------------------------
def session_cookie_header(response: Any) -> str:
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))


def test_the_session_cookie_is_samesite_lax_and_secure_over_https(app: Flask) -> None:
    plain = app.test_client()
    header = session_cookie_header(login(plain, "owner@acme.test"))
    assert "SameSite=Lax" in header and "HttpOnly" in header and "Secure" not in header
    secure = app.test_client()
    token = csrf_from(secure.get("/login", base_url="https://localhost"))
    response = secure.post("/login", base_url="https://localhost",
                           headers={"Referer": "https://localhost/login"},
                           data={"csrf_token": token, "email": "owner@acme.test",
                                 "password": "demo"})
    assert response.status_code == 303
    header = session_cookie_header(response)
    assert "SameSite=Lax" in header and "Secure" in header


def test_host_and_plugin_pages_carry_the_security_headers(client: FlaskClient) -> None:
    answers = [client.get("/login")]
    login(client, "owner@acme.test")
    answers += [client.get("/invoices/"), client.get("/integrations/"),
                client.get("/integrations/fortnox/disconnect"), client.get("/nowhere")]
    for response in answers:
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_host_header_outside_trusted_hosts_is_a_400_not_a_500(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(TRUSTED_HOSTS=["127.0.0.1", "localhost"])
    client = app.test_client()
    for path in ("/login", "/integrations/", "/nowhere"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400, path
    assert client.get("/login").status_code == 200
