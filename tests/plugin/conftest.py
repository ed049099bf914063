from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.sandbox.testing import running_sandbox

from ..services import POSTGRES_URL
from .host import create_host


@pytest.fixture
def app() -> Iterator[Flask]:
    app, _, _ = create_host()
    with app.app_context():
        upgrade_database(app)
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, user: str = "owner", company: str = "acme") -> None:
    assert client.get(f"/test-login/{user}/{company}").status_code == 200


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    # The limit scaled up 10x (docs/architecture.md: tests run time-scaled); our limiter keeps 96 %.
    with running_sandbox(code_ttl=600, rate_limit="250/5") as sb:
        yield sb


PG_ADMIN_URL = POSTGRES_URL


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"aourly_fortnox_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
