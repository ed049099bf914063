"""The sync log: failed items with their reasons, Retry one, Retry all (owner's own only)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.models import RecordState, SyncRecord
from aourly_fortnox.state import state

from .conftest import login
from .test_access import csrf


def add_record(app: Flask, company: str, object_id: str, record_state: str) -> int:
    with app.app_context():
        db = state(app).db
        record = SyncRecord(
            company_id=company, object_type="invoice", object_id=object_id, state=record_state,
            attempts=8, error_code="ACCOUNT_UNMAPPED",
            error_reason="Sales 12 % is not mapped: choose an account on the mapping page.",
            fortnox_code=2000423, fortnox_message="Kontot hittades inte.",
        )
        db.session.add(record)
        db.session.commit()
        return record.id


def states(app: Flask) -> dict[str, tuple[str, int]]:
    with app.app_context():
        return {f"{r.company_id}/{r.object_id}": (r.state, r.attempts)
                for r in state(app).db.session.query(SyncRecord).all()}


def test_the_log_lists_failures_with_reasons_and_retry_puts_one_back(
    app: Flask, client: FlaskClient
) -> None:
    failed = add_record(app, "acme", "12", RecordState.NEEDS_ATTENTION)
    waiting = add_record(app, "acme", "13", RecordState.FAILED)
    add_record(app, "globex", "99", RecordState.FAILED)
    login(client)
    page = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert "Sales 12 % is not mapped" in page and "2000423: Kontot hittades inte." in page
    # Each row's Retry posts for that row, and its fix links to the mapping page.
    assert f'action="/integrations/fortnox/log/{failed}/retry"' in page
    assert '<a href="/integrations/fortnox/mapping">Open the account mapping</a>' in page
    waiting_page = client.get("/integrations/fortnox/log?state=waiting").get_data(as_text=True)
    assert f'action="/integrations/fortnox/log/{waiting}/retry"' in waiting_page
    assert "Invoice 99" not in page  # another company's failure never shows
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    # Issue 16: an item retried by itself is *waiting*; only the owner's items need attention.
    assert "1 item needs attention" in card

    response = client.post(f"/integrations/fortnox/log/{failed}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert states(app)["acme/12"] == ("pending", 0)
    assert states(app)["acme/13"] == ("failed", 8)

    response = client.post("/integrations/fortnox/log/retry", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert "1 item queued again." in client.get("/integrations/fortnox/log").get_data(
        as_text=True
    )
    assert states(app)["acme/13"] == ("pending", 0)
    assert states(app)["globex/99"] == ("failed", 8)  # Retry all is per company


def add_ambiguous(app: Flask, company: str, object_id: str) -> int:
    """A customer whose organisation number two of the owner's Fortnox customers have."""
    with app.app_context():
        db = state(app).db
        record = SyncRecord(
            company_id=company, object_type="customer", object_id=object_id,
            state=RecordState.NEEDS_ATTENTION, attempts=3, error_code="CUSTOMER_AMBIGUOUS",
            error_params={"count": 2, "organisation_number": "556036-0793"},
            candidates=[{"number": n, "name": f"Måleri {n}", "organisation_number": "556036-0793"}
                        for n in ("11", "12")],
        )
        db.session.add(record)
        db.session.commit()
        return record.id


def choose(client: FlaskClient, record_id: int, **choice: str) -> int:
    return client.post(f"/integrations/fortnox/log/{record_id}/link",
                       data={**choice, "csrf_token": csrf(client)}).status_code


def test_a_link_choice_for_another_companys_row_or_a_row_without_one_is_404_and_unchanged(
    app: Flask, client: FlaskClient
) -> None:
    theirs = add_ambiguous(app, "globex", "c1")
    failed = add_record(app, "acme", "12", RecordState.FAILED)  # an invoice: no choice
    with app.app_context():
        db = state(app).db
        plain = SyncRecord(company_id="acme", object_type="customer", object_id="c2",
                           state=RecordState.FAILED, attempts=8, error_code="RETRYING")
        db.session.add(plain)  # a customer without candidates: nothing to choose
        db.session.commit()
        plain_id = plain.id
    login(client)
    before = states(app)
    for record_id in (theirs, failed, plain_id):
        assert choose(client, record_id, customer_number="11") == 404
        assert choose(client, record_id, create="1") == 404
    assert states(app) == before


def test_linking_one_candidate_is_synced_and_create_is_queued_now(
    app: Flask, client: FlaskClient
) -> None:
    linked = add_ambiguous(app, "acme", "c1")
    created = add_ambiguous(app, "acme", "c2")
    login(client)
    assert choose(client, linked, customer_number="12") == 303
    assert choose(client, created, create="1") == 303
    assert states(app)["acme/c1"] == ("synced", 0)
    # Not connected here, so ours waits for the push, due now: the log says when it goes.
    assert states(app)["acme/c2"] == ("pending", 0)
    page = client.get("/integrations/fortnox/log?state=waiting").get_data(as_text=True)
    assert re.search(r'data-label="Next automatic attempt">[-0-9]{10} \d\d:\d\d</td>', page)
