"""Access tokens are refreshed *before* they expire (AOURLY_FORTNOX_REFRESH_MARGIN, 120 s),
through the plugin's own client on the stored connection, against the sandbox.

A token refreshed only after it expired means a request sent with a token that dies on the
way: Fortnox answers 401 and every worker races to refresh at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.connection.clients import client_for, oauth_client
from aourly_fortnox.fortnox.errors import AuthorizationExpired
from aourly_fortnox.models import utcnow
from aourly_fortnox.queries import get_connection
from aourly_fortnox.state import state

from .conftest import login
from .flow import connect, sandbox_host

pytestmark = pytest.mark.redis  # sandbox_host: the real Redis for locks and the rate limiter


@pytest.fixture
def app(sandbox: Any) -> Iterator[Flask]:
    sandbox.admin("POST", "/_admin/faults", json={})
    yield sandbox_host(sandbox)


def stored_pair(app: Flask) -> tuple[str, str]:
    with app.app_context():
        state(app).db.session.expire_all()
        conn = get_connection("acme")
        assert conn is not None
        cipher = state(app).cipher
        return cipher.decrypt(conn.access_token_enc or ""), cipher.decrypt(
            conn.refresh_token_enc or ""
        )


def expire_access_in(app: Flask, seconds: float) -> None:
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None
        conn.access_expires_at = utcnow() + timedelta(seconds=seconds)
        state(app).db.session.commit()


def call_fortnox(app: Flask) -> None:
    with app.app_context():
        assert client_for("acme").company_information()["DatabaseNumber"]


@pytest.fixture
def connected(app: Flask, client: FlaskClient) -> Flask:
    login(client)
    assert connect(client).status_code == 303
    return app


def test_the_default_margin_is_two_minutes(app: Flask) -> None:
    assert float(state(app).settings.refresh_margin) == 120.0


@pytest.mark.parametrize("seconds_left", [60, 119])
def test_a_token_expiring_within_the_margin_is_refreshed_before_it_is_used(
    connected: Flask, seconds_left: int
) -> None:
    app = connected
    before_access, before_refresh = stored_pair(app)
    expire_access_in(app, seconds_left)  # still valid now, but not for the whole request
    call_fortnox(app)
    after_access, after_refresh = stored_pair(app)
    assert after_access != before_access and after_refresh != before_refresh
    with app.app_context():
        new_expiry = get_connection("acme").access_expires_at  # type: ignore[union-attr]
        assert new_expiry is not None
        assert new_expiry.replace(tzinfo=None) > (utcnow() + timedelta(minutes=5)).replace(
            tzinfo=None
        )
        with pytest.raises(AuthorizationExpired):
            oauth_client().refresh(before_refresh)  # rotated: the old one is dead at Fortnox


def test_a_token_with_time_to_spare_is_used_as_it_is(connected: Flask) -> None:
    app = connected
    expire_access_in(app, 10 * 60)
    before = stored_pair(app)
    call_fortnox(app)
    assert stored_pair(app) == before  # no refresh: each one costs a rotation at Fortnox
