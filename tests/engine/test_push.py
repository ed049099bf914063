"""Customers and invoices reach the sandbox exactly once, customers first, linked when the
owner already has them, and every refusal lands with its reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.host import InvoiceRowData
from aourly_fortnox.models import AccountMapping, RecordState, SyncRecord, utcnow
from aourly_fortnox.state import state
from aourly_fortnox.sync import dispatch, outbox
from aourly_fortnox.sync.references import installation_id, reference

from ..plugin.flow import connect
from ..plugin.test_access import csrf
from ..plugin.test_mapping import FULL, post_mapping
from .conftest import DB, customer, fortnox, invoice, invoices_numbered, put, send, states


def records(app: Flask) -> dict[tuple[str, str], SyncRecord]:
    with app.app_context():
        session = state(app).db.session
        session.expire_all()
        return {(r.object_type, r.object_id): r for r in session.query(SyncRecord).all()}


def test_sending_an_invoice_puts_its_customer_then_it_in_fortnox_once(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    customers_before = len(fortnox(sandbox, "customers"))
    put(app, customer("c1"), invoice("i1"))
    send(app, "i1")
    created = [c for c in fortnox(sandbox, "customers") if c["CustomerNumber"] == "AOUC1"]
    assert len(created) == 1 and created[0]["Name"] == "Kund c1"
    assert created[0]["ExternalReference"].startswith("AOU:")
    invoices = [i for i in fortnox(sandbox, "invoices") if i["CustomerNumber"] == "AOUC1"]
    assert len(invoices) == 1
    assert invoices[0]["ExternalInvoiceReference2"] == "A-i1"
    with app.app_context():  # our reference: how a lost answer is found again, exactly
        assert invoices[0]["ExternalInvoiceReference1"] == reference(
            installation_id(), "acme", "invoice", "i1")
    assert Decimal(str(invoices[0]["Total"])) == Decimal("2000")
    assert states(app, "invoice", "i1") == {"i1": "synced"}
    assert states(app, "customer", "c1") == {"c1": "synced"}
    # Sending again creates nothing new.
    requests_before = sandbox.stats()
    send(app, "i1")
    assert len(fortnox(sandbox, "customers")) == customers_before + 1
    assert len([i for i in fortnox(sandbox, "invoices") if i["CustomerNumber"] == "AOUC1"]) == 1
    assert requests_before == sandbox.stats()  # unchanged: not even a read


def test_a_customer_already_in_fortnox_is_linked_however_its_number_was_written(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    sandbox.admin("POST", f"/_admin/companies/{DB}/customers",
                  {"Customer": {"Name": "Bygg & Co", "OrganisationNumber": "5566778899"}})
    owners = [c for c in fortnox(sandbox, "customers") if c["Name"] == "Bygg & Co"]
    put(app, customer("c7", name="Bygg och Co AB", organisation_number="556677-8899"),
        invoice("i7", customer_id="c7"))
    count = len(fortnox(sandbox, "customers"))
    send(app, "i7")
    assert len(fortnox(sandbox, "customers")) == count  # linked, not created twice
    linked = records(app)[("customer", "c7")]
    assert (linked.remote_id, linked.remote_kind) == (owners[0]["CustomerNumber"], "linked")
    mine = invoices_numbered(sandbox, "A-i7")
    assert mine[0]["CustomerNumber"] == owners[0]["CustomerNumber"]
    # The owner's customer is never overwritten with our data.
    assert [c["Name"] for c in fortnox(sandbox, "customers")
            if c["CustomerNumber"] == linked.remote_id] == ["Bygg & Co"]


def test_a_customer_stored_with_a_dash_in_fortnox_is_linked_from_digits_only(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    sandbox.admin("POST", f"/_admin/companies/{DB}/customers",
                  {"Customer": {"Name": "Måleri AB", "OrganisationNumber": "556036-0793"}})
    put(app, customer("c8", organisation_number="5560360793"), invoice("i8", customer_id="c8"))
    count = len(fortnox(sandbox, "customers"))
    send(app, "i8")
    assert len(fortnox(sandbox, "customers")) == count
    assert records(app)[("customer", "c8")].remote_kind == "linked"


def nudges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The companies whose push job is started from now on (the job still runs)."""
    started: list[str] = []
    original = dispatch.nudge

    def nudge(company_id: str, delay: float = 0) -> bool:
        started.append(company_id)
        return original(company_id, delay)

    monkeypatch.setattr(dispatch, "nudge", nudge)
    return started


def flashed(client: FlaskClient) -> str:
    return client.get("/integrations/fortnox/log").get_data(as_text=True)


def ambiguous(app: Flask, sandbox: Any, ident: str) -> tuple[SyncRecord, int]:
    """Two of the owner's Fortnox customers share customer ``ident``'s organisation number:
    its invoice waits for the owner's choice. The row, and how many customers Fortnox has."""
    for name in ("Måleri AB", "Måleri AB (gamla)"):
        sandbox.admin("POST", f"/_admin/companies/{DB}/customers",
                      {"Customer": {"Name": name, "OrganisationNumber": "556036-0793"}})
    put(app, customer(ident, organisation_number="556036-0793"),
        invoice(f"i{ident}", customer_id=ident))
    count = len(fortnox(sandbox, "customers"))
    send(app, f"i{ident}")
    row = records(app)[("customer", ident)]
    assert row.state == RecordState.NEEDS_ATTENTION and row.error_code == "CUSTOMER_AMBIGUOUS"
    return row, count


def test_several_matches_need_the_owner_who_links_one_and_the_invoice_goes(
    app: Flask, client: FlaskClient, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("Måleri AB", "Måleri AB (gamla)"):
        sandbox.admin("POST", f"/_admin/companies/{DB}/customers",
                      {"Customer": {"Name": name, "OrganisationNumber": "556036-0793"}})
    put(app, customer("c9", organisation_number="556036-0793"), invoice("i9", customer_id="c9"))
    count = len(fortnox(sandbox, "customers"))
    send(app, "i9")
    row = records(app)[("customer", "c9")]
    assert row.state == RecordState.NEEDS_ATTENTION and row.error_code == "CUSTOMER_AMBIGUOUS"
    assert len(row.candidates or []) == 2
    waiting = records(app)[("invoice", "i9")]
    assert (waiting.state, waiting.error_code) == ("pending", "WAITING_FOR_CUSTOMER")
    assert waiting.error_params == {"customer_id": "c9", "name": "Kund c9"}
    # Held by the owner's choice: it looks again only after the backoff cap (the choice
    # releases it at once), not every few seconds.
    with app.app_context():
        cap = float(state(app).settings.backoff_cap)
    assert waiting.next_attempt_at is not None
    assert waiting.next_attempt_at > utcnow() + timedelta(seconds=cap - 60)
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert "2 customers in Fortnox have the organisation number" in log
    assert "Link this customer" in log and "Create a new customer" in log
    # Each candidate as the owner tells them apart: its number, name and organisation number.
    for candidate in row.candidates or []:
        assert (f'value="{candidate["number"]}" required> {candidate["number"]} '
                f'{candidate["name"]} (556036-0793)') in log
    assert sorted(c["name"] for c in row.candidates or []) == ["Måleri AB", "Måleri AB (gamla)"]
    chosen = row.candidates[1]["number"]  # type: ignore[index]
    # A row that is not this company's (or does not exist) is a 404, and nothing changes.
    missing = client.post("/integrations/fortnox/log/999999/link",
                          data={"customer_number": chosen, "csrf_token": csrf(client)})
    assert missing.status_code == 404
    assert records(app)[("customer", "c9")].state == RecordState.NEEDS_ATTENTION
    # A number that is not one of the candidates is refused and changes nothing.
    response = client.post(f"/integrations/fortnox/log/{row.id}/link",
                           data={"customer_number": "999", "csrf_token": csrf(client)})
    assert response.status_code == 303
    assert "Choose one of the listed Fortnox customers." in flashed(client)
    assert records(app)[("customer", "c9")].state == RecordState.NEEDS_ATTENTION
    response = client.post(f"/integrations/fortnox/log/{row.id}/link",
                           data={"customer_number": chosen, "csrf_token": csrf(client)})
    assert response.status_code == 303
    assert f"Linked to Fortnox customer {chosen}." in flashed(client)
    assert len(fortnox(sandbox, "customers")) == count
    linked = records(app)[("customer", "c9")]
    assert (linked.remote_id, linked.state) == (chosen, RecordState.SYNCED)
    assert linked.synced_at is not None  # the log's row is a sync like any other
    assert states(app, "invoice", "i9") == {"i9": "synced"}
    mine = invoices_numbered(sandbox, "A-i9")
    assert [i["CustomerNumber"] for i in mine] == [chosen]
    # The owner's customer is never overwritten: a later edit in the host queues nothing.
    name = [c["Name"] for c in fortnox(sandbox, "customers") if c["CustomerNumber"] == chosen]
    started = nudges(monkeypatch)
    put(app, customer("c9", name="Måleri i Solna AB", organisation_number="556036-0793"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c9")
        state(app).db.session.commit()
    assert started == []
    assert states(app, "customer", "c9") == {"c9": "synced"}
    assert [c["Name"] for c in fortnox(sandbox, "customers")
            if c["CustomerNumber"] == chosen] == name


def test_the_owner_may_create_a_new_customer_instead_and_the_invoice_goes_to_it(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    row, count = ambiguous(app, sandbox, "c10")
    response = client.post(f"/integrations/fortnox/log/{row.id}/link",
                           data={"create": "1", "csrf_token": csrf(client)})
    assert response.status_code == 303
    assert "A new customer will be created in Fortnox." in flashed(client)
    # The push skipped the lookup (which would find the two again) and created ours.
    assert len(fortnox(sandbox, "customers")) == count + 1
    assert states(app, "customer", "c10") == {"c10": "synced"}
    assert states(app, "invoice", "ic10") == {"ic10": "synced"}
    mine = invoices_numbered(sandbox, "A-ic10")
    assert [i["CustomerNumber"] for i in mine] == ["AOUC10"]


def test_a_broken_mapping_is_listed_with_its_reason_and_retry_sends_after_the_fix(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    with app.app_context():
        session = state(app).db.session
        session.query(AccountMapping).filter_by(company_id="acme", key="sales_12").delete()
        session.commit()
    food = InvoiceRowData("Livsmedel", Decimal("1"), Decimal("100.00"), 12)
    put(app, customer("c2"), invoice("i2", customer_id="c2", rows=(food,)))
    before = len(fortnox(sandbox, "invoices"))
    send(app, "i2")
    row = records(app)[("invoice", "i2")]
    assert (row.state, row.error_code) == (RecordState.NEEDS_ATTENTION, "ACCOUNT_UNMAPPED")
    assert len(fortnox(sandbox, "invoices")) == before  # nothing reached Fortnox
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert "Sales 12 % is not mapped: choose an account on the mapping page." in log
    assert post_mapping(client, FULL).status_code == 303
    response = client.post(f"/integrations/fortnox/log/{row.id}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert states(app, "invoice", "i2") == {"i2": "synced"}
    assert len(fortnox(sandbox, "invoices")) == before + 1


def test_an_edit_is_put_while_unbooked_and_needs_the_owner_once_booked(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c3"), invoice("i3", customer_id="c3"))
    send(app, "i3")
    document = records(app)[("invoice", "i3")].remote_id
    put(app, invoice("i3", customer_id="c3", your_reference="Anna"))
    send(app, "i3")
    found = [i for i in fortnox(sandbox, "invoices") if i["DocumentNumber"] == document]
    assert found[0]["YourReference"] == "Anna"
    assert states(app, "invoice", "i3") == {"i3": "synced"}
    sandbox.admin("POST", f"/_admin/companies/{DB}/invoices/{document}/bookkeep")
    put(app, invoice("i3", customer_id="c3", your_reference="Bertil"))
    send(app, "i3")
    row = records(app)[("invoice", "i3")]
    assert (row.state, row.error_code) == (RecordState.NEEDS_ATTENTION, "CHANGED_AFTER_BOOKING")
    found = [i for i in fortnox(sandbox, "invoices") if i["DocumentNumber"] == document]
    assert found[0]["YourReference"] == "Anna"  # Fortnox keeps the booked invoice
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert f"Fortnox invoice {document}" in log and "Credit it in Fortnox" in log


def test_after_disconnect_not_one_more_request_is_sent_and_sends_are_held(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    response = client.post("/integrations/fortnox/disconnect", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    before = sandbox.stats()
    put(app, customer("c4"), invoice("i4", customer_id="c4"))
    send(app, "i4")
    assert states(app, "invoice", "i4") == {"i4": "held"}
    assert sandbox.stats() == before


def test_held_items_go_to_fortnox_when_the_owner_sends_them_after_reconnecting(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    assert client.post("/integrations/fortnox/disconnect",
                       data={"csrf_token": csrf(client)}).status_code == 303
    put(app, customer("c18"), invoice("i18", customer_id="c18"))
    send(app, "i18")
    assert states(app, "invoice", "i18") == {"i18": "held"}
    assert connect(client).status_code == 303
    assert states(app, "invoice", "i18") == {"i18": "held"}  # only the owner releases them
    response = client.post("/integrations/fortnox/held/send", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    # Released items are pushed at once (their push job starts), customer first.
    assert states(app, "invoice", "i18") == {"i18": "synced"}
    assert states(app, "customer", "c18") == {"c18": "synced"}
    sent = invoices_numbered(sandbox, "A-i18")
    assert [i["CustomerNumber"] for i in sent] == ["AOUC18"]


def test_retry_and_retry_all_start_the_push_job_themselves(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """``outbox.retry`` and ``retry_all`` queue the items again: once they commit, the push
    job sends them (the log's buttons also start a sync run; these do not depend on it)."""
    with app.app_context():
        session = state(app).db.session
        session.query(AccountMapping).filter_by(company_id="acme", key="sales_12").delete()
        session.commit()
    food = InvoiceRowData("Livsmedel", Decimal("1"), Decimal("100.00"), 12)
    put(app, customer("c19"), invoice("i19", customer_id="c19", rows=(food,)),
        invoice("i20", customer_id="c19", rows=(food,)))
    send(app, "i19")
    send(app, "i20")
    assert states(app, "invoice", "i19", "i20") == {"i19": "needs_attention",
                                                    "i20": "needs_attention"}
    assert post_mapping(client, FULL).status_code == 303
    with app.app_context():
        assert outbox.retry("acme", records(app)[("invoice", "i19")].id) is True
    assert states(app, "invoice", "i19", "i20") == {"i19": "synced", "i20": "needs_attention"}
    with app.app_context():
        assert outbox.retry_all("acme") == 1
    assert states(app, "invoice", "i20") == {"i20": "synced"}
    sent = [i for i in fortnox(sandbox, "invoices") if i["CustomerNumber"] == "AOUC19"]
    assert sorted(i["ExternalInvoiceReference2"] for i in sent) == ["A-i19", "A-i20"]


def test_our_customer_is_updated_only_when_its_data_changed(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c11"), invoice("i11", customer_id="c11"))
    send(app, "i11")
    before = sandbox.stats()
    with app.app_context():
        state(app).ext.sync_customer("acme", "c11")  # nothing changed: a no-op
        state(app).db.session.commit()
    assert states(app, "customer", "c11") == {"c11": "synced"}
    assert sandbox.stats() == before
    put(app, customer("c11", name="Kund elva AB", city="Solna"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c11")
        state(app).db.session.commit()
    found = [c for c in fortnox(sandbox, "customers") if c["CustomerNumber"] == "AOUC11"]
    assert [(c["Name"], c["City"]) for c in found] == [("Kund elva AB", "Solna")]
    assert states(app, "customer", "c11") == {"c11": "synced"}
    row = records(app)[("customer", "c11")]
    assert (row.remote_id, row.remote_kind) == ("AOUC11", "created")  # still ours, kept up
    after_edit = sandbox.stats()
    with app.app_context():  # saved again as it is now: compared, not sent
        state(app).ext.sync_customer("acme", "c11")
        state(app).db.session.commit()
    assert sandbox.stats() == after_edit


def test_a_customer_edit_that_changes_nothing_in_fortnox_queues_no_push(
    app: Flask, client: FlaskClient, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(app, customer("c16"), invoice("i16", customer_id="c16"))
    send(app, "i16")
    started = nudges(monkeypatch)
    # The host saved the customer without a change Fortnox would see: it stays synced, and
    # no push job starts for it (not even one that would find nothing to send).
    put(app, customer("c16"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c16")
        state(app).db.session.commit()
    assert started == []
    assert states(app, "customer", "c16") == {"c16": "synced"}
    # A change Fortnox would see does start one.
    put(app, customer("c16", city="Solna"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c16")
        state(app).db.session.commit()
    assert started == ["acme"]


def test_a_customer_deleted_in_fortnox_is_listed_and_never_recreated_silently(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    from aourly_fortnox.signals import sync_failed

    put(app, customer("c12"), invoice("i12", customer_id="c12"))
    send(app, "i12")
    sandbox.admin("DELETE", f"/_admin/companies/{DB}/customers/AOUC12")
    put(app, invoice("i13", customer_id="c12"))
    heard: list[tuple[str, str, str]] = []

    def listen(sender: Any, **item: Any) -> None:
        heard.append((item["object_type"], item["object_id"], item["code"]))

    sync_failed.connect(listen, sender=app)
    try:
        send(app, "i13")  # Fortnox refuses the invoice: its customer is gone
    finally:
        sync_failed.disconnect(listen, sender=app)
    gone = records(app)[("customer", "c12")]
    assert (gone.state, gone.error_code) == (RecordState.NEEDS_ATTENTION, "CUSTOMER_GONE")
    assert records(app)[("invoice", "i13")].error_code == "CUSTOMER_GONE"
    assert not [c for c in fortnox(sandbox, "customers") if c["CustomerNumber"] == "AOUC12"]
    assert not invoices_numbered(sandbox, "A-i13")
    # Both rows say which customer and under which number; the host hears of both.
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert log.count("The customer Kund c12 (AOUC12) was deleted in Fortnox.") == 2
    assert sorted(heard) == [("customer", "c12", "CUSTOMER_GONE"),
                             ("invoice", "i13", "CUSTOMER_GONE")]


def test_an_invoice_is_bookkept_after_create_when_the_owner_chose_it(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    assert post_mapping(client, {**FULL, "bookkeep_invoices": "on"}).status_code == 303
    put(app, customer("c14"), invoice("i14", customer_id="c14"))
    send(app, "i14")
    (found,) = invoices_numbered(sandbox, "A-i14")
    assert found["Booked"] is True
    assert states(app, "invoice", "i14") == {"i14": "synced"}
    put(app, customer("c15"), invoice("i15", customer_id="c15"))
    assert post_mapping(client, FULL).status_code == 303  # the choice taken back
    send(app, "i15")
    (left,) = invoices_numbered(sandbox, "A-i15")
    assert left["Booked"] is False


def test_a_fortnox_outage_leaves_items_waiting_for_their_next_try_until_the_cap(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """Fortnox answers 5xx: the item waits for its next automatic try, after a backoff the
    log shows (between half the base wait and all of it after a first failure); the failure
    at the attempt cap hands it to the owner, with no next try; Retry after the outage sends it
    once."""
    from aourly_fortnox.sync.push import run_push

    put(app, customer("c9"), invoice("i9", customer_id="c9"))
    with app.app_context():
        settings = state(app).settings
        base, cap = float(settings.backoff_base), int(settings.max_attempts)
    sandbox.admin("POST", "/_admin/faults", json={"error_rate": 1.0, "applied_rate": 0})
    try:
        before = utcnow()
        send(app, "i9")
        after = utcnow()
        row = records(app)[("customer", "c9")]
        assert (row.state, row.error_code, row.attempts) == (RecordState.FAILED, "RETRYING", 1)
        assert row.next_attempt_at is not None and row.fortnox_message
        assert before + timedelta(seconds=base / 2) <= row.next_attempt_at
        assert row.next_attempt_at <= after + timedelta(seconds=base)
        waiting = client.get("/integrations/fortnox/log?state=waiting").get_data(as_text=True)
        assert "Kund c9" in waiting and "None: waits for you" not in waiting
        with app.app_context():  # its last try before the cap is due now
            session = state(app).db.session
            session.query(SyncRecord).filter_by(object_id="c9").update(
                {"attempts": cap - 1, "next_attempt_at": utcnow() - timedelta(seconds=1)})
            session.commit()
            run_push("acme")
        row = records(app)[("customer", "c9")]
        assert (row.state, row.error_code, row.attempts, row.next_attempt_at) == (
            RecordState.NEEDS_ATTENTION, "RETRIES_EXHAUSTED", cap, None)
        assert [c for c in fortnox(sandbox, "customers") if c["Name"] == "Kund c9"] == []
    finally:
        sandbox.admin("POST", "/_admin/faults", json={})
    response = client.post(f"/integrations/fortnox/log/{row.id}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert states(app, "invoice", "i9") == {"i9": "synced"}
    assert states(app, "customer", "c9") == {"c9": "synced"}
    assert len([c for c in fortnox(sandbox, "customers") if c["Name"] == "Kund c9"]) == 1


def test_a_failed_invoice_whose_customer_failed_since_waits_for_it_as_pending(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """An invoice whose POST failed (Fortnox down) and whose customer was edited meanwhile
    (its push failed too): at its next try it waits for the customer, as a pending item that
    says for whom, and is not counted as another failed attempt."""
    from aourly_fortnox.sync.push import run_push

    put(app, customer("c36"), invoice("i36", customer_id="c36"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c36")
        state(app).db.session.commit()
    assert states(app, "customer", "c36") == {"c36": "synced"}
    sandbox.admin("POST", "/_admin/faults", json={"error_rate": 1.0, "applied_rate": 0})
    try:
        send(app, "i36")
        assert records(app)[("invoice", "i36")].state == RecordState.FAILED
        put(app, customer("c36", name="Kund c36 AB"))
        with app.app_context():
            state(app).ext.sync_customer("acme", "c36")
            state(app).db.session.commit()
        assert records(app)[("customer", "c36")].state == RecordState.FAILED
        with app.app_context():  # both are due for their next try; Fortnox is still down
            session = state(app).db.session
            session.query(SyncRecord).filter(SyncRecord.object_id.in_(("c36", "i36"))).update(
                {"next_attempt_at": utcnow() - timedelta(seconds=1)})
            session.commit()
            run_push("acme")
        waiting = records(app)[("invoice", "i36")]
        assert (waiting.state, waiting.error_code, waiting.attempts) == (
            RecordState.PENDING, "WAITING_FOR_CUSTOMER", 1)
        assert waiting.error_params == {"customer_id": "c36", "name": "Kund c36 AB"}
    finally:
        sandbox.admin("POST", "/_admin/faults", json={})


def test_an_invoice_whose_customer_edit_needs_the_owner_waits_and_never_goes_with_old_data(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """The customer is in Fortnox, but its latest edit cannot go (a bad country code): a new
    invoice for it waits for the customer rather than reaching Fortnox beside stale data."""
    put(app, customer("c52"), invoice("i52", customer_id="c52"))
    send(app, "i52")
    assert states(app, "customer", "c52") == {"c52": "synced"}
    put(app, customer("c52", country_code="SWE"), invoice("i53", customer_id="c52"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c52")
        state(app).db.session.commit()
    send(app, "i53")
    assert records(app)[("customer", "c52")].error_code == "COUNTRY_CODE_INVALID"
    waiting = records(app)[("invoice", "i53")]
    assert (waiting.state, waiting.error_code) == (RecordState.PENDING, "WAITING_FOR_CUSTOMER")
    assert not invoices_numbered(sandbox, "A-i53")


def test_an_invoice_or_its_customer_gone_from_the_host_is_listed_not_sent(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c54"), invoice("i54", customer_id="c54"), invoice("i55", customer_id="c56"))
    with app.app_context():
        outbox.record_push("acme", "invoice", "i54")
        outbox.record_push("acme", "invoice", "i55")  # its customer c56 the host never had
        adapter = state(app).adapter
        del adapter.invoices[("acme", "i54")]  # type: ignore[attr-defined]
        state(app).db.session.commit()
    gone, orphan = records(app)[("invoice", "i54")], records(app)[("invoice", "i55")]
    assert (gone.state, gone.error_code, gone.error_params) == (
        RecordState.NEEDS_ATTENTION, "HOST_OBJECT_MISSING", {"kind": "invoice", "id": "i54"})
    assert (orphan.state, orphan.error_code, orphan.error_params) == (
        RecordState.NEEDS_ATTENTION, "HOST_OBJECT_MISSING", {"kind": "customer", "id": "c56"})
    assert not invoices_numbered(sandbox, "A-i54") and not invoices_numbered(sandbox, "A-i55")
    log = client.get("/integrations/fortnox/log?state=needs_attention").get_data(as_text=True)
    assert "The invoice i54 no longer exists in" in log
    assert "The customer c56 no longer exists in" in log


def test_an_invoice_whose_customer_was_never_recorded_brings_it_along(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """An invoice row whose customer has no outbox row (a host that recorded only the
    invoice): the push records the customer, the invoice waits a few seconds for it, saying
    for whom, and both reach Fortnox, the customer once."""
    from aourly_fortnox.sync.push import run_push

    put(app, customer("c4"), invoice("i4", customer_id="c4"))
    with app.app_context():
        session = state(app).db.session
        session.add(SyncRecord(company_id="acme", database_number=DB, object_type="invoice",
                               object_id="i4", state=RecordState.PENDING))
        session.commit()
        started = utcnow()
        run_push("acme")
    rows = records(app)
    assert rows[("customer", "c4")].state == RecordState.SYNCED  # recorded, then sent
    waiting = rows[("invoice", "i4")]
    assert (waiting.state, waiting.error_code) == (RecordState.PENDING, "WAITING_FOR_CUSTOMER")
    assert waiting.error_params == {"customer_id": "c4", "name": "Kund c4"}
    assert waiting.next_attempt_at is not None  # a few seconds, not the backoff cap
    assert started < waiting.next_attempt_at < started + timedelta(seconds=60)
    with app.app_context():
        session = state(app).db.session
        session.query(SyncRecord).filter_by(object_id="i4").update(
            {"next_attempt_at": utcnow() - timedelta(seconds=1)})
        session.commit()
        run_push("acme")
    assert states(app, "invoice", "i4") == {"i4": "synced"}
    assert len([c for c in fortnox(sandbox, "customers") if c["Name"] == "Kund c4"]) == 1
    assert [i["CustomerNumber"] for i in invoices_numbered(sandbox, "A-i4")] == [
        rows[("customer", "c4")].remote_id]
