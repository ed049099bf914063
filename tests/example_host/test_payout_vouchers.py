"""The example host's payouts reach a real sandbox as vouchers, the way `make demo` runs them:
connect, record a payout, find one balanced voucher in series A; Sync now brings vouchers
made in Fortnox to the Vouchers page, and ours are shown once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from aourly_fortnox.models import SyncRecord
from aourly_fortnox.sandbox.testing import running_sandbox
from example_host.extensions import db
from example_host.models import Payout, User

from .. import services
from ..plugin.flow import consent
from .conftest import submit, text

pytestmark = pytest.mark.redis
DB = 1001


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(rate_limit="250/5") as sb:
        yield sb


@pytest.fixture
def app(make_app: Callable[..., Flask], sandbox: Any) -> Flask:
    """The example host on the sandbox, with jobs run inline (the demo runs them on its
    embedded worker thread: the same code)."""
    return make_app(
        AOURLY_FORTNOX_API_URL=sandbox.url, AOURLY_FORTNOX_AUTH_URL=sandbox.auth_url,
        AOURLY_FORTNOX_CLIENT_ID=sandbox.client_id,
        AOURLY_FORTNOX_CLIENT_SECRET=sandbox.client_secret,
        AOURLY_FORTNOX_REDIS_URL=services.REDIS_URL, AOURLY_FORTNOX_RATE_LIMIT="240/5",
        AOURLY_FORTNOX_QUEUE_IS_ASYNC=False,
    )


def connected_owner(client: FlaskClient) -> FlaskClient:
    assert submit(client, "/login", data={"email": "owner@acme.test",
                                          "password": "demo"}).status_code == 303
    started = submit(client, "/integrations/", "/integrations/fortnox/connect")
    assert started.status_code == 303
    assert client.get(consent(started.headers["Location"])).status_code == 303
    return client


def test_a_payout_becomes_one_balanced_voucher_in_series_a_and_shows_once(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    owner = connected_owner(client)
    with app.app_context():
        performer = db.session.scalars(
            select(User.id).where(User.email == "performer@acme.test")).one()
    long_text = "Moderator för konferensen " + "och kvällens middag " * 9  # over 200 with the name
    response = submit(owner, "/payouts/new", data={
        "performer_id": str(performer), "amount": "3 250,75",
        "payout_date": date.today().isoformat(), "description": long_text,
    })
    assert response.status_code == 303
    with app.app_context():
        payout = db.session.scalars(select(Payout).where(Payout.amount == Decimal("3250.75"))
                                    ).one()
        row = db.session.scalars(select(SyncRecord).where(
            SyncRecord.object_type == "voucher", SyncRecord.object_id == str(payout.id))).one()
        assert row.state == "synced", (row.error_code, row.error_params)
    mine = [v for v in sandbox.admin("GET", f"/_admin/companies/{DB}/vouchers")
            if v["Description"].startswith("Payout to Pia Persson: Moderator")]
    assert len(mine) == 1
    voucher = mine[0]
    assert voucher["VoucherSeries"] == "A" and len(voucher["Description"]) == 200
    assert voucher["Description"].endswith("]") and "[AOU:" in voucher["Description"]
    amounts = [(r["Account"], Decimal(str(r["Debit"])), Decimal(str(r["Credit"])))
               for r in voucher["VoucherRows"]]
    assert amounts == [(4600, Decimal("3250.75"), Decimal(0)),
                       (1930, Decimal(0), Decimal("3250.75"))]
    # A voucher booked by hand in Fortnox comes over on Sync now; ours is not doubled.
    sandbox.admin("POST", f"/_admin/companies/{DB}/vouchers", {"Voucher": {
        "VoucherSeries": "A", "TransactionDate": date.today().isoformat(),
        "Description": "Kaffe till kontoret",
        "VoucherRows": [{"Account": 5460, "Debit": 249}, {"Account": 1930, "Credit": 249}]}})
    assert submit(owner, "/integrations/", "/integrations/fortnox/sync").status_code == 303
    page = text(owner.get("/integrations/fortnox/vouchers"))
    assert "Kaffe till kontoret" in page
    assert page.count("Payout to Pia Persson: Moderator") == 1
    assert "Sent from Aourly" in page and "[AOU:" not in page
    assert "3,250.75" in page
