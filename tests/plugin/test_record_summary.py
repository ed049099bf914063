"""The card's counts come from a summary kept by triggers in the same transaction as every
state change, whichever code path wrote it; the migration builds it for existing rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import Connection, ConnectionStatus, RecordState, SyncRecord
from aourly_fortnox.queries import counted_records, record_counts, record_summary
from aourly_fortnox.state import state
from aourly_fortnox.sync import leases, outbox
from aourly_fortnox.sync.forget import forget_company

from .charts import DB_NUMBER, install_chart
from .conftest import PG_ADMIN_URL
from .host import create_host


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'summary.db'}"
    # Jobs go to a queue that is never worked: rows stay where the outbox puts them.
    app, _, db = create_host(url, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    with app.app_context():
        upgrade_database(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def agrees(app: Flask, company: str = "acme") -> dict[str, int]:
    with app.app_context():
        state(app).db.session.expire_all()
        summary, counted = record_counts(company), counted_records(company)
        state(app).db.session.rollback()
    assert summary == counted
    return summary


def test_every_writer_keeps_the_summary_equal_to_the_rows(any_app: Flask) -> None:
    app = any_app
    with app.app_context():
        outbox.record_push("acme", "invoice", "1", commit=True)  # never connected: earlier
        outbox.record_push("globex", "invoice", "1", commit=True)
    assert agrees(app)["earlier"] == 1
    with app.app_context():
        install_chart()  # connected
        for n in range(2, 8):
            outbox.record_push("acme", "invoice", str(n), commit=True)
    assert agrees(app)["pending"] == 6
    with app.app_context():
        claims = leases.claim_due("acme", DB_NUMBER, 10, 60)
        assert len(claims) == 6
        leases.write(claims[0], state=RecordState.SYNCED)
        leases.write(claims[1], state=RecordState.FAILED, attempts=1)
        leases.write(claims[2], state=RecordState.NEEDS_ATTENTION, error_code="X")
        leases.write(claims[3], state=RecordState.NEEDS_ATTENTION, error_code="X")
        leases.release(claims[4:])  # no state change
    counts = agrees(app)
    assert (counts["synced"], counts["failed"], counts["needs_attention"], counts["pending"]) \
        == (1, 1, 2, 2)
    with app.app_context():
        assert outbox.retry_all("acme") == 3
    assert agrees(app)["pending"] == 5
    with app.app_context():
        session = state(app).db.session
        conn = session.query(Connection).filter_by(company_id="acme").one()
        conn.status = ConnectionStatus.DISCONNECTED
        session.commit()
        outbox.record_push("acme", "invoice", "8", commit=True)  # held
        conn.status = ConnectionStatus.CONNECTED
        session.commit()
    assert agrees(app)["held"] == 1
    with app.app_context():
        assert outbox.send_held("acme") == 1
        assert outbox.send_earlier("acme") == 1
    counts = agrees(app)
    assert (counts["held"], counts["earlier"], counts["pending"]) == (0, 0, 7)
    with app.app_context():  # a raw bulk change and a delete (``forget``) are counted too
        session = state(app).db.session
        session.execute(sa.update(SyncRecord).where(SyncRecord.object_id.in_(("2", "3")))
                        .values(state=RecordState.SYNCED))
        session.execute(sa.delete(SyncRecord).where(SyncRecord.object_id == "4"))
        session.commit()
    counts = agrees(app)
    assert (counts["synced"], counts["pending"]) == (2, 5)  # "2" was synced already
    assert agrees(app, "globex")["earlier"] == 1
    with app.app_context():
        session = state(app).db.session
        session.execute(sa.update(SyncRecord).values(state=RecordState.SYNCED))
        session.rollback()  # a rolled-back change never reaches the summary
        assert record_summary("acme")["invoice"]["synced"] == 2


def test_a_rolled_back_host_transaction_leaves_the_summary_alone(any_app: Flask) -> None:
    app = any_app
    with app.app_context():
        install_chart()
        state(app).ext.sync_invoice("acme", "1")
        state(app).db.session.rollback()
    assert agrees(app) == {s.value: 0 for s in RecordState}


def insert_raw(engine: sa.Engine, rows: list[tuple[str, str, str, str]]) -> None:
    with engine.begin() as conn:
        for company, kind, object_id, record_state in rows:
            conn.execute(sa.text(
                "INSERT INTO fortnox_sync_record (company_id, database_number, object_type, "
                "object_id, direction, state, attempts, created_at, updated_at) VALUES "
                "(:c, 0, :k, :i, 'push', :s, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"c": company, "k": kind, "i": object_id, "s": record_state})


def check_upgrade_builds_the_summary(url: str) -> None:
    app, _, db = create_host(url)
    with app.app_context():
        upgrade_database(app, "0004")  # before the summary existed
        insert_raw(db.engine, [("acme", "invoice", "1", "pending"),
                               ("acme", "invoice", "2", "pending"),
                               ("acme", "invoice", "3", "needs_attention"),
                               ("acme", "customer", "c1", "synced"),
                               ("acme", "invoice", "4", "held"),
                               ("globex", "invoice", "1", "failed")])
        upgrade_database(app)
        assert record_summary("acme") == {
            "customer": {"pending": 0, "held": 0, "earlier": 0, "synced": 1, "failed": 0,
                         "needs_attention": 0},
            "invoice": {"pending": 2, "held": 1, "earlier": 0, "synced": 0, "failed": 0,
                        "needs_attention": 1},
        }
        assert record_counts("globex")["failed"] == 1
        db.session.rollback()
        # ...and from then on the triggers keep it.
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE fortnox_sync_record SET state = 'synced' "
                                 "WHERE company_id = 'acme' AND object_id = '3'"))
        assert record_counts("acme") == counted_records("acme")
        assert record_counts("acme")["needs_attention"] == 0
        db.session.remove()
        db.engine.dispose()


def test_the_migration_builds_the_summary_of_existing_rows_on_sqlite(tmp_path: Path) -> None:
    check_upgrade_builds_the_summary(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_the_migration_builds_the_summary_of_existing_rows_on_postgres(
    postgres_url: str,
) -> None:
    check_upgrade_builds_the_summary(postgres_url)


STATE_VALUES = [s.value for s in RecordState]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(
    st.tuples(st.sampled_from(["acme", "globex"]), st.sampled_from(["invoice", "customer"]),
              st.integers(0, 5), st.sampled_from([*STATE_VALUES, "delete"]),
              st.sampled_from(["commit", "rollback", "more", "savepoint",
                               "savepoint_rolled_back"])),
    min_size=1, max_size=25))
def test_any_sequence_of_inserts_changes_and_deletes_keeps_the_summary_exact(
    summary_app: Flask, steps: list[tuple[str, str, int, str, str]]
) -> None:
    """Transactions of one or several changes (``more`` goes on in the same transaction; a
    ``savepoint`` change is released, a ``savepoint_rolled_back`` one undone), committed or
    rolled back: after every commit the summary equals the rows."""
    with summary_app.app_context():
        session = state(summary_app).db.session
        session.execute(sa.delete(SyncRecord))
        session.commit()
        for company, kind, number, target, end in steps:
            nested = session.begin_nested() if end.startswith("savepoint") else None
            row = session.query(SyncRecord).filter_by(
                company_id=company, object_type=kind, object_id=str(number)).one_or_none()
            if target == "delete":
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(SyncRecord(company_id=company, object_type=kind,
                                       object_id=str(number), state=target, attempts=0))
            else:
                row.state = target
            session.flush()
            if nested is not None:
                if end == "savepoint_rolled_back":
                    nested.rollback()
                else:
                    nested.commit()
            if end == "commit":
                session.commit()
                for each in ("acme", "globex"):
                    assert record_counts(each) == counted_records(each)
            elif end == "rollback":
                session.rollback()
        session.commit()
        for company in ("acme", "globex"):
            assert record_counts(company) == counted_records(company)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def summary_app(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    if request.param == "postgres":
        name = f"aourly_fortnox_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('prop') / 'summary.db'}"
    app, _, db = create_host(url, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    with app.app_context():
        upgrade_database(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if request.param == "postgres":
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_forgetting_a_company_leaves_no_summary_behind(any_app: Flask) -> None:
    """``forget`` deletes the rows and the summary in one transaction: no count of the deleted
    rows comes back at the commit (the company's card starts from nothing)."""
    app = any_app
    with app.app_context():
        install_chart()
        for n in range(1, 4):
            outbox.record_push("acme", "invoice", str(n), commit=True)
        outbox.record_push("globex", "invoice", "1", commit=True)
        forget_company("acme")
        assert record_summary("acme") == {}
        assert record_counts("acme") == counted_records("acme") == {s.value: 0
                                                                   for s in RecordState}
        assert agrees(app, "globex")["earlier"] == 1


@pytest.mark.postgres
def test_a_companys_first_records_written_at_once_never_deadlock(postgres_url: str) -> None:
    """Host requests record a company's first items at the same moment (no summary rows yet).
    One holds its new customer row while another, which found the summary rows a third had
    just created, waits for that customer: the first's commit must still go through. Before
    the rows were created ahead of the lock, PostgreSQL found a deadlock here and one host
    request failed (tests/engine/test_async_dispatch.py met it once in six runs)."""
    import threading
    import time

    app, _, db = create_host(postgres_url, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    with app.app_context():
        upgrade_database(app)
        install_chart()  # connected; no record yet, so no summary row
    first_recorded = threading.Event()
    failures: list[BaseException] = []

    def request(customer: str, wait: float, hold: float) -> None:
        try:
            if wait:
                first_recorded.wait(timeout=10)
                time.sleep(wait)
            with app.app_context():
                outbox.record_push("acme", "customer", customer)
                if not wait:
                    first_recorded.set()
                time.sleep(hold)  # the host's own work before its commit
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)

    threads = [threading.Thread(target=request, args=args) for args in (
        ("c1", 0, 2.0),  # records c1 first and commits last
        ("c2", 0.2, 0),  # another customer, committed meanwhile
        ("c1", 0.8, 0),  # the same customer as the first
    )]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    counts = agrees(app)
    assert counts["pending"] == 2  # c1 once, c2
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


#: Each owner's action on the sync log or the card (and the host sending the item again), and
#: the row it changes.
OWNER_ACTIONS = {
    "record_push": RecordState.FAILED,
    "retry": RecordState.FAILED,
    "retry_all": RecordState.FAILED,
    "send_held": RecordState.HELD,
    "send_earlier": RecordState.EARLIER,
    "link_customer": RecordState.NEEDS_ATTENTION,
}


@pytest.mark.postgres
@pytest.mark.parametrize("action", sorted(OWNER_ACTIONS))
def test_an_owners_action_during_a_push_job_waits_for_it_and_never_deadlocks(
    postgres_url: str, action: str
) -> None:
    """A push job takes the company's summary first, then changes rows. An owner's action
    (Retry, Retry all, Send held items, Send earlier items, a link choice), or the host's
    sending the item again, on the same row must take the summary first too: one that
    changed the row first would hold the row while its commit waited for the summary, the
    push job would wait for the row, and PostgreSQL would end one of them with a deadlock
    (the owner's click, the host's request or the push job failing)."""
    import threading
    import time

    app, _, db = create_host(postgres_url, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    with app.app_context():
        upgrade_database(app)
        install_chart()  # connected
        row_state = OWNER_ACTIONS[action]
        record = SyncRecord(
            company_id="acme", object_type="customer", object_id="c1", state=row_state,
            database_number=0 if row_state == RecordState.EARLIER else DB_NUMBER, attempts=3,
            candidates=[{"number": "11"}, {"number": "12"}],
        )
        db.session.add(record)
        db.session.commit()
        record_id = record.id
    summary_taken = threading.Event()
    failures: list[BaseException] = []

    def push_job() -> None:
        try:
            with app.app_context():
                leases.lock_summary("acme")
                summary_taken.set()
                time.sleep(1.0)  # the owner clicks meanwhile
                db.session.execute(sa.update(SyncRecord).where(SyncRecord.id == record_id)
                                   .values(attempts=SyncRecord.attempts + 1))
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)

    def owner() -> None:
        try:
            summary_taken.wait(timeout=10)
            with app.app_context():
                if action == "retry":
                    assert outbox.retry("acme", record_id) is True
                elif action == "record_push":
                    outbox.record_push("acme", "customer", "c1", commit=True)
                elif action == "link_customer":
                    assert outbox.link_customer("acme", record_id, "12", create=False) is True
                else:
                    assert getattr(outbox, action)("acme") is not None
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)

    threads = [threading.Thread(target=push_job), threading.Thread(target=owner)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    with app.app_context():
        done = db.session.get(SyncRecord, record_id)
        assert done is not None and done.state != row_state  # the owner's action went through
        db.session.remove()
    agrees(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
