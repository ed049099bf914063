"""Fixtures: an example host on a temp SQLite file, logins, and form posts with CSRF.

CSRF stays ON (as in production): helpers read the token from the page a person would
have in front of them, then post the form.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import StrictUndefined
from sqlalchemy import event
from werkzeug.test import TestResponse

from example_host import create_app
from example_host.extensions import db

from ..dbstate import unchanged

TOKEN_KEY = Fernet.generate_key().decode()

#: Environment variables create_app reads: tests must not depend on the shell they run in.
HOST_ENV = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "AOURLY_SANDBOX_PORT",
            "EXAMPLE_HOST_INSTANCE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name in HOST_ENV or name.startswith("AOURLY_FORTNOX_"):
            monkeypatch.delenv(name)


def base_config(tmp_path: Path) -> dict[str, Any]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'host.db'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "AOURLY_FORTNOX_TOKEN_KEYS": TOKEN_KEY,
    }


def close_app(app: Flask) -> None:
    """Close what the app opened (pytest runs with warnings as errors)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    redis = app.extensions.get("example_host", {}).get("embedded_redis")
    if redis is not None:
        redis.close()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """``make_app(**config)``: a host on this test's database (same file on every call)."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = create_app({**base_config(tmp_path), **overrides})
        app.jinja_env.undefined = StrictUndefined
        apps.append(app)
        return app

    yield factory
    for app in apps:
        close_app(app)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(response: TestResponse) -> str:
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "the page has no form with a csrf_token"
    return match.group(1)


def submit(client: FlaskClient, page: str, action: str | None = None,
           data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
    """Open ``page``, take its CSRF token, post ``data`` to ``action`` (default: the page)."""
    form_page = client.get(page)
    assert form_page.status_code == 200, (page, form_page.status_code)
    payload = {"csrf_token": csrf_from(form_page), **(data or {})}
    return client.post(action or page, data=payload, **kwargs)


def login(client: FlaskClient, email: str, password: str = "demo") -> TestResponse:
    return submit(client, "/login", data={"email": email, "password": password})


@pytest.fixture
def as_user(client: FlaskClient) -> Callable[[str], FlaskClient]:
    def _login(email: str) -> FlaskClient:
        response = login(client, email)
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return _login


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


#: What the database connection does, in order: a commit, or a savepoint's life.
TRANSACTION_EVENTS = ("commit", "rollback", "savepoint", "release_savepoint", "rollback_savepoint")
#: The plugin's row went in a savepoint, then one commit for both.
HANDED = ["savepoint", "release_savepoint", "commit"]
#: The plugin's call raised: only its savepoint was rolled back, then one commit.
TAKEN_BACK = ["savepoint", "rollback_savepoint", "commit"]
ONE_COMMIT = ["commit"]


@pytest.fixture
def transactions(app: Flask) -> Iterator[list[str]]:
    """The transaction events of this app's engine in this thread (the test client runs the
    request here; an embedded worker thread, if any, is not counted). A "commit" is a real
    COMMIT; releasing a savepoint is not one."""
    seen: list[str] = []
    here = threading.get_ident()
    listeners: list[tuple[str, Callable[..., None]]] = []
    with app.app_context():
        engine = db.engine
    for name in TRANSACTION_EVENTS:
        def record(*_args: Any, _name: str = name) -> None:
            if threading.get_ident() == here:
                seen.append(_name)

        event.listen(engine, name, record)
        listeners.append((name, record))
    yield seen
    for name, record in listeners:
        event.remove(engine, name, record)


def post(client: FlaskClient, page: str, action: str, transactions: list[str],
         data: dict[str, Any] | None = None) -> TestResponse:
    """Post a form taken from ``page``; ``transactions`` then holds only the post's."""
    token = csrf_from(client.get(page))
    transactions.clear()
    return client.post(action, data={"csrf_token": token, **(data or {})})
@contextmanager
def unchanged_db(app: Flask) -> Iterator[None]:
    """Assert that the block (a refused request) changed no row of the host's database."""
    with app.app_context():
        engine = db.engine
    with unchanged(engine):
        yield
