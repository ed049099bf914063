"""Owner-only, tenant-checked, htmx-aware: every plugin route."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .conftest import login

GET_ROUTES = [
    "/integrations/",
    "/integrations/fortnox/status",
    "/integrations/fortnox/disconnect",
    "/integrations/fortnox/switch-company",
    "/integrations/fortnox/mapping",
    "/integrations/fortnox/log",
    "/integrations/fortnox/preview",
    "/integrations/fortnox/vouchers",
    "/integrations/fortnox/health",
    "/integrations/fortnox/callback?code=x&state=y",
]
POST_ROUTES = [
    "/integrations/fortnox/connect",
    "/integrations/fortnox/sync",
    "/integrations/fortnox/disconnect",
    "/integrations/fortnox/switch-company",
    "/integrations/fortnox/held/send",
    "/integrations/fortnox/mapping",
    "/integrations/fortnox/accounts/refresh",
    "/integrations/fortnox/log/1/retry",
    "/integrations/fortnox/log/retry",
]


def csrf(client: FlaskClient) -> str:
    from flask_wtf.csrf import generate_csrf

    with client.application.test_request_context():
        # Reuse the client's session so the token matches it.
        with client.session_transaction() as sess:
            from flask import session

            session.update(sess)
            token = generate_csrf()
            sess.update(session)
    return token


@pytest.mark.parametrize("path", GET_ROUTES)
def test_anonymous_goes_to_the_host_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", GET_ROUTES)
def test_htmx_never_gets_a_302_when_logged_out(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert "/login" in response.headers["HX-Redirect"]


@pytest.mark.parametrize("user", ["coordinator", "performer"])
@pytest.mark.parametrize("path", GET_ROUTES)
def test_non_owners_get_403(client: FlaskClient, user: str, path: str) -> None:
    login(client, user)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("user", ["coordinator", "performer"])
@pytest.mark.parametrize("path", POST_ROUTES)
def test_non_owners_cannot_post(client: FlaskClient, user: str, path: str) -> None:
    login(client, user)
    response = client.post(path, data={"csrf_token": csrf(client)})
    assert response.status_code == 403


@pytest.mark.parametrize("path", GET_ROUTES)
def test_a_company_the_user_does_not_belong_to_is_404(client: FlaskClient, path: str) -> None:
    login(client, "coordinator", "globex")  # not a member of globex
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_post_needs_a_csrf_token(client: FlaskClient, path: str) -> None:
    login(client)
    response = client.post(path)
    assert response.status_code == 400
    assert b"expired or was not sent from this site" in response.data


def test_owner_sees_the_fortnox_card(client: FlaskClient) -> None:
    login(client)
    response = client.get("/integrations/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Fortnox" in page and "Not connected" in page and "Connect Fortnox" in page
    assert "htmx.min.js" in page
    assert "HX-Request" in response.headers["Vary"]


def test_the_page_assets_are_served(client: FlaskClient) -> None:
    import re

    login(client)
    page = client.get("/integrations/").get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="(/integrations/fortnox-static/[^"]+)"', page)
    assert len(assets) == 2
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_owner_of_one_company_is_only_coordinator_in_another(client: FlaskClient) -> None:
    login(client, "owner", "globex")
    assert client.get("/integrations/").status_code == 403


def test_status_partial_is_the_card_alone(client: FlaskClient) -> None:
    login(client)
    response = client.get("/integrations/fortnox/status", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith("<section") and "<html" not in page


def test_another_companys_record_is_404(app: Flask, client: FlaskClient) -> None:
    from aourly_fortnox.models import RecordState, SyncRecord

    with app.app_context():
        from aourly_fortnox.state import state

        db = state(app).db
        record = SyncRecord(company_id="globex", object_type="invoice", object_id="1",
                            state=RecordState.FAILED)
        db.session.add(record)
        db.session.commit()
        record_id = record.id
    login(client)
    response = client.post(f"/integrations/fortnox/log/{record_id}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 404


def test_health_has_no_secrets(client: FlaskClient) -> None:
    login(client)
    data = client.get("/integrations/fortnox/health").get_json()
    assert data["status"] == "not_connected"
    assert "test-secret-value" not in str(data)
