"""The sync log: failed items with their reasons, Retry one, Retry all (owner's own only)."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.models import RecordState, SyncRecord, utcnow
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


def test_linking_a_customer_releases_only_the_invoices_that_waited_for_it(
    app: Flask, client: FlaskClient
) -> None:
    linked = add_ambiguous(app, "acme", "c1")
    later = utcnow() + timedelta(days=1)
    with app.app_context():
        db = state(app).db
        for company, db_number, object_id, customer_id in (
            ("acme", 0, "20", "c1"),  # waits for this customer: due now
            ("acme", 0, "21", "c9"),  # waits for another one
            ("acme", 2002, "22", "c1"),  # the same customer in another Fortnox company
            ("globex", 0, "23", "c1"),  # another company's customer of that id
        ):
            db.session.add(SyncRecord(
                company_id=company, database_number=db_number, object_type="invoice",
                object_id=object_id, state=RecordState.PENDING, next_attempt_at=later,
                error_code="WAITING_FOR_CUSTOMER",
                error_params={"customer_id": customer_id, "name": "Måleri AB"}))
        db.session.commit()
    login(client)
    before = utcnow()
    assert choose(client, linked, customer_number="11") == 303
    with app.app_context():
        due = {r.object_id: r.next_attempt_at
               for r in state(app).db.session.query(SyncRecord).filter_by(object_type="invoice")}
    assert due["20"] is not None
    assert before <= (due["20"] if due["20"].tzinfo else due["20"].replace(tzinfo=UTC)) <= utcnow()
    for kept in ("21", "22", "23"):
        moment = due[kept]
        assert moment is not None
        assert (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) == later
