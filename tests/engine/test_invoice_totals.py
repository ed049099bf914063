"""Fortnox's totals against ours: an invoice whose totals differ in Fortnox is linked, never
posted again, and listed for the owner with both amounts; Retry only re-reads it. And an edit
never reaches an invoice Fortnox has cancelled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.connection.clients import client_for
from aourly_fortnox.models import RecordState, SyncRecord, utcnow
from aourly_fortnox.state import state
from aourly_fortnox.sync import dispatch

from ..plugin.test_access import csrf
from .conftest import DB, customer, fortnox, invoice, invoices_numbered, next_try_now, put, send
from .test_push import records


def accountant_sets_price(app: Flask, document: str, price: str) -> None:
    """The accountant changes the invoice's row price in Fortnox (an unbooked invoice may be
    edited there), through Fortnox's own API."""
    with app.app_context():
        client = client_for("acme")
        rows = client.get_invoice(document)["InvoiceRows"]
        client.update_invoice(document, {"InvoiceRows": [
            {"AccountNumber": r["AccountNumber"], "DeliveredQuantity": r["DeliveredQuantity"],
             "Description": r["Description"], "Price": price, "VAT": r["VAT"]}
            for r in rows]})


def in_fortnox(sandbox: Any, document: str) -> dict[str, Any]:
    found = [i for i in fortnox(sandbox, "invoices") if i["DocumentNumber"] == document]
    assert len(found) == 1
    return found[0]


def test_an_adopted_invoice_whose_totals_differ_is_linked_listed_and_only_re_read_on_retry(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c30"), invoice("i30", customer_id="c30"))  # 2 x 800 + 25 % = 2,000
    send(app, "i30")
    row = records(app)[("invoice", "i30")]
    document = str(row.remote_id)
    assert row.state == RecordState.SYNCED
    # The worker died after Fortnox created the invoice and before we stored the answer; in
    # between, the accountant changed the price in Fortnox.
    accountant_sets_price(app, document, "900")
    assert Decimal(str(in_fortnox(sandbox, document)["Total"])) == Decimal("2250")
    with app.app_context():
        session = state(app).db.session
        record = session.query(SyncRecord).filter_by(object_id="i30").one()
        record.state, record.remote_id, record.payload_hash = RecordState.PENDING, None, None
        record.post_started_at = utcnow()
        session.commit()
        dispatch.nudge("acme")
    row = records(app)[("invoice", "i30")]
    # Found by our reference and linked (never posted again), but not called synced.
    assert (row.state, row.error_code, row.remote_id) == (
        RecordState.NEEDS_ATTENTION, "TOTALS_DIFFER", document)
    assert row.error_params == {"number": document, "ours": "2000", "theirs": "2250",
                                "ours_vat": "400.00", "theirs_vat": "450"}
    assert len(invoices_numbered(sandbox, "A-i30")) == 1
    log = client.get("/integrations/fortnox/log?state=needs_attention").get_data(as_text=True)
    assert f"Fortnox invoice {document} totals 2250 kr" in log
    assert "totals 2000 kr" in log

    # Retry re-reads: Fortnox still differs, so it stays with the owner; nothing is written.
    price_before = in_fortnox(sandbox, document)["InvoiceRows"][0]["Price"]
    response = client.post(f"/integrations/fortnox/log/{row.id}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    again = records(app)[("invoice", "i30")]
    assert (again.state, again.error_code) == (RecordState.NEEDS_ATTENTION, "TOTALS_DIFFER")
    assert in_fortnox(sandbox, document)["InvoiceRows"][0]["Price"] == price_before
    assert len(invoices_numbered(sandbox, "A-i30")) == 1

    # The accountant puts the price back in Fortnox: Retry re-reads and it is synced, with
    # no second invoice and Fortnox's invoice as the accountant left it.
    accountant_sets_price(app, document, "800")
    left = in_fortnox(sandbox, document)
    response = client.post(f"/integrations/fortnox/log/{row.id}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    done = records(app)[("invoice", "i30")]
    assert (done.state, done.remote_id) == (RecordState.SYNCED, document)
    assert in_fortnox(sandbox, document) == left
    assert len(invoices_numbered(sandbox, "A-i30")) == 1


def test_an_edit_of_an_invoice_cancelled_in_fortnox_needs_the_owner_and_is_not_sent(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c32"), invoice("i32", customer_id="c32"))
    send(app, "i32")
    document = str(records(app)[("invoice", "i32")].remote_id)
    sandbox.admin("POST", f"/_admin/companies/{DB}/invoices/{document}/cancel")
    put(app, invoice("i32", customer_id="c32", your_reference="Bertil"))
    send(app, "i32")
    row = records(app)[("invoice", "i32")]
    assert (row.state, row.error_code) == (RecordState.NEEDS_ATTENTION, "CHANGED_AFTER_BOOKING")
    found = in_fortnox(sandbox, document)
    assert found["Cancelled"] is True and found["YourReference"] != "Bertil"


def test_an_unchanged_invoice_sent_again_and_again_costs_fortnox_nothing(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c33"), invoice("i33", customer_id="c33"))
    send(app, "i33")
    before = sandbox.stats()
    for _ in range(3):  # each send remembers what was sent, so the next one compares too
        send(app, "i33")
        assert records(app)[("invoice", "i33")].state == RecordState.SYNCED
    assert sandbox.stats() == before  # not one request, not even a read


def test_after_an_edit_reaches_fortnox_the_same_data_sent_again_costs_nothing(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c34"), invoice("i34", customer_id="c34"))
    send(app, "i34")
    document = str(records(app)[("invoice", "i34")].remote_id)
    put(app, invoice("i34", customer_id="c34", your_reference="Anna"))
    send(app, "i34")  # the edit is PUT while Fortnox has not booked it
    assert in_fortnox(sandbox, document)["YourReference"] == "Anna"
    before = sandbox.stats()
    send(app, "i34")  # nothing changed since the edit
    assert records(app)[("invoice", "i34")].state == RecordState.SYNCED
    assert sandbox.stats() == before


def bookkeeping(client: FlaskClient, on: bool) -> None:
    """The owner's choice on the mapping page: book each invoice in Fortnox once created."""
    from ..plugin.test_mapping import FULL, post_mapping

    assert post_mapping(client, {**FULL, "bookkeep_invoices": "on"} if on else FULL
                        ).status_code == 303


def stopped_after_post(app: Flask, object_id: str, remote_id: str | None) -> None:
    """As if the job stopped right after Fortnox created the invoice (a crash, a 429 on the
    bookkeeping): with the remote id stored, or before even that."""
    with app.app_context():
        session = state(app).db.session
        row = session.query(SyncRecord).filter_by(object_id=object_id).one()
        row.state, row.synced_at, row.remote_id = RecordState.PENDING, None, remote_id
        if remote_id is None:
            row.payload_hash = None
        row.post_started_at = utcnow()
        session.commit()
        dispatch.nudge("acme")


def test_an_invoice_the_job_stopped_bookkeeping_is_booked_when_it_resumes(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c60"), invoice("i60", customer_id="c60"), invoice("i61", customer_id="c60"),
        invoice("i63", customer_id="c60"))
    for object_id in ("i60", "i61", "i63"):
        send(app, object_id)
    first = str(records(app)[("invoice", "i60")].remote_id)
    second = str(records(app)[("invoice", "i61")].remote_id)
    third = str(records(app)[("invoice", "i63")].remote_id)
    assert in_fortnox(sandbox, first)["Booked"] is False
    bookkeeping(client, True)
    stopped_after_post(app, "i60", first)  # the remote id was stored, the booking not done
    stopped_after_post(app, "i61", None)  # the answer itself was lost: found by reference
    # The booking went through but its answer was lost: booked once, not refused as booked.
    sandbox.admin("POST", f"/_admin/companies/{DB}/invoices/{third}/bookkeep")
    stopped_after_post(app, "i63", third)
    for object_id, document in (("i60", first), ("i61", second), ("i63", third)):
        row = records(app)[("invoice", object_id)]
        assert (row.state, row.remote_id, row.error_code) == (RecordState.SYNCED, document, None)
        assert in_fortnox(sandbox, document)["Booked"] is True
        assert len(invoices_numbered(sandbox, f"A-{object_id}")) == 1
    before = sandbox.stats()
    send(app, "i60")  # finished, it is remembered as sent: the same data again costs nothing
    assert sandbox.stats() == before


def test_an_invoice_fortnox_created_but_answered_with_an_error_is_adopted_not_posted_again(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """A real lost answer: Fortnox creates the invoice and answers 5xx. The row noted the
    POST before sending it, so the next try searches by our reference instead of creating a
    second invoice."""


    put(app, customer("c64"), invoice("i64", customer_id="c64"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c64")
        state(app).db.session.commit()
    sandbox.faults(error_rate=1.0, applied_rate=1.0)
    try:
        send(app, "i64")
    finally:
        sandbox.faults()
    failed = records(app)[("invoice", "i64")]
    assert (failed.state, failed.remote_id) == (RecordState.FAILED, None)
    (created,) = invoices_numbered(sandbox, "A-i64")  # Fortnox has it, its answer was lost
    next_try_now(app, "i64")  # a few seconds later, its next try
    adopted = records(app)[("invoice", "i64")]
    assert (adopted.state, adopted.remote_id) == (RecordState.SYNCED, created["DocumentNumber"])
    assert len(invoices_numbered(sandbox, "A-i64")) == 1


def test_an_invoice_whose_totals_differ_is_never_booked_for_the_owner(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c62"), invoice("i62", customer_id="c62"))
    send(app, "i62")
    document = str(records(app)[("invoice", "i62")].remote_id)
    accountant_sets_price(app, document, "900")
    bookkeeping(client, True)
    stopped_after_post(app, "i62", document)
    row = records(app)[("invoice", "i62")]
    assert (row.state, row.error_code) == (RecordState.NEEDS_ATTENTION, "TOTALS_DIFFER")
    assert in_fortnox(sandbox, document)["Booked"] is False  # the owner decides first
    accountant_sets_price(app, document, "800")
    response = client.post(f"/integrations/fortnox/log/{row.id}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert records(app)[("invoice", "i62")].state == RecordState.SYNCED
    assert in_fortnox(sandbox, document)["Booked"] is True
