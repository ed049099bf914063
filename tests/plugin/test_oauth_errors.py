"""What the owner reads when Fortnox sends them back with an error instead of a code, and
when the server is not set up for Fortnox at all. Nothing is stored in any of these cases."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.state import state

from ..dbstate import unchanged
from .conftest import login
from .flow import start
from .host import create_host


def callback_with(client: FlaskClient, **params: str) -> tuple[int, str]:
    auth_url = start(client)  # a real state in the session, as after Connect Fortnox
    query = parse_qs(urlsplit(auth_url).query)
    params = {"state": query["state"][0], **params}
    response = client.get(f"/integrations/fortnox/callback?{urlencode(params)}")
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize(("params", "message"), [
    ({"error": "access_denied"},
     "You chose not to give Aourly access in Fortnox, so nothing was connected."),
    ({"error": "access_denied", "error_description": "The user denied Access"},
     "You chose not to give Aourly access in Fortnox, so nothing was connected."),
    ({"error": "access_denied", "error_description": "Company is locked"},
     "Fortnox refused the connection: Company is locked"),
    ({"error": "invalid_scope", "error_description": "warpdrive"},
     "Fortnox refused the permissions Aourly asks for (invalid scope). Check that your Fortnox "
     "plan includes the modules needed, or ask your administrator to check "
     "AOURLY_FORTNOX_SCOPES."),
    ({"error": "server_error", "error_description": "Try again later"},
     "Fortnox could not complete the connection (server_error): Try again later."),
    ({"error": "temporarily_unavailable"},
     "Fortnox could not complete the connection (temporarily_unavailable)."),
    ({}, "Fortnox sent no authorization code. Nothing was changed."),
])
def test_an_error_from_fortnox_is_explained_and_stores_nothing(
    app: Flask, client: FlaskClient, params: dict[str, str], message: str
) -> None:
    login(client)
    with app.app_context():
        engine = state(app).db.engine
    with unchanged(engine):
        status, page = callback_with(client, **params)
    assert status == 400
    assert f'role="alert">{message}</div>' in page  # the whole message, word for word


@pytest.mark.parametrize(("client_id", "secret"), [(None, None), ("test-client", None),
                                                   (None, "test-secret-value")])
def test_connect_without_a_fortnox_client_says_who_must_act(
    client_id: str | None, secret: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    from aourly_fortnox.migrate import upgrade_database

    app, _, _ = create_host(AOURLY_FORTNOX_CLIENT_ID=client_id,
                            AOURLY_FORTNOX_CLIENT_SECRET=secret)
    with app.app_context():
        upgrade_database(app)
        engine = state(app).db.engine
    client = app.test_client()
    login(client)
    from .test_access import csrf

    with unchanged(engine), caplog.at_level(logging.WARNING, logger="aourly_fortnox"):
        response = client.post("/integrations/fortnox/connect", data={"csrf_token": csrf(client)})
    assert response.status_code == 303 and response.headers["Location"] == "/integrations/"
    # The administrator reads, in the log, which settings to add and where it is explained.
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "Fortnox cannot be connected: AOURLY_FORTNOX_CLIENT_ID and AOURLY_FORTNOX_CLIENT_SECRET "
        "are missing (docs/deploy.md)."]
    page = client.get("/integrations/").get_data(as_text=True)
    # The owner reads what to do, not the administrator's setting names (those are logged).
    assert ("Fortnox cannot be connected yet: your administrator has to set it up for "
            "Aourly first.") in page
    assert "AOURLY_FORTNOX_CLIENT_ID" not in page
    with client.session_transaction() as sess:
        assert "aourly_fortnox_oauth" not in sess  # no trip to Fortnox was started


@pytest.mark.parametrize("forged", ["", "None"])
def test_without_a_flow_in_the_session_no_state_value_is_accepted(
    app: Flask, client: FlaskClient, forged: str
) -> None:
    login(client)
    with app.app_context():
        engine = state(app).db.engine
    with unchanged(engine):
        response = client.get(f"/integrations/fortnox/callback?code=abc&state={forged}")
    assert response.status_code == 400
    assert ('role="alert">This Fortnox sign-in could not be verified (it was not started here, '
            "or it was already used). Nothing was changed. Start again with Connect Fortnox."
            "</div>") in response.get_data(as_text=True)


def test_the_configured_redirect_uri_is_the_one_sent_to_fortnox() -> None:
    from aourly_fortnox.migrate import upgrade_database

    registered = "https://app.example.se/integrations/fortnox/callback"
    app, _, _ = create_host(AOURLY_FORTNOX_REDIRECT_URI=registered)
    with app.app_context():
        upgrade_database(app)
    client = app.test_client()
    login(client)
    query = parse_qs(urlsplit(start(client)).query)
    assert query["redirect_uri"] == [registered]
    app, _, _ = create_host()  # not configured: this callback's own external URL
    with app.app_context():
        upgrade_database(app)
    client = app.test_client()
    login(client)
    query = parse_qs(urlsplit(start(client)).query)
    assert query["redirect_uri"] == ["http://localhost/integrations/fortnox/callback"]


@pytest.mark.parametrize("params", [{"code": "abc"}, {"error": "access_denied"}])
def test_a_state_other_than_the_one_this_session_was_given_is_refused(
    app: Flask, client: FlaskClient, params: dict[str, str]
) -> None:
    """An owner mid-flow lands on a callback carrying someone else's (or a made-up) state:
    it is refused as unverified, whatever else the link says, and nothing is stored."""
    login(client)
    with app.app_context():
        engine = state(app).db.engine
    with unchanged(engine):
        status, page = callback_with(client, state="not-the-state-we-issued", **params)
    assert status == 400
    assert ('role="alert">This Fortnox sign-in could not be verified (it was not started here, '
            "or it was already used). Nothing was changed. Start again with Connect Fortnox."
            "</div>") in page
