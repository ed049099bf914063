"""Which rows a push job may claim (sync/leases.py): due now, of the company's current Fortnox
company, and not held by a live lease. ``is_due`` is what a finished job and the import ask
before nudging the company's push again: a wrong "no" leaves items waiting for the next tick,
a wrong "yes" queues jobs that find nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from aourly_fortnox.models import RecordState, SyncRecord, utcnow
from aourly_fortnox.state import state
from aourly_fortnox.sync import leases

from .conftest import DB


def add(app: Flask, **fields: Any) -> None:
    values: dict[str, Any] = {"company_id": "acme", "database_number": DB,
                              "object_type": "invoice", "state": RecordState.PENDING}
    values.update(fields)
    with app.app_context():
        session = state(app).db.session
        session.add(SyncRecord(object_id=f"r{session.query(SyncRecord).count()}", **values))
        session.commit()


def due(app: Flask) -> bool:
    with app.app_context():
        return leases.is_due("acme", DB)


def test_only_an_item_that_a_job_could_claim_now_counts_as_due(app: Flask) -> None:
    later, earlier = utcnow() + timedelta(hours=1), utcnow() - timedelta(seconds=1)
    assert not due(app)  # nothing at all
    add(app, company_id="globex")  # another company's
    add(app, database_number=DB + 1)  # another Fortnox company's (before a switch)
    add(app, state=RecordState.FAILED, next_attempt_at=later)  # waits for its next try
    add(app, lease_token="a-job", lease_expires_at=later)  # a live job holds it
    add(app, object_type="account")  # not a type the push sends
    for other in (RecordState.HELD, RecordState.EARLIER, RecordState.SYNCED,
                  RecordState.NEEDS_ATTENTION):
        add(app, state=other)
    assert not due(app)
    with app.app_context():  # claiming finds nothing either
        assert leases.claim_due("acme", DB, 10, lease_seconds=60) == []
    add(app, state=RecordState.FAILED, next_attempt_at=earlier)  # its next try has come
    assert due(app)


def test_an_item_whose_job_died_is_due_once_its_lease_has_run_out(app: Flask) -> None:
    add(app, lease_token="a-dead-job", lease_expires_at=utcnow() - timedelta(seconds=1))
    assert due(app)
    with app.app_context():
        (claim,) = leases.claim_due("acme", DB, 10, lease_seconds=60)
        assert claim.token != "a-dead-job"
        assert not leases.is_due("acme", DB)  # now held by the new job's live lease


def test_a_job_still_at_work_renews_its_lease_and_a_dead_one_is_taken_over_after_it(
    app: Flask,
) -> None:
    """Right before each request to Fortnox a job renews its lease for ``lease_seconds``:
    meanwhile no other job can take the row, and once that time has passed without a renewal
    (the job died) another job can."""
    import time

    add(app)
    with app.app_context():
        (claim,) = leases.claim_due("acme", DB, 10, lease_seconds=60)
        assert leases.still_ours(claim, lease_seconds=0.5)  # renewed: held, for 0.5 s now
        assert not leases.is_due("acme", DB)
    time.sleep(0.6)
    with app.app_context():
        assert leases.is_due("acme", DB)  # its lease ran out: another job may take it
        (taken,) = leases.claim_due("acme", DB, 10, lease_seconds=60)
        assert taken.record_id == claim.record_id and taken.token != claim.token
        assert not leases.still_ours(claim, lease_seconds=60)  # the old job must stop


def test_a_job_that_lost_its_lease_writes_nothing(app: Flask) -> None:
    """The fence: a stalled job whose row another job took over cannot store its result
    (it would mark the row synced while the new job is sending it)."""
    add(app)
    with app.app_context():
        (stalled,) = leases.claim_due("acme", DB, 10, lease_seconds=60)
        session = state(app).db.session
        session.query(SyncRecord).filter_by(id=stalled.record_id).update(
            {"lease_token": "the-new-job"})
        session.commit()
        assert not leases.write(stalled, state=RecordState.SYNCED, remote_id="17")
        session.expire_all()
        row = session.get(SyncRecord, stalled.record_id)
        assert row is not None
        assert (row.state, row.remote_id, row.lease_token) == (
            RecordState.PENDING, None, "the-new-job")
        assert leases.write(leases.Claim(stalled.record_id, "the-new-job"),
                            state=RecordState.SYNCED, remote_id="18")
        session.expire_all()
        row = session.get(SyncRecord, stalled.record_id)
        assert row is not None and (row.state, row.remote_id, row.lease_token) == (
            RecordState.SYNCED, "18", None)


def test_a_job_claims_at_most_its_batch_customers_first_then_by_age(app: Flask) -> None:
    """A customer goes before the invoices that name it even when the invoice was recorded
    first; a job takes no more than its batch, and leaves the rest to the next job."""
    with app.app_context():
        session = state(app).db.session
        for kind, object_id in (("invoice", "i1"), ("invoice", "i2"), ("customer", "c1"),
                                ("voucher", "v1"), ("customer", "c2")):
            session.add(SyncRecord(company_id="acme", database_number=DB, object_type=kind,
                                   object_id=object_id, state=RecordState.PENDING))
        session.commit()
        ids = {r.id: r.object_id for r in session.query(SyncRecord)}
        first = leases.claim_due("acme", DB, 3, lease_seconds=60)
        assert [ids[c.record_id] for c in first] == ["c1", "c2", "i1"]
        rest = leases.claim_due("acme", DB, 3, lease_seconds=60)
        assert [ids[c.record_id] for c in rest] == ["i2", "v1"]
        assert leases.claim_due("acme", DB, 3, lease_seconds=60) == []


def test_a_claimed_row_whose_job_never_came_back_is_due_once_its_first_lease_ends(
    app: Flask,
) -> None:
    import time

    add(app)
    with app.app_context():
        (claim,) = leases.claim_due("acme", DB, 10, lease_seconds=0.5)
        assert not leases.is_due("acme", DB)
    time.sleep(0.6)
    with app.app_context():
        assert leases.is_due("acme", DB)


def test_each_item_that_newly_needs_the_owner_is_heard_of_once_among_others(
    app: Flask,
) -> None:
    from aourly_fortnox.signals import sync_failed

    heard: list[str] = []

    def listen(sender: Any, **item: Any) -> None:
        heard.append(item["object_id"])

    for _ in range(3):
        add(app)  # r0, r1, r2: r2 stays pending, never the owner's
    sync_failed.connect(listen, sender=app)
    try:
        with app.app_context():
            claims = leases.claim_due("acme", DB, 2, lease_seconds=60)
            for claim in claims:
                assert leases.write(claim, state=RecordState.NEEDS_ATTENTION,
                                    error_code="ACCOUNT_UNMAPPED")
    finally:
        sync_failed.disconnect(listen, sender=app)
    assert heard == ["r0", "r1"]
