"""The sync log: failed items with their reasons, Retry one, Retry all (owner's own only)."""

from __future__ import annotations

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
