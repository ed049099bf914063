"""The customer number we give (prefix + host id) in Fortnox: our own customer found again by
our reference after a lost answer, and a number that someone else's customer holds, or that a
deleted customer still reserves, is never overwritten: the owner is told which and why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.models import RecordState, SyncRecord, utcnow
from aourly_fortnox.state import state
from aourly_fortnox.sync import dispatch

from .conftest import DB, customer, fortnox, invoice, next_try_now, put, send
from .test_push import records


def numbered(sandbox: Any, number: str) -> list[dict[str, Any]]:
    return [c for c in fortnox(sandbox, "customers") if c["CustomerNumber"] == number]


def test_a_customer_whose_create_answer_was_lost_is_found_by_our_reference_not_refused(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    # No organisation number: only the number and our reference can find it again.
    put(app, customer("c40"), invoice("i40", customer_id="c40"))
    send(app, "i40")
    assert records(app)[("customer", "c40")].remote_id == "AOUC40"
    # As if the worker died after Fortnox created the customer and before we stored it.
    with app.app_context():
        session = state(app).db.session
        row = session.query(SyncRecord).filter_by(object_type="customer", object_id="c40").one()
        row.state, row.remote_id, row.payload_hash = RecordState.PENDING, None, None
        row.post_started_at = utcnow()
        session.commit()
        dispatch.nudge("acme")
    adopted = records(app)[("customer", "c40")]
    assert (adopted.state, adopted.remote_id, adopted.error_code) == (
        RecordState.SYNCED, "AOUC40", None)
    assert len(numbered(sandbox, "AOUC40")) == 1


def test_our_number_held_by_someone_elses_customer_is_never_overwritten(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    # The accountant typed a customer into Fortnox under the number we would give.
    sandbox.admin("POST", f"/_admin/companies/{DB}/customers",
                  {"Customer": {"CustomerNumber": "AOUC41", "Name": "Någon annan AB"}})
    put(app, customer("c41", name="Vår Kund AB"), invoice("i41", customer_id="c41"))
    send(app, "i41")
    row = records(app)[("customer", "c41")]
    assert (row.state, row.error_code) == (RecordState.NEEDS_ATTENTION, "CUSTOMER_NUMBER_TAKEN")
    assert [c["Name"] for c in numbered(sandbox, "AOUC41")] == ["Någon annan AB"]
    assert records(app)[("invoice", "i41")].state == RecordState.PENDING  # waits for it
    log = client.get("/integrations/fortnox/log?state=needs_attention").get_data(as_text=True)
    assert ("Customer number AOUC41 is already used in Fortnox by another customer, so "
            "Vår Kund AB could not be created.") in log


def test_our_number_reserved_by_a_deleted_customer_is_explained_not_retried_for_ever(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    # A customer once created under our number was deleted in Fortnox: the number stays taken.
    sandbox.admin("POST", f"/_admin/companies/{DB}/customers",
                  {"Customer": {"CustomerNumber": "AOUC42", "Name": "Borttagen AB"}})
    sandbox.admin("DELETE", f"/_admin/companies/{DB}/customers/AOUC42")
    put(app, customer("c42", name="Ny Kund AB"), invoice("i42", customer_id="c42"))
    send(app, "i42")
    row = records(app)[("customer", "c42")]
    assert (row.state, row.error_code) == (RecordState.NEEDS_ATTENTION,
                                           "CUSTOMER_NUMBER_DELETED")
    assert numbered(sandbox, "AOUC42") == []
    log = client.get("/integrations/fortnox/log?state=needs_attention").get_data(as_text=True)
    assert "Customer number AOUC42 belonged to a customer that was deleted in Fortnox" in log


def test_a_customer_deleted_in_fortnox_and_added_again_there_is_linked_on_retry_all(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """Fortnox never reuses a deleted customer's number, so the owner adds the customer again
    in Fortnox (a new number, the same organisation number) and presses Retry all: the
    customer is linked there and the invoice that waited goes to it."""
    from ..plugin.test_access import csrf
    from .conftest import invoices_numbered

    put(app, customer("c43", organisation_number="556016-0680"),
        invoice("i43", customer_id="c43"))
    send(app, "i43")
    sandbox.admin("DELETE", f"/_admin/companies/{DB}/customers/AOUC43")
    put(app, invoice("i44", customer_id="c43"))
    send(app, "i44")
    assert records(app)[("customer", "c43")].error_code == "CUSTOMER_GONE"
    log = client.get("/integrations/fortnox/log?state=needs_attention").get_data(as_text=True)
    assert "add the customer in Fortnox again, with its organisation number" in log
    again = sandbox.admin("POST", f"/_admin/companies/{DB}/customers", {"Customer": {
        "Name": "Kund c43", "OrganisationNumber": "556016-0680"}})["Customer"]
    response = client.post("/integrations/fortnox/log/retry", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    linked = records(app)[("customer", "c43")]
    assert (linked.state, linked.remote_id, linked.remote_kind) == (
        RecordState.SYNCED, again["CustomerNumber"], "linked")
    (sent,) = invoices_numbered(sandbox, "A-i44")
    assert sent["CustomerNumber"] == again["CustomerNumber"]
    assert records(app)[("invoice", "i44")].state == RecordState.SYNCED
    assert numbered(sandbox, "AOUC43") == []  # never recreated under the old number


def test_a_customer_gone_from_the_host_is_listed_not_sent(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c45"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c45")
        del state(app).adapter.customers[("acme", "c45")]  # type: ignore[attr-defined]
        state(app).db.session.commit()
    row = records(app)[("customer", "c45")]
    assert (row.state, row.error_code, row.error_params) == (
        RecordState.NEEDS_ATTENTION, "HOST_OBJECT_MISSING", {"kind": "customer", "id": "c45"})
    assert numbered(sandbox, "AOUC45") == []


def test_after_a_switch_of_fortnox_company_an_invoice_brings_its_customer_along(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """The customer is in the first Fortnox company; after the owner switched to a second
    one, the customer's next invoice creates it there first and names it by that company's
    number, never by the first company's record."""
    from ..plugin.flow import companies, connect
    from ..plugin.test_access import csrf

    put(app, customer("c70"), invoice("i70", customer_id="c70"))
    send(app, "i70")
    second = companies(sandbox)[1]["DatabaseNumber"]
    connect(client, database_number=second)
    assert client.post("/integrations/fortnox/switch-company", data={
        "csrf_token": csrf(client), "decision": "switch"}).status_code == 303
    put(app, invoice("i71", customer_id="c70"))
    send(app, "i71")  # the invoice records its customer for this company, then waits for it
    next_try_now(app, "i71")  # a few seconds later, its next try
    there = [c for c in sandbox.admin("GET", f"/_admin/companies/{second}/customers")
             if c["CustomerNumber"] == "AOUC70"]
    assert len(there) == 1
    (sent,) = [i for i in sandbox.admin("GET", f"/_admin/companies/{second}/invoices")
               if i["ExternalInvoiceReference2"] == "A-i71"]
    assert sent["CustomerNumber"] == "AOUC70"
    assert len(numbered(sandbox, "AOUC70")) == 1  # the first company's, untouched


def test_our_customer_found_by_organisation_number_is_kept_as_ours_not_linked(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """The database lost the row's progress (restored from a backup taken before the push):
    the customer Fortnox has under our reference is found by its organisation number and
    kept as ours (updated when it changes), not linked as the owner's own."""
    put(app, customer("c46", organisation_number="556036-0793", name="Vår Kund 46 AB"),
        invoice("i46", customer_id="c46"))
    send(app, "i46")
    first = records(app)[("customer", "c46")]
    assert (first.remote_id, first.remote_kind) == ("AOUC46", "created")
    with app.app_context():
        session = state(app).db.session
        row = session.query(SyncRecord).filter_by(object_type="customer", object_id="c46").one()
        row.state, row.remote_id, row.remote_kind = RecordState.PENDING, None, None
        row.payload_hash, row.post_started_at, row.synced_at = None, None, None
        session.commit()
        dispatch.nudge("acme")
    again = records(app)[("customer", "c46")]
    assert (again.state, again.remote_id, again.remote_kind) == (
        RecordState.SYNCED, first.remote_id, first.remote_kind)
    assert len(numbered(sandbox, str(first.remote_id))) == 1


def test_a_customer_edit_reaching_a_customer_deleted_in_fortnox_is_listed_with_its_number(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c48"), invoice("i48", customer_id="c48"))
    send(app, "i48")
    sandbox.admin("DELETE", f"/_admin/companies/{DB}/customers/AOUC48")
    put(app, customer("c48", name="Kund 48 AB"))
    with app.app_context():  # the host saves an edit: our update finds the customer gone
        state(app).ext.sync_customer("acme", "c48")
        state(app).db.session.commit()
    row = records(app)[("customer", "c48")]
    assert (row.state, row.error_code, row.error_params) == (
        RecordState.NEEDS_ATTENTION, "CUSTOMER_GONE", {"number": "AOUC48", "name": "Kund 48 AB"})
    assert numbered(sandbox, "AOUC48") == []  # never recreated by the update


def test_a_customer_edited_and_changed_back_before_its_push_costs_no_request_and_frees_its_invoice(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """The host saved an edit and then the original again before the worker came: the row
    is due with the data Fortnox already has. It is settled without a request, and an
    invoice that waited for the customer goes."""
    put(app, customer("c49"), invoice("i49", customer_id="c49"))
    send(app, "i49")
    put(app, invoice("i50", customer_id="c49"))
    with app.app_context():
        session = state(app).db.session
        row = session.query(SyncRecord).filter_by(object_type="customer", object_id="c49").one()
        row.state = RecordState.PENDING
        session.add(SyncRecord(
            company_id="acme", database_number=DB, object_type="invoice", object_id="i50",
            state=RecordState.PENDING, error_code="WAITING_FOR_CUSTOMER",
            error_params={"customer_id": "c49", "name": "Kund c49"},
            next_attempt_at=utcnow() + timedelta(hours=1)))
        session.commit()
        customers_before = len(fortnox(sandbox, "customers"))
        requests_before = sum(v["requests"] for v in sandbox.stats().values())
        dispatch.nudge("acme")
    settled = records(app)[("customer", "c49")]
    assert (settled.state, settled.remote_id, settled.remote_kind) == (
        RecordState.SYNCED, "AOUC49", "created")
    assert len(fortnox(sandbox, "customers")) == customers_before
    # One request in all: the invoice's POST (the customer was neither read nor written).
    assert sum(v["requests"] for v in sandbox.stats().values()) - requests_before == 1
    (sent,) = [i for i in fortnox(sandbox, "invoices") if i["ExternalInvoiceReference2"] == "A-i50"]
    assert sent["CustomerNumber"] == "AOUC49"
