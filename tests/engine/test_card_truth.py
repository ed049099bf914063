"""The card tells the truth against a real sandbox: a failed sync shows with its next try,
"Last successful sync" moves only for a sync whose every request succeeded, Sync now counts
the items it sends, invoices sent before the first connection are offered and go only after
the owner confirms, and the owner hears of each new problem once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.models import RecordState, SyncRecord, SyncRun
from aourly_fortnox.queries import get_connection
from aourly_fortnox.signals import sync_failed
from aourly_fortnox.state import state

from ..plugin.conftest import login
from ..plugin.flow import connect
from ..plugin.test_access import csrf
from .conftest import DB, customer, fortnox, invoice, put, send


def card(client: FlaskClient) -> str:
    html = client.get("/integrations/fortnox/status").get_data(as_text=True)
    return re.sub(r"\s+", " ", html)


def last_sync(app: Flask) -> Any:
    with app.app_context():
        state(app).db.session.expire_all()
        conn = get_connection("acme")
        assert conn is not None
        return conn.last_sync_at


def latest_run(app: Flask) -> SyncRun:
    with app.app_context():
        session = state(app).db.session
        session.expire_all()
        run = session.query(SyncRun).order_by(SyncRun.id.desc()).first()
        assert run is not None
        session.expunge(run)
        return run


def sync_now(client: FlaskClient) -> None:
    assert client.post("/integrations/fortnox/sync",
                       data={"csrf_token": csrf(client)}).status_code == 303


def stockholm(moment: Any) -> str:
    """As the card writes a time: "16:40" today, with its date on another day (a sync failing
    after 23:00 has its next try tomorrow)."""
    zone = ZoneInfo("Europe/Stockholm")
    local = moment.astimezone(zone)
    today = datetime.now(UTC).astimezone(zone).date()
    return str(local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M"))


def test_a_failed_sync_shows_on_the_card_with_its_next_try_and_try_now_recovers(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    assert "Last sync failed" not in card(client)
    before = last_sync(app)
    sandbox.faults(error_rate=1.0, seed=3)  # Fortnox answers 5xx to everything
    try:
        sync_now(client)
    finally:
        sandbox.faults()
    run = latest_run(app)
    assert (run.kind, run.state, run.message) == ("sync", "failed", "FORTNOX_TEMPORARY")
    next_try = run.created_at + timedelta(
        seconds=int(state(app).settings.scheduled_sync_interval))
    shown = card(client)
    assert (f"Last sync failed at {stockholm(run.finished_at)}: Fortnox had a temporary "
            f"problem. Next try {stockholm(next_try)}.") in shown
    assert "Try now" in shown
    assert last_sync(app) == before  # a failed run never moves it
    sync_now(client)  # Try now posts the same form
    shown = card(client)
    assert "Last sync failed" not in shown
    assert last_sync(app) > before


def test_last_successful_sync_moves_for_a_sync_not_for_a_chart_refresh(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    connected = last_sync(app)
    assert connected is not None  # the sync after Connect succeeded
    response = client.post("/integrations/fortnox/accounts/refresh",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert latest_run(app).kind == "import" and latest_run(app).state == "finished"
    assert last_sync(app) == connected  # only the chart was re-imported: not a sync
    # An item that needs the owner because of its own data does not hold the sync back.
    put(app, customer("c9", country_code="SWE"), invoice("i9", customer_id="c9"))
    send(app, "i9")
    sync_now(client)
    assert latest_run(app).state == "finished"
    assert last_sync(app) > connected
    assert "1 needs attention" in card(client)


def test_sync_now_sends_every_due_item_and_counts_items_not_steps(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    put(app, customer("c1"), invoice("i1"), invoice("i2"))
    with app.app_context():  # due rows whose nudge was lost (no push job carries them)
        session = state(app).db.session
        for kind, object_id in (("customer", "c1"), ("invoice", "i1"), ("invoice", "i2")):
            session.add(SyncRecord(company_id="acme", database_number=DB, object_type=kind,
                                   object_id=object_id, state=RecordState.PENDING, attempts=0))
        session.commit()
    assert "3 waiting" in card(client)
    sync_now(client)
    run = latest_run(app)
    assert (run.state, run.message, run.total, run.done, run.failed) == (
        "finished", "SYNC_DONE", 3, 3, 0)
    assert len([i for i in fortnox(sandbox, "invoices") if i["CustomerNumber"] == "AOUC1"]) == 2
    shown = card(client)
    assert "0 waiting" in shown and 'hx-trigger="every' not in shown  # nothing due: no polling
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert "Sent 3 items to Fortnox." in log


def test_invoices_sent_before_the_first_connection_are_offered_and_sent_only_after_confirm(
    app: Flask, sandbox: Any
) -> None:
    client = app.test_client()
    login(client)
    adapter = state(app).adapter
    put(app, customer("c1"), invoice("i1"), invoice("i2"))
    send(app, "i1")
    send(app, "i2")
    with app.app_context():
        rows = state(app).db.session.query(SyncRecord).all()
        assert {(r.object_type, r.state) for r in rows} == {("customer", "earlier"),
                                                              ("invoice", "earlier")}
        assert {r.label for r in rows} == {"Kund c1", "A-i1 · Kund c1", "A-i2 · Kund c1"}
    assert "2 invoices sent before connecting are kept" in card(client)
    put(app, invoice("i3"))  # sent before the plugin was installed: no row at all
    asked = []
    original = adapter.sent_invoice_ids
    adapter.sent_invoice_ids = lambda company: asked.append(company) or original(company)
    assert connect(client).status_code == 303
    assert asked == ["acme"]  # counted once, at connect
    invoices_before = fortnox(sandbox, "invoices")
    customers_before = fortnox(sandbox, "customers")
    for _ in range(3):
        shown = card(client)
    assert "Send your 3 earlier invoices to Fortnox" in shown
    assert asked == ["acme"]  # never per card render
    assert 'href="/integrations/fortnox/preview?earlier=1"' in shown
    preview = client.get("/integrations/fortnox/preview?earlier=1").get_data(as_text=True)
    assert "3 invoices" in preview and "1 customer" in preview
    assert "1 customer will be created in Fortnox" in preview
    assert "&#34;CustomerNumber&#34;: &#34;AOUC1&#34;" in preview  # the next item's payload
    assert 'action="/integrations/fortnox/earlier/send"' in preview
    # Nothing was written to Fortnox by connecting, polling or previewing.
    assert fortnox(sandbox, "invoices") == invoices_before
    assert fortnox(sandbox, "customers") == customers_before
    response = client.post("/integrations/fortnox/earlier/send",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    sent = [i for i in fortnox(sandbox, "invoices") if i["CustomerNumber"] == "AOUC1"]
    assert sorted(i["ExternalInvoiceReference2"] for i in sent) == ["A-i1", "A-i2", "A-i3"]
    shown = card(client)
    assert "earlier invoice" not in shown and "0 waiting" in shown
    # They are all recorded now: a reconnect to this Fortnox company never reads the host's
    # sent invoices again to count them.
    asks = len(asked)
    assert client.post("/integrations/fortnox/disconnect",
                       data={"csrf_token": csrf(client)}).status_code == 303
    assert connect(client).status_code == 303
    assert len(asked) == asks
    assert "earlier invoice" not in card(client)


def test_the_owner_hears_of_a_new_problem_once_not_per_retry(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    heard: list[dict[str, Any]] = []

    def listen(sender: Any, **item: Any) -> None:
        heard.append(item)

    sync_failed.connect(listen, sender=app)
    try:
        put(app, customer("c9", country_code="SWE"), invoice("i9", customer_id="c9"))
        send(app, "i9")
        with app.app_context():
            found = state(app).db.session.query(SyncRecord).filter_by(
                object_type="customer", object_id="c9").one()
            record_id, params = found.id, dict(found.error_params or {})
        # Exactly the keywords the README promises a host's receiver.
        assert heard == [{"company_id": "acme", "record_id": record_id, "object_type": "customer",
                          "object_id": "c9", "label": "Kund c9", "code": "COUNTRY_CODE_INVALID",
                          "params": params}]
        assert params == {"country_code": "SWE", "name": "Kund c9"}
        for _ in range(2):  # the owner presses Retry without fixing anything
            client.post(f"/integrations/fortnox/log/{record_id}/retry",
                        data={"csrf_token": csrf(client)})
        assert len(heard) == 1
        put(app, customer("c9"))  # fixed: it goes, and a later problem is a new one
        client.post(f"/integrations/fortnox/log/{record_id}/retry",
                    data={"csrf_token": csrf(client)})
        with app.app_context():
            assert state(app).ext.sync_states("acme", "customer", ["c9"]) == {"c9": "synced"}
            put(app, customer("c9", country_code="SWE"))
            state(app).ext.sync_customer("acme", "c9")
            state(app).db.session.commit()
        assert len(heard) == 2
    finally:
        sync_failed.disconnect(listen, sender=app)


def test_the_preview_says_which_customers_are_linked_or_created_and_writes_nothing(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    sandbox.admin("POST", f"/_admin/companies/{DB}/customers",
                  {"Customer": {"Name": "Bygg & Co", "OrganisationNumber": "5566778899"}})
    [theirs] = [c for c in fortnox(sandbox, "customers") if c["Name"] == "Bygg & Co"]
    put(app, customer("c7", name="Bygg och Co AB", organisation_number="556677-8899"),
        customer("c8", name="Ny Kund AB"), invoice("i7", customer_id="c7"))
    with app.app_context():  # due rows (their nudge lost), as the next sync would find them
        session = state(app).db.session
        for kind, object_id in (("customer", "c7"), ("customer", "c8"), ("invoice", "i7")):
            session.add(SyncRecord(company_id="acme", database_number=DB, object_type=kind,
                                   object_id=object_id, state=RecordState.PENDING, attempts=0))
        session.commit()
    customers, invoices = fortnox(sandbox, "customers"), fortnox(sandbox, "invoices")
    page = client.get("/integrations/fortnox/preview").get_data(as_text=True)
    flat = re.sub(r"\s+", " ", page)
    assert "2 customers" in flat and "1 invoice" in flat
    assert f"Bygg och Co AB (556677-8899) → Fortnox customer {theirs['CustomerNumber']}" in flat
    assert "1 customer will be created in Fortnox" in flat and "Ny Kund AB" in flat
    # The next item sent is Ny Kund AB (Bygg och Co AB is linked: nothing is sent for it).
    assert "&#34;CustomerNumber&#34;: &#34;AOUC8&#34;" in page and "AOUC7" not in page
    assert fortnox(sandbox, "customers") == customers  # a dry run: no write to Fortnox
    assert fortnox(sandbox, "invoices") == invoices
    with app.app_context():
        assert {r.state for r in state(app).db.session.query(SyncRecord)} == {"pending"}


def test_the_previewed_invoice_names_its_customer_by_the_number_it_has_in_fortnox(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """A customer linked earlier to the owner's own Fortnox customer (number 1042, not ours):
    the next invoice's body names 1042, as the push will send it."""
    put(app, customer("c5", name="Länkad AB"), invoice("i5", customer_id="c5"))
    with app.app_context():
        session = state(app).db.session
        session.add_all([
            SyncRecord(company_id="acme", database_number=DB, object_type="customer",
                       object_id="c5", state=RecordState.SYNCED, remote_id="1042", attempts=1),
            SyncRecord(company_id="acme", database_number=DB, object_type="invoice",
                       object_id="i5", state=RecordState.PENDING, attempts=0),
        ])
        session.commit()
    page = client.get("/integrations/fortnox/preview").get_data(as_text=True)
    assert "1 invoice" in page and "customer" not in page.split("fortnox-preview-counts")[1][:80]
    assert "&#34;CustomerNumber&#34;: &#34;1042&#34;" in page and "AOUC5" not in page
