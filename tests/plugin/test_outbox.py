"""The outbox: every item the host hands over is one row per object and Fortnox company, in
the state that tells the truth (pending, held, synced), and the badges read it back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from aourly_fortnox.host import CustomerData, InvoiceData, InvoiceRowData, VoucherData
from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import (
    Connection,
    ConnectionStatus,
    RecordState,
    SyncRecord,
    utcnow,
)
from aourly_fortnox.state import state
from aourly_fortnox.sync import outbox

from .charts import DB_NUMBER, install_chart
from .host import create_host


@pytest.fixture
def app() -> Iterator[Flask]:
    """Rows as the outbox records them, before any worker ran: jobs go to a queue (there is no
    Redis and no worker here), so nothing is pushed inline."""
    app, _, _ = create_host(AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    with app.app_context():
        upgrade_database(app)
    yield app


def rows(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        state(app).db.session.expire_all()
        return sorted(
            (r.company_id, r.database_number, r.object_type, r.object_id, str(r.state),
             r.attempts)
            for r in state(app).db.session.query(SyncRecord)
        )


def test_one_row_per_company_type_and_object(app: Flask) -> None:
    with app.app_context():
        install_chart("acme")
        for company, kind, object_id in (("acme", "invoice", "1"), ("acme", "invoice", "1"),
                                         ("acme", "customer", "1"), ("acme", "invoice", "2"),
                                         ("globex", "invoice", "1")):
            outbox.record_push(company, kind, object_id, commit=True)
    pending, earlier = str(RecordState.PENDING), str(RecordState.EARLIER)
    assert rows(app) == [
        ("acme", DB_NUMBER, "customer", "1", pending, 0),
        ("acme", DB_NUMBER, "invoice", "1", pending, 0),
        ("acme", DB_NUMBER, "invoice", "2", pending, 0),
        # never connected: earlier (issue 16; it was "held"), no Fortnox company
        ("globex", 0, "invoice", "1", earlier, 0),
    ]


def test_a_new_row_is_due_now(app: Flask) -> None:
    with app.app_context():
        install_chart()  # connected (before the first connection a row is *earlier*)
        before = utcnow()
        record = outbox.record_push("acme", "invoice", "1", commit=True)
        assert record.attempts == 0
        assert record.next_attempt_at is not None
        due = record.next_attempt_at
        due = due if due.tzinfo else due.replace(tzinfo=before.tzinfo)
        assert before <= due <= utcnow()


def mark_synced(app: Flask, kind: str, object_id: str, remote_id: str | None) -> None:
    with app.app_context():
        db = state(app).db
        record = db.session.query(SyncRecord).filter_by(object_type=kind,
                                                         object_id=object_id).one()
        record.state = RecordState.SYNCED
        record.remote_id = remote_id
        record.next_attempt_at = None
        db.session.commit()


def state_of(app: Flask, kind: str, object_id: str) -> tuple[str, bool]:
    with app.app_context():
        record = state(app).db.session.query(SyncRecord).filter_by(
            object_type=kind, object_id=object_id).one()
        return str(record.state), record.next_attempt_at is not None


def test_a_synced_invoice_sent_again_is_checked_again_and_an_edited_customer_goes_again(
    app: Flask,
) -> None:
    with app.app_context():
        install_chart()
        outbox.record_push("acme", "invoice", "1", commit=True)
        outbox.record_push("acme", "customer", "7", commit=True)
    mark_synced(app, "invoice", "1", "F-1001")
    mark_synced(app, "customer", "7", "C-7")
    with app.app_context():
        outbox.record_push("acme", "invoice", "1", commit=True)  # sent again, maybe edited
        outbox.record_push("acme", "customer", "7", commit=True)  # the owner edited it
    # Both are due again and keep their Fortnox ids: the push job compares what it would send
    # with what it sent (an unchanged invoice costs no request and creates nothing, see
    # tests/engine/test_push.py; an edited one is PUT while Fortnox allows it).
    assert state_of(app, "invoice", "1") == (str(RecordState.PENDING), True)
    assert state_of(app, "customer", "7") == (str(RecordState.PENDING), True)
    with app.app_context():
        kept = {r.object_type: r.remote_id for r in state(app).db.session.query(SyncRecord)}
    assert kept == {"invoice": "F-1001", "customer": "C-7"}


def test_synced_without_a_fortnox_id_is_sent_again(app: Flask) -> None:
    with app.app_context():
        install_chart()
        outbox.record_push("acme", "invoice", "1", commit=True)
    mark_synced(app, "invoice", "1", None)  # Fortnox never told us its number
    with app.app_context():
        outbox.record_push("acme", "invoice", "1", commit=True)
    assert state_of(app, "invoice", "1") == (str(RecordState.PENDING), True)


def test_after_a_switch_of_fortnox_company_the_same_object_gets_its_own_row(
    app: Flask,
) -> None:
    with app.app_context():
        install_chart()
        outbox.record_push("acme", "invoice", "1", commit=True)
        db = state(app).db
        db.session.query(Connection).one().database_number = 2002
        db.session.commit()
        outbox.record_push("acme", "invoice", "1", commit=True)
        states = outbox.sync_states("acme", "invoice", ["1"])
    assert [r[:4] for r in rows(app)] == [("acme", DB_NUMBER, "invoice", "1"),
                                         ("acme", 2002, "invoice", "1")]
    assert states == {"1": str(RecordState.PENDING)}


def test_badges_prefer_the_current_fortnox_companys_row(app: Flask) -> None:
    with app.app_context():
        db = state(app).db
        # Recorded before the first connect (no Fortnox company yet: database 0, earlier)...
        outbox.record_push("acme", "invoice", "1", commit=True)
        outbox.record_push("acme", "invoice", "2", commit=True)
        install_chart()
        # ...then sent to the current Fortnox company.
        db.session.add(SyncRecord(company_id="acme", database_number=DB_NUMBER,
                                  object_type="invoice", object_id="1",
                                  state=RecordState.SYNCED, remote_id="F-1"))
        db.session.add(SyncRecord(company_id="acme", database_number=999, object_type="invoice",
                                  object_id="3", state=RecordState.SYNCED, remote_id="F-3"))
        db.session.add(SyncRecord(company_id="globex", database_number=0, object_type="invoice",
                                  object_id="4", state=RecordState.HELD))
        db.session.add(SyncRecord(company_id="acme", database_number=DB_NUMBER,
                                  object_type="customer", object_id="2",
                                  state=RecordState.SYNCED, remote_id="C-2"))
        db.session.commit()
        states = outbox.sync_states("acme", "invoice", ["1", "2", "3", "4", "5"])
        assert outbox.sync_states("acme", "invoice", []) == {}
    assert states == {"1": str(RecordState.SYNCED), "2": str(RecordState.EARLIER)}


def test_held_items_go_to_the_current_fortnox_company_when_released(app: Flask) -> None:
    with app.app_context():
        install_chart()
        conn = state(app).db.session.query(Connection).filter_by(company_id="acme").one()
        conn.status = ConnectionStatus.DISCONNECTED
        state(app).db.session.commit()
        # Held is for sends while Disconnected after a connection; a company that never
        # connected records them as *earlier* (issue 16).
        outbox.record_push("acme", "invoice", "1", commit=True)
        outbox.record_push("globex", "invoice", "9", commit=True)
        assert outbox.send_held("acme") is None  # disconnected: they stay held
        conn.status = ConnectionStatus.CONNECTED
        state(app).db.session.commit()
        assert [r.object_id for r in outbox.held_records("acme")] == ["1"]
        assert outbox.send_held("acme") == 1
        assert outbox.held_records("acme") == []
    assert rows(app) == [("acme", DB_NUMBER, "invoice", "1", str(RecordState.PENDING), 0),
                         ("globex", 0, "invoice", "9", str(RecordState.EARLIER), 0)]
    assert state_of(app, "invoice", "1")[1]


def test_backfill_without_a_host_adapter_records_nothing(app: Flask) -> None:
    with app.app_context():
        state(app).adapter = None
        assert outbox.backfill("acme") == 0
    assert rows(app) == []


def test_retry_puts_a_failed_item_back_due_now(app: Flask) -> None:
    with app.app_context():
        install_chart()
        db = state(app).db
        for object_id, record_state in (("1", RecordState.FAILED), ("2", RecordState.SYNCED),
                                        ("3", RecordState.NEEDS_ATTENTION)):
            db.session.add(SyncRecord(company_id="acme", database_number=DB_NUMBER,
                                      object_type="invoice", object_id=object_id,
                                      state=record_state, attempts=5))
        db.session.commit()
        ids = {r.object_id: r.id for r in db.session.query(SyncRecord)}
        assert outbox.retry("acme", ids["1"]) is True
        assert outbox.retry("acme", ids["2"]) is True  # allowed, but a synced item stays
        assert outbox.retry("globex", ids["3"]) is False
        assert outbox.retry("acme", 10_000) is False
    assert state_of(app, "invoice", "1") == (str(RecordState.PENDING), True)
    assert state_of(app, "invoice", "2") == (str(RecordState.SYNCED), False)
    with app.app_context():
        assert outbox.retry_all("acme") == 1
    assert state_of(app, "invoice", "3") == (str(RecordState.PENDING), True)
    assert [r[4:] for r in rows(app)] == [(str(RecordState.PENDING), 0),
                                         (str(RecordState.SYNCED), 5),
                                         (str(RecordState.PENDING), 0)]


def test_the_log_lists_the_latest_problem_first(app: Flask) -> None:
    from datetime import timedelta

    with app.app_context():
        db = state(app).db
        now = utcnow()
        for object_id, age in (("old", 30), ("new", 1), ("middle", 10)):
            db.session.add(SyncRecord(company_id="acme", object_type="invoice",
                                      object_id=object_id, state=RecordState.FAILED,
                                      updated_at=now - timedelta(minutes=age)))
        db.session.commit()
        assert [r.object_id for r in outbox.problem_records("acme")] == ["new", "middle", "old"]


def test_two_unconnected_companies_keep_their_own_rows_for_the_same_object_id(
    app: Flask,
) -> None:
    with app.app_context():
        outbox.record_push("acme", "invoice", "1", commit=True)
        outbox.record_push("globex", "invoice", "1", commit=True)
        outbox.record_push("globex", "invoice", "1", commit=True)
    assert [r[:4] for r in rows(app)] == [("acme", 0, "invoice", "1"),
                                         ("globex", 0, "invoice", "1")]


def test_badges_answer_for_the_asked_objects_and_the_current_company_wins(app: Flask) -> None:
    with app.app_context():
        db = state(app).db
        outbox.record_push("acme", "invoice", "1", commit=True)  # earlier: before the connect
        outbox.record_push("acme", "invoice", "2", commit=True)
        install_chart()
        # Sent after connecting, and failed there: the badge must say failed, not held.
        db.session.add(SyncRecord(company_id="acme", database_number=DB_NUMBER,
                                  object_type="invoice", object_id="1",
                                  state=RecordState.FAILED))
        db.session.commit()
        assert outbox.sync_states("acme", "invoice", ["1"]) == {"1": str(RecordState.FAILED)}


def test_releasing_held_items_releases_only_the_owners_company(app: Flask) -> None:
    """Two companies, both disconnected after a connection, both with held items: Acme's owner
    presses Send held items after reconnecting; Globex's item stays held, for Globex's own
    Fortnox company, until Globex's owner decides."""
    with app.app_context():
        install_chart("acme")
        install_chart("globex")
        db = state(app).db
        globex = db.session.query(Connection).filter_by(company_id="globex").one()
        globex.database_number = DB_NUMBER + 1
        for conn in db.session.query(Connection):
            conn.status = ConnectionStatus.DISCONNECTED
        db.session.commit()
        outbox.record_push("acme", "invoice", "1", commit=True)
        outbox.record_push("globex", "invoice", "9", commit=True)
        acme = db.session.query(Connection).filter_by(company_id="acme").one()
        acme.status = ConnectionStatus.CONNECTED
        db.session.commit()
        assert outbox.send_held("acme") == 1
        assert [r.object_id for r in outbox.held_records("globex")] == ["9"]
    held = str(RecordState.HELD)
    assert [r for r in rows(app) if r[0] == "globex"] == [
        ("globex", DB_NUMBER + 1, "invoice", "9", held, 0)]
    assert [r[4] for r in rows(app) if r[0] == "acme"] == [str(RecordState.PENDING)]



def sent(app: Flask, *invoices: tuple[str, str]) -> None:
    """The host has sent these invoices (invoice id, customer id)."""
    adapter = state(app).adapter
    row = InvoiceRowData("Konsulttimmar", Decimal("1"), Decimal("800.00"), 25)
    for invoice_id, customer_id in invoices:
        adapter.customers[("acme", customer_id)] = CustomerData(  # type: ignore[attr-defined]
            id=customer_id, name=f"Kund {customer_id}")
        adapter.invoices[("acme", invoice_id)] = InvoiceData(  # type: ignore[attr-defined]
            id=invoice_id, number=f"A-{invoice_id}", customer_id=customer_id,
            invoice_date=date.today(), due_date=date.today(), rows=(row,))


def test_send_earlier_moves_every_earlier_item_and_counts_the_invoices(app: Flask) -> None:
    sent(app, ("1", "c1"), ("2", "c1"), ("3", "c3"))
    with app.app_context():
        # Before the first connection: invoice 1, its customer, invoice 2 (in that order).
        for kind, object_id in (("invoice", "1"), ("customer", "c1"), ("invoice", "2")):
            outbox.record_push("acme", kind, object_id, commit=True)
        install_chart()
        # The customer was recorded again since, for this Fortnox company: that row carries
        # it, the earlier one goes (and the items after it still move).
        db = state(app).db
        db.session.add(SyncRecord(company_id="acme", database_number=DB_NUMBER,
                                  object_type="customer", object_id="c1",
                                  state=RecordState.SYNCED, remote_id="C-1"))
        db.session.commit()
        before = utcnow()
        # Invoices 1 and 2, and 3, which the host sent before the plugin was installed.
        assert outbox.send_earlier("acme") == 3
        assert outbox.earlier_records("acme") == []
    pending = str(RecordState.PENDING)
    assert rows(app) == [
        ("acme", DB_NUMBER, "customer", "c1", str(RecordState.SYNCED), 0),
        ("acme", DB_NUMBER, "customer", "c3", pending, 0),
        ("acme", DB_NUMBER, "invoice", "1", pending, 0),
        ("acme", DB_NUMBER, "invoice", "2", pending, 0),
        ("acme", DB_NUMBER, "invoice", "3", pending, 0),
    ]
    with app.app_context():
        for record in state(app).db.session.query(SyncRecord).filter_by(state=pending):
            due = record.next_attempt_at
            assert due is not None  # due now, not left for a later retry
            due = due if due.tzinfo else due.replace(tzinfo=before.tzinfo)
            assert before <= due <= utcnow()


def test_send_earlier_while_disconnected_is_refused_and_changes_nothing(app: Flask) -> None:
    sent(app, ("1", "c1"), ("2", "c2"))
    with app.app_context():
        outbox.record_push("acme", "invoice", "1", commit=True)  # before the first connection
        install_chart()
        db = state(app).db
        db.session.query(Connection).one().status = ConnectionStatus.DISCONNECTED
        db.session.commit()
        before = rows(app)
        assert outbox.send_earlier("acme") is None
    assert rows(app) == before == [("acme", 0, "invoice", "1", str(RecordState.EARLIER), 0)]


def test_the_current_fortnox_companys_row_wins_the_badge_whatever_the_states_are(
    app: Flask,
) -> None:
    """The badge is the current Fortnox company's row, never the unbound one's, even where
    the unbound one's state would sort after it (held after failed)."""
    with app.app_context():
        install_chart()
        db = state(app).db
        for db_number, record_state in ((0, RecordState.HELD), (DB_NUMBER, RecordState.FAILED)):
            db.session.add(SyncRecord(company_id="acme", database_number=db_number,
                                      object_type="invoice", object_id="1", state=record_state))
        db.session.commit()
        assert outbox.sync_states("acme", "invoice", ["1"]) == {"1": str(RecordState.FAILED)}


def test_without_a_host_adapter_a_synced_customer_sent_again_is_left_to_the_push(
    app: Flask,
) -> None:
    """No adapter to read the customer from: the outbox cannot tell whether it changed, so
    it is due again (the push job decides), rather than failing the host's request."""
    with app.app_context():
        install_chart()
        outbox.record_push("acme", "customer", "7", commit=True)
    mark_synced(app, "customer", "7", "C-7")
    with app.app_context():
        state(app).adapter = None
        outbox.record_push("acme", "customer", "7", commit=True)
    assert state_of(app, "customer", "7") == (str(RecordState.PENDING), True)


def labels(app: Flask) -> dict[tuple[str, str], str | None]:
    with app.app_context():
        state(app).db.session.expire_all()
        return {(r.object_type, r.object_id): r.label
                for r in state(app).db.session.query(SyncRecord)}


def test_each_item_is_labelled_as_the_owner_knows_it(app: Flask) -> None:
    sent(app, ("1", "c1"))
    adapter = state(app).adapter
    adapter.customers[("acme", "c2")] = CustomerData(  # type: ignore[attr-defined]
        id="c2", name="Å" * 300)
    adapter.vouchers[("acme", "v1")] = VoucherData(  # type: ignore[attr-defined]
        id="v1", description="Utbetalning Stripe 2024-05", transaction_date=date.today())
    with app.app_context():
        install_chart()
        for kind, object_id in (("invoice", "1"), ("customer", "c2"), ("voucher", "v1"),
                                ("voucher", "v2")):  # v2: the host no longer has it
            outbox.record_push("acme", kind, object_id, commit=True)
    assert labels(app) == {("invoice", "1"): "A-1 · Kund c1",
                           ("customer", "c2"): "Å" * 255,  # the column's length
                           ("voucher", "v1"): "Utbetalning Stripe 2024-05",
                           ("voucher", "v2"): None}


def test_an_invoice_brings_its_customer_unless_the_companys_customer_is_synced(
    app: Flask,
) -> None:
    sent(app, ("1", "c1"), ("2", "c2"), ("3", "c3"))
    with app.app_context():
        install_chart()
        db = state(app).db
        for company, customer_id, record_state in (
            ("acme", "c1", RecordState.SYNCED),  # in Fortnox (edited since: no matter)
            ("acme", "c3", RecordState.FAILED),  # not in Fortnox: goes again with its invoice
            ("globex", "c2", RecordState.SYNCED),  # another company's customer of that id
        ):
            db.session.add(SyncRecord(company_id=company, database_number=DB_NUMBER,
                                      object_type="customer", object_id=customer_id,
                                      state=record_state, remote_id="C-1", attempts=5))
        db.session.commit()
        for invoice_id in ("1", "2", "3"):
            outbox.record_invoice("acme", invoice_id)
        db.session.commit()
    pending, synced = str(RecordState.PENDING), str(RecordState.SYNCED)
    assert [r for r in rows(app) if r[2] == "customer"] == [
        ("acme", DB_NUMBER, "customer", "c1", synced, 5),
        ("acme", DB_NUMBER, "customer", "c2", pending, 0),
        ("acme", DB_NUMBER, "customer", "c3", pending, 0),
        ("globex", DB_NUMBER, "customer", "c2", synced, 5),
    ]
    assert [r[3:5] for r in rows(app) if r[2] == "invoice"] == [
        ("1", pending), ("2", pending), ("3", pending)]


def test_without_a_host_adapter_an_invoice_is_recorded_alone(app: Flask) -> None:
    with app.app_context():
        install_chart()
        state(app).adapter = None
        outbox.record_invoice("acme", "1")
        state(app).db.session.commit()
    assert rows(app) == [("acme", DB_NUMBER, "invoice", "1", str(RecordState.PENDING), 0)]


def test_an_earlier_row_of_another_company_or_type_is_not_the_items_own(app: Flask) -> None:
    """Before the first connection: Globex's invoice 1 and Acme's customer 1 (host ids are
    per table). Acme's invoice 1, sent once connected, gets its own row and goes."""
    with app.app_context():
        outbox.record_push("globex", "invoice", "1", commit=True)
        outbox.record_push("acme", "customer", "1", commit=True)
        install_chart("acme")
        outbox.record_push("acme", "invoice", "1", commit=True)
    earlier = str(RecordState.EARLIER)
    assert rows(app) == [("acme", 0, "customer", "1", earlier, 0),
                         ("acme", DB_NUMBER, "invoice", "1", str(RecordState.PENDING), 0),
                         ("globex", 0, "invoice", "1", earlier, 0)]


def test_an_earlier_item_sent_again_after_connecting_still_waits_for_the_owners_offer(
    app: Flask,
) -> None:
    sent(app, ("1", "c1"))
    with app.app_context():
        outbox.record_push("acme", "invoice", "1", commit=True)  # before the first connection
        install_chart()
        state(app).adapter.invoices[("acme", "1")] = InvoiceData(  # type: ignore[attr-defined]
            id="1", number="A-1b", customer_id="c1", invoice_date=date.today(),
            due_date=date.today(), rows=())
        outbox.record_push("acme", "invoice", "1", commit=True)  # edited and sent again
    # One row, still earlier (never sent by itself), under its new name.
    assert rows(app) == [("acme", 0, "invoice", "1", str(RecordState.EARLIER), 0)]
    assert labels(app) == {("invoice", "1"): "A-1b · Kund c1"}


def test_an_earlier_customer_needed_by_an_invoice_sent_after_connecting_goes_with_it(
    app: Flask,
) -> None:
    sent(app, ("1", "c1"), ("2", "c1"))
    with app.app_context():
        outbox.record_invoice("acme", "1")  # before the first connection: both earlier
        state(app).db.session.commit()
        install_chart()
        outbox.record_invoice("acme", "2")
        state(app).db.session.commit()
    # The customer's one row moved to this Fortnox company and goes first; invoice 1 still
    # waits for the owner's offer.
    pending = str(RecordState.PENDING)
    assert rows(app) == [("acme", 0, "invoice", "1", str(RecordState.EARLIER), 0),
                         ("acme", DB_NUMBER, "customer", "c1", pending, 0),
                         ("acme", DB_NUMBER, "invoice", "2", pending, 0)]


def test_an_earlier_customer_with_a_row_in_this_fortnox_company_is_not_moved_there(
    app: Flask,
) -> None:
    sent(app, ("1", "c1"), ("2", "c1"))
    with app.app_context():
        outbox.record_push("acme", "customer", "c1", commit=True)  # before the first connection
        install_chart()
        db = state(app).db
        db.session.add(SyncRecord(company_id="acme", database_number=DB_NUMBER,
                                  object_type="customer", object_id="c1",
                                  state=RecordState.FAILED, attempts=2))
        db.session.commit()
        # Its row here carries the customer: the earlier one is not moved onto it (the host's
        # request would fail on the unique key).
        outbox.record_invoice("acme", "2")
        db.session.commit()
    assert [r[:5] for r in rows(app)] == [
        ("acme", 0, "customer", "c1", str(RecordState.EARLIER)),
        ("acme", DB_NUMBER, "customer", "c1", str(RecordState.FAILED)),
        ("acme", DB_NUMBER, "invoice", "2", str(RecordState.PENDING))]
