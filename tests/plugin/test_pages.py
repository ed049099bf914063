"""The owner's Preview and Vouchers pages: what they show, and what they never show."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.models import PulledVoucher, RecordState, SyncRecord
from aourly_fortnox.state import state

from ..dbstate import unchanged
from .charts import DB_NUMBER, install_chart
from .conftest import login


def rows(page: str) -> list[str]:
    """The table's rows as text, cells joined by " | "."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip()
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        found.append(" | ".join(cells))
    return found


def add_records(app: Flask) -> None:
    with app.app_context():
        db = state(app).db
        for company, kind, object_id, record_state in (
            ("acme", "customer", "c1", RecordState.PENDING),
            ("acme", "invoice", "5", RecordState.PENDING),
            ("acme", "invoice", "6", RecordState.HELD),
            ("acme", "invoice", "7", RecordState.FAILED),
            ("acme", "invoice", "8", RecordState.SYNCED),
            ("globex", "invoice", "99", RecordState.PENDING),
        ):
            db.session.add(SyncRecord(company_id=company, object_type=kind, object_id=object_id,
                                      state=record_state, database_number=DB_NUMBER))
        db.session.commit()


def test_preview_lists_what_the_next_sync_would_send_and_sends_nothing(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
        engine = state(app).db.engine
    add_records(app)
    login(client)
    with unchanged(engine):  # a dry run: no state moves, nothing is queued
        response = client.get("/integrations/fortnox/preview")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "What the next sync would send" in page
    items = [row.split(" | ")[0] for row in rows(page)]
    # Issue 16: exactly what the push would claim now, customers first: pending items, and a
    # failed one whose next attempt is due (invoice 7 has none, so it is due now); never held
    # or synced ones. (Before, the preview listed pending items only.)
    assert items == ["Customer c1", "Invoice 5", "Invoice 7"]
    assert "Invoice 99" not in page  # another company's item never shows


def test_preview_counts_what_the_card_counts_and_lists_what_goes_first(
    app: Flask, client: FlaskClient
) -> None:
    """An item waiting for its next automatic attempt, and one a worker is sending right now,
    are on their way: counted as the card counts them, but never shown as the next to go."""
    from datetime import timedelta

    from aourly_fortnox.models import utcnow

    from .test_card_cost import card_counts, poll

    with app.app_context():
        install_chart()
        db = state(app).db
        later = utcnow() + timedelta(hours=1)
        db.session.add_all([
            SyncRecord(company_id="acme", object_type="invoice", object_id="3",
                       state=RecordState.FAILED, next_attempt_at=later,
                       database_number=DB_NUMBER),
            SyncRecord(company_id="acme", object_type="invoice", object_id="4",
                       state=RecordState.PENDING, lease_token="a-worker",
                       lease_expires_at=later, database_number=DB_NUMBER),
            SyncRecord(company_id="acme", object_type="customer", object_id="c0",
                       state=RecordState.PENDING, lease_token="a-worker",
                       lease_expires_at=later, database_number=DB_NUMBER),
        ])
        db.session.commit()
    add_records(app)
    login(client)
    page = client.get("/integrations/fortnox/preview").get_data(as_text=True)
    assert [row.split(" | ")[0] for row in rows(page)] == [
        "Customer c1", "Invoice 5", "Invoice 7"]
    assert "2 customers" in page and "4 invoices" in page and "and 3 more" in page
    waiting, _attention = card_counts(poll(client)())
    assert waiting == 6
    assert "Customer c1" in page.split("exactly as Fortnox would receive it", 1)[1]


def test_preview_with_nothing_waiting(app: Flask, client: FlaskClient) -> None:
    login(client)
    page = client.get("/integrations/fortnox/preview").get_data(as_text=True)
    assert "Nothing is waiting." in page and rows(page) == []


def add_voucher(app: Flask, company: str, db_number: int, series: str, number: int,
                day: date, description: str, total: str) -> None:
    with app.app_context():
        db = state(app).db
        db.session.add(PulledVoucher(company_id=company, database_number=db_number,
                                     financial_year=2, series=series, number=number,
                                     transaction_date=day, description=description,
                                     total=Decimal(total)))
        db.session.commit()


def test_vouchers_page_lists_the_current_fortnox_companys_vouchers_newest_first(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    add_voucher(app, "acme", DB_NUMBER, "A", 11, date(2026, 3, 1), "Hyra mars", "12500.00")
    add_voucher(app, "acme", DB_NUMBER, "A", 12, date(2026, 4, 1), "Hyra april", "12500.50")
    add_voucher(app, "acme", DB_NUMBER, "B", 3, date(2026, 3, 15), "Kundfaktura 3", "800.00")
    # Before a switch of Fortnox company, and another Aourly company's: never shown here.
    add_voucher(app, "acme", 1002, "A", 99, date(2026, 5, 1), "Old company", "1.00")
    add_voucher(app, "globex", DB_NUMBER, "A", 98, date(2026, 5, 1), "Globex voucher", "2.00")
    login(client)
    response = client.get("/integrations/fortnox/vouchers")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert rows(page) == [
        "A12 | 2026-04-01 | Hyra april | 12,500.50",
        "B3 | 2026-03-15 | Kundfaktura 3 | 800.00",
        "A11 | 2026-03-01 | Hyra mars | 12,500.00",
    ]
    assert "Old company" not in page and "Globex voucher" not in page


def test_vouchers_page_before_anything_was_pulled(app: Flask, client: FlaskClient) -> None:
    login(client)
    page = client.get("/integrations/fortnox/vouchers").get_data(as_text=True)
    assert "Connect Fortnox to see its vouchers here." in page and rows(page) == []


def test_sending_earlier_invoices_before_connecting_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    from aourly_fortnox.sync import outbox

    from .test_access import csrf

    with app.app_context():
        outbox.record_push("acme", "invoice", "1", commit=True)  # never connected: earlier
        engine = state(app).db.engine
    login(client)
    token = csrf(client)
    with unchanged(engine):
        response = client.post("/integrations/fortnox/earlier/send", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Connect Fortnox first; nothing was sent." in page
    assert "1 invoice sent before connecting is kept" in page
    with unchanged(engine):  # without the CSRF token: refused
        assert client.post("/integrations/fortnox/earlier/send").status_code in (400, 403)
