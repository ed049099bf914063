"""Exactly once: an earlier POST whose answer was lost is adopted, never repeated; a job that
lost its lease writes nothing; two installations never adopt each other's invoices."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.connection.clients import client_for
from aourly_fortnox.models import RecordState, SyncRecord, utcnow
from aourly_fortnox.state import state
from aourly_fortnox.sync import dispatch, leases, push
from aourly_fortnox.sync.references import installation_id

from ..plugin.conftest import login
from ..plugin.flow import connect, sandbox_host
from .conftest import DB, customer, fortnox, invoice, invoices_numbered, put, send


def row(app: Flask, object_type: str, object_id: str) -> SyncRecord:
    with app.app_context():
        session = state(app).db.session
        session.expire_all()
        found = session.query(SyncRecord).filter_by(object_type=object_type,
                                                    object_id=object_id).one()
        session.expunge(found)
        return found


def job_context(app: Flask) -> push.PushContext:
    """What a push job of acme would hold (inside an app context)."""
    return push.PushContext(
        company_id="acme", database_number=DB, installation=installation_id(),
        client=client_for("acme"), adapter=state(app).adapter,  # type: ignore[arg-type]
        lease_seconds=60, bookkeep=False,
    )


def claimed_then_taken_over(session: Any) -> leases.Claim:
    """Commit the recorded row without a push job (we play one by hand), claim it, then let
    another job take it over, as if this one had stalled past its lease."""
    session.info.pop(dispatch.PENDING_NUDGES, None)
    session.commit()
    (claim,) = leases.claim_due("acme", DB, 10, lease_seconds=60)
    session.query(SyncRecord).filter_by(id=claim.record_id).update({"lease_token": "another-job"})
    session.commit()
    return claim


def test_a_post_whose_answer_was_lost_is_adopted_not_repeated(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c5"), invoice("i5", customer_id="c5"))
    send(app, "i5")
    document = row(app, "invoice", "i5").remote_id
    assert [i["DocumentNumber"] for i in invoices_numbered(sandbox, "A-i5")] == [document]
    # As if the worker died after Fortnox created it and before we stored the answer.
    with app.app_context():
        session = state(app).db.session
        record = session.query(SyncRecord).filter_by(object_id="i5").one()
        record.state, record.remote_id, record.payload_hash = RecordState.PENDING, None, None
        record.post_started_at = utcnow()
        session.commit()
        dispatch.nudge("acme")
    adopted = row(app, "invoice", "i5")
    assert (adopted.state, adopted.remote_id) == (RecordState.SYNCED, document)
    assert len(invoices_numbered(sandbox, "A-i5")) == 1  # found by our reference: no second invoice


def test_a_job_that_lost_its_lease_sends_and_writes_nothing(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c6"), invoice("i6", customer_id="c6"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c6")
        session = state(app).db.session
        claim = claimed_then_taken_over(session)
        before = sandbox.stats()
        push.push_one(job_context(app), claim)
    stale = row(app, "customer", "c6")
    assert (stale.state, stale.remote_id, stale.lease_token) == ("pending", None, "another-job")
    assert not [c for c in fortnox(sandbox, "customers") if c["CustomerNumber"] == "AOUC6"]
    writes = {k: v["requests"] for k, v in sandbox.stats().items()}
    assert writes == {k: v["requests"] for k, v in before.items()}  # not one request


def test_two_installations_on_one_fortnox_company_never_adopt_each_others_invoices(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    shared = customer("c7", organisation_number="556036-0793")
    put(app, shared, invoice("i7", customer_id="c7"))
    send(app, "i7")
    first = row(app, "invoice", "i7").remote_id
    staging = sandbox_host(sandbox)  # its own database, so its own installation id
    other = staging.test_client()
    login(other)
    assert connect(other).status_code == 303
    put(staging, shared, invoice("i7", customer_id="c7"))
    with staging.app_context():
        assert installation_id() != _installation(app)
        # Staging's own earlier attempt is unknown: it searches for *its* reference only.
        state(staging).ext.sync_invoice("acme", "i7")
        session = state(staging).db.session
        session.flush()
        session.query(SyncRecord).filter_by(object_type="invoice").update(
            {"post_started_at": utcnow()})
        session.commit()
    second = row(staging, "invoice", "i7").remote_id
    assert second is not None and second != first
    both = invoices_numbered(sandbox, "A-i7")
    assert sorted(i["DocumentNumber"] for i in both) == sorted([first, second])
    refs = {i["ExternalInvoiceReference1"] for i in invoices_numbered(sandbox, "A-i7")}
    assert len(refs) == 2


def _installation(app: Flask) -> str:
    with app.app_context():
        return installation_id()


def test_a_job_that_lost_its_lease_does_not_update_a_customer_either(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c8"), invoice("i8", customer_id="c8"))
    send(app, "i8")
    put(app, customer("c8", name="Nytt namn AB"))
    with app.app_context():
        state(app).ext.sync_customer("acme", "c8")
        session = state(app).db.session
        claim = claimed_then_taken_over(session)
        before = sandbox.stats()
        push.push_one(job_context(app), claim)
    assert [c["Name"] for c in fortnox(sandbox, "customers")
            if c["CustomerNumber"] == "AOUC8"] == ["Kund c8"]  # no PUT reached Fortnox
    assert {k: v["requests"] for k, v in sandbox.stats().items()} == {
        k: v["requests"] for k, v in before.items()}
    assert row(app, "customer", "c8").state == "pending"

