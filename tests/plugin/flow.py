"""Helpers for tests that walk the OAuth flow against the sandbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.migrate import upgrade_database

from .. import services
from ..consent import _FormParser, press
from .host import create_host
from .test_access import csrf

#: The real Redis (``AOURLY_TEST_REDIS_URL``): the shared rate limiter keeps us under the
#: sandbox's 25/5 and the token refresh lock is the production one. Jobs still run inline
#: (QUEUE_IS_ASYNC is off). Tests that use it carry the ``redis`` marker.
REDIS_URL = services.REDIS_URL


def sandbox_host(sandbox: Any, **config: Any) -> Flask:
    app, _, _ = create_host(
        AOURLY_FORTNOX_AUTH_URL=f"{sandbox.url}/oauth-v1",
        AOURLY_FORTNOX_API_URL=sandbox.url,
        AOURLY_FORTNOX_CLIENT_ID=sandbox.client_id,
        AOURLY_FORTNOX_CLIENT_SECRET=sandbox.client_secret,
        AOURLY_FORTNOX_REDIS_URL=REDIS_URL,
        AOURLY_FORTNOX_RATE_LIMIT="240/5",
        **config,
    )
    with app.app_context():
        upgrade_database(app)
    return app


def companies(sandbox: Any) -> list[dict[str, Any]]:
    return list(sandbox.admin("GET", "/_admin/companies"))


def start(client: FlaskClient) -> str:
    response = client.post("/integrations/fortnox/connect", data={"csrf_token": csrf(client)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def consent(auth_url: str, button: str = "Grant Access", database_number: int | None = None,
            ) -> str:
    """The owner at Fortnox: returns the callback path + query Fortnox redirects to."""
    browser = requests.Session()
    page = browser.get(auth_url, timeout=10)
    assert page.status_code == 200, page.text
    choose = None
    if database_number is not None:
        parser = _FormParser()
        parser.feed(page.text)
        radio = next(name for form in parser.forms for name in form.radios)
        choose = {radio: str(database_number)}
    answer = press(browser, page.url, page.text, button, choose)
    browser.close()
    assert answer.status_code in (302, 303), answer.text
    location = urlsplit(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def connect(client: FlaskClient, database_number: int | None = None) -> Any:
    callback = consent(start(client), database_number=database_number)
    response = client.get(callback)
    if response.status_code >= 400:
        print(response.get_data(as_text=True))  # shown when a test fails
    return response


