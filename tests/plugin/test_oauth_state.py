"""The OAuth ``state``: bound to the company it was issued for, and short-lived.

A callback carrying a state made for another company, or one older than 15 minutes, is
refused and stores nothing, against the real sandbox (its consent page, its codes).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.models import Connection, OAuthState
from aourly_fortnox.state import state
from aourly_fortnox.web.oauth_flow import SESSION_KEY, STATE_MAX_AGE

from ..dbstate import SPENT_OAUTH_STATE, database_dump
from .conftest import login
from .flow import consent, sandbox_host, start

pytestmark = pytest.mark.redis  # sandbox_host: the real Redis for locks and the rate limiter


@pytest.fixture
def app(sandbox: Any) -> Iterator[Flask]:
    sandbox.admin("POST", "/_admin/faults", json={})
    yield sandbox_host(sandbox)


def connections(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        rows = state(app).db.session.query(Connection).all()
        return [(c.company_id, str(c.status)) for c in rows]


def age_the_state(client: FlaskClient, seconds: float) -> None:
    """Time passes between Connect and the callback (the state's creation moves back)."""
    with client.session_transaction() as sess:
        flow = dict(sess[SESSION_KEY])
        flow["created"] = float(flow["created"]) - seconds
        sess[SESSION_KEY] = flow


def test_a_state_issued_for_another_company_is_refused_and_stores_nothing(
    app: Flask, client: FlaskClient
) -> None:
    # One person owns both companies: started Connect in Acme, then switched to Globex
    # before Fortnox sent them back. Globex must not get Acme's authorization.
    login(client, "both-owner", "acme")
    callback = consent(start(client))
    login(client, "both-owner", "globex")  # same session, same user, another company
    with app.app_context():
        before = database_dump(state(app).db.engine, SPENT_OAUTH_STATE)
    response = client.get(callback)
    assert response.status_code == 403
    assert ('role="alert">This Fortnox sign-in was started by another user or for another '
            "company. Nothing was changed. Start again with Connect Fortnox.</div>"
            ) in response.get_data(as_text=True)
    assert connections(app) == []
    with app.app_context():
        # Nothing stored; only the state itself is used up (a refused callback spends it).
        assert database_dump(state(app).db.engine, SPENT_OAUTH_STATE) == before
        assert state(app).db.session.query(OAuthState).count() == 0
    card = client.get("/integrations/").get_data(as_text=True)
    assert "Not connected" in card and "Fortnox is connected" not in card


def test_the_same_state_in_its_own_company_connects(app: Flask, client: FlaskClient) -> None:
    """The control for the test above: the owner of both companies can connect Acme."""
    login(client, "both-owner", "acme")
    callback = consent(start(client))
    assert client.get(callback).status_code == 303
    assert connections(app) == [("acme", "connected")]


def test_a_state_older_than_15_minutes_is_refused_and_stores_nothing(
    app: Flask, client: FlaskClient
) -> None:
    assert STATE_MAX_AGE == 15 * 60
    login(client)
    callback = consent(start(client))
    age_the_state(client, 15 * 60 + 5)
    response = client.get(callback)
    assert response.status_code == 400
    assert ('role="alert">The Fortnox sign-in took too long and has expired. Nothing was '
            "changed. Start again with Connect Fortnox.</div>") in response.get_data(as_text=True)
    assert connections(app) == []
    # Refused means used up: the same callback again is not accepted either.
    assert client.get(callback).status_code == 400
    assert connections(app) == []


def test_a_state_younger_than_15_minutes_still_connects(
    app: Flask, client: FlaskClient
) -> None:
    login(client)
    callback = consent(start(client))
    age_the_state(client, 14 * 60)  # a slow owner, but inside the window
    assert client.get(callback).status_code == 303
    assert connections(app) == [("acme", "connected")]


def test_a_state_exactly_15_minutes_old_still_connects(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window is 15 minutes, inclusive: a state exactly that old is still good (the clock
    is fixed so the age is exact; one later second is refused, as tested above)."""
    from aourly_fortnox.web import oauth_flow

    now = [time.time()]
    monkeypatch.setattr(oauth_flow, "time", SimpleNamespace(time=lambda: now[0]))
    login(client)
    callback = consent(start(client))
    now[0] += STATE_MAX_AGE
    assert client.get(callback).status_code == 303
    assert connections(app) == [("acme", "connected")]
