"""A host connected to a real sandbox over loopback, jobs inline, the shared Redis limiter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.host import CustomerData, InvoiceData, InvoiceRowData
from aourly_fortnox.sandbox.testing import running_sandbox
from aourly_fortnox.state import state

from ..plugin.conftest import login, postgres_url  # noqa: F401 (a fixture, used by name)
from ..plugin.flow import connect, sandbox_host
from .async_support import Harness, PrivateRedis

DB = 1001  # the sandbox's "Demo Bygg AB", preselected on the consent page


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(code_ttl=600, rate_limit="250/5") as sb:
        yield sb


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test alone: fault tests stop and flush it, never the shared one."""
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def harness(sandbox: Any, postgres_url: str, private_redis: PrivateRedis,  # noqa: F811
            tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    """``harness(**settings)``: a host on PostgreSQL and the private Redis; its workers are
    stopped and its connections closed at the end."""
    made: list[Harness] = []

    def make(**config: Any) -> Harness:
        made.append(Harness(sandbox, postgres_url, private_redis, tmp_path, **config))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def app(sandbox: Any) -> Flask:
    return sandbox_host(sandbox)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    return client


def customer(ident: str = "c1", **fields: Any) -> CustomerData:
    values: dict[str, Any] = {"name": f"Kund {ident}", "organisation_number": None}
    values.update(fields)
    return CustomerData(id=ident, **values)


def invoice(ident: str = "i1", customer_id: str = "c1", rows: tuple[InvoiceRowData, ...] = (),
            **fields: Any) -> InvoiceData:
    today = date.today()
    return InvoiceData(
        id=ident, number=f"A-{ident}", customer_id=customer_id, invoice_date=today,
        due_date=today + timedelta(days=30),
        rows=rows or (InvoiceRowData("Konsulttimmar", Decimal("2"), Decimal("800.00"), 25),),
        **fields,
    )


def put(app: Flask, *objects: CustomerData | InvoiceData) -> None:
    """The host has these (its adapter returns them)."""
    adapter = state(app).adapter
    for obj in objects:
        if isinstance(obj, CustomerData):
            adapter.customers[("acme", obj.id)] = obj  # type: ignore[attr-defined]
        else:
            adapter.invoices[("acme", obj.id)] = obj  # type: ignore[attr-defined]


def send(app: Flask, invoice_id: str = "i1") -> None:
    """The host sends an invoice: the outbox row commits with its change, the push follows."""
    with app.app_context():
        state(app).ext.sync_invoice("acme", invoice_id)
        state(app).db.session.commit()


def fortnox(sandbox: Any, resource: str) -> list[dict[str, Any]]:
    """Everything the sandbox holds of one kind for the connected company."""
    return list(sandbox.admin("GET", f"/_admin/companies/{DB}/{resource}"))


def invoices_numbered(sandbox: Any, number: str) -> list[dict[str, Any]]:
    """The sandbox's invoices that carry the host's invoice number (ExternalInvoiceReference2):
    one if it was sent once, none if never, two if it was duplicated."""
    return [i for i in fortnox(sandbox, "invoices") if i["ExternalInvoiceReference2"] == number]


def states(app: Flask, object_type: str, *ids: str) -> dict[str, str]:
    with app.app_context():
        return state(app).ext.sync_states("acme", object_type, list(ids))


def next_try_now(app: Flask, object_id: str) -> None:
    """Time passes until the row's next try is due, and the push job comes for it (as the
    tick's sweep would start it)."""
    from aourly_fortnox.models import SyncRecord, utcnow
    from aourly_fortnox.sync.push import run_push

    with app.app_context():
        session = state(app).db.session
        session.query(SyncRecord).filter_by(object_id=object_id).update(
            {"next_attempt_at": utcnow() - timedelta(seconds=1)})
        session.commit()
        run_push("acme")
