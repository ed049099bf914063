"""The host the asynchronous engine tests share with their worker processes.

A worker is another process, so it cannot see objects a test puts in an in-memory adapter.
This adapter derives every customer and invoice from its id instead, so the test process and
every `flask fortnox worker` agree without sharing memory:

- customer ``c<k>``: "Kund <k>", no organisation number;
- invoice ``<customer>.<n>`` (``c1.7``): one 25 % row for that customer; an id ending in
  ``.food`` has a 12 % row instead (its sales account is ``sales_12``).

``worker_app()`` builds the app from ``AOURLY_TEST_HOST`` (JSON: database, sandbox, Redis,
settings, and how many invoices each company's backfill finds), for
``flask --app 'tests.engine.async_host:worker_app()' fortnox worker``.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask

from aourly_fortnox.host import CustomerData, InvoiceData, InvoiceRowData
from aourly_fortnox.state import state

from ..plugin.host import Adapter, create_host

HOST_ENV = "AOURLY_TEST_HOST"


def customer_of(invoice_id: str) -> str:
    return invoice_id.split(".", 1)[0]


def invoice_ids(count: int, customers: int = 1) -> list[str]:
    """``count`` invoice ids spread over ``customers`` customers (``c1.1``, ``c2.2``, ...)."""
    return [f"c{n % customers + 1}.{n + 1}" for n in range(count)]


class GeneratedAdapter(Adapter):
    """Every object follows from its id (see the module docstring)."""

    def __init__(self, backfill: dict[str, int] | None = None, customers: int = 1) -> None:
        super().__init__()
        self.backfill = backfill or {}
        self.customer_count = customers

    def get_customer(self, company_id: str, customer_id: str) -> CustomerData | None:
        if not customer_id.startswith("c"):
            return None
        return CustomerData(id=customer_id, name=f"Kund {company_id} {customer_id[1:]}")

    def get_invoice(self, company_id: str, invoice_id: str) -> InvoiceData | None:
        if "." not in invoice_id:
            return None
        today = date.today()
        if invoice_id.endswith(".food"):
            row = InvoiceRowData("Livsmedel", Decimal("1"), Decimal("100.00"), 12)
        else:
            row = InvoiceRowData("Konsulttimmar", Decimal("2"), Decimal("800.00"), 25)
        return InvoiceData(
            id=invoice_id, number=f"{company_id}-{invoice_id}",
            customer_id=customer_of(invoice_id), invoice_date=today,
            due_date=today + timedelta(days=30), rows=(row,),
        )

    def sent_invoice_ids(self, company_id: str) -> Iterable[str]:
        return invoice_ids(self.backfill.get(company_id, 0), self.customer_count)


def host_app(spec: dict[str, Any]) -> Flask:
    """The host for ``spec`` (database, sandbox, Redis, settings): same adapter everywhere."""
    app, _, _ = create_host(
        spec["database_url"],
        AOURLY_FORTNOX_AUTH_URL=f"{spec['sandbox_url']}/oauth-v1",
        AOURLY_FORTNOX_API_URL=spec["sandbox_url"],
        AOURLY_FORTNOX_CLIENT_ID=spec["client_id"],
        AOURLY_FORTNOX_CLIENT_SECRET=spec["client_secret"],
        AOURLY_FORTNOX_REDIS_URL=spec["redis_url"],
        **spec["config"],
    )
    state(app).adapter = GeneratedAdapter(spec.get("backfill"), spec.get("customers", 1))
    return app


def worker_app() -> Flask:
    """The app factory `flask --app` calls in a worker process (SIGUSR1 prints the stack
    of every thread: of a work-horse too, which inherits it)."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    return host_app(json.loads(os.environ[HOST_ENV]))
