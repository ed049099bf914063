"""Connect, reconnect, disconnect, expiry: the whole flow against the sandbox over loopback.

The owner's browser is the Flask test client plus a requests session for the sandbox's
consent page; nothing of the sandbox is mocked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox import signals
from aourly_fortnox.fortnox.errors import AuthorizationExpired
from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import Account, AccountMapping, FinancialYear, SyncRecord, utcnow
from aourly_fortnox.queries import get_connection
from aourly_fortnox.state import state

from ..dbstate import SPENT_OAUTH_STATE, database_dump, unchanged
from .conftest import login
from .flow import companies, connect, consent, sandbox_host, start
from .test_access import csrf

pytestmark = pytest.mark.redis  # sandbox_host: the real Redis for locks and the rate limiter


def engine(app: Flask) -> Any:
    with app.app_context():
        return state(app).db.engine


@pytest.fixture
def app(sandbox: Any) -> Iterator[Flask]:
    sandbox.admin("POST", "/_admin/faults", json={})
    app = sandbox_host(sandbox)
    yield app
    sandbox.admin("POST", "/_admin/faults", json={})


def test_owner_connects_and_the_card_tells_the_truth(
    app: Flask, client: FlaskClient, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    first = companies(sandbox)[0]
    login(client)
    auth_url = start(client)
    assert auth_url.startswith(f"{sandbox.url}/oauth-v1/auth?")
    consent_page = requests.get(auth_url, timeout=10).text
    for scope in ("companyinformation", "customer", "invoice", "bookkeeping", "settings"):
        assert scope in consent_page.lower() or scope.capitalize() in consent_page
    with caplog.at_level(logging.DEBUG):
        callback = client.get(consent(auth_url))
    assert callback.status_code == 303
    page = client.get("/integrations/").get_data(as_text=True)
    assert f"Fortnox is connected to {first['CompanyName']}" in page
    assert (f"Fortnox is connected to {first['CompanyName']}. We are importing your chart of "
            "accounts and financial years; check the account mapping next.") in page
    assert "Connected" in page and first["CompanyName"] in page
    assert str(first["OrganizationNumber"]) in page
    with app.app_context():
        db = state(app).db
        conn = get_connection("acme")
        assert conn is not None and conn.database_number == int(first["DatabaseNumber"])
        years = db.session.query(FinancialYear).filter_by(company_id="acme").count()
        assert years == len(sandbox.admin(
            "GET", f"/_admin/companies/{first['DatabaseNumber']}/financialyears"))
        assert db.session.query(Account).filter_by(company_id="acme").count() >= 300 * years
        assert conn.last_sync_at is not None  # the import finished
        # Mapping suggested from the sandbox's predefined accounts.
        assert db.session.query(AccountMapping).filter_by(company_id="acme").count() >= 9
        cipher = state(app).cipher
        access = cipher.decrypt(conn.access_token_enc or "")
        refresh = cipher.decrypt(conn.refresh_token_enc or "")
        dump = database_dump(db.engine)
    assert access and refresh
    for secret in (access, refresh, sandbox.client_secret):
        assert secret not in dump
        assert secret not in page
        assert secret not in caplog.text
    assert "Last successful sync" in page and "Not yet" not in page


def test_denied_consent_stores_nothing(app: Flask, client: FlaskClient) -> None:
    login(client)
    callback = consent(start(client), button="Deny")
    with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
        response = client.get(callback)
    assert response.status_code == 400
    assert "You chose not to give Aourly access" in response.get_data(as_text=True)
    with app.app_context():
        conn = get_connection("acme")
        assert conn is None or conn.refresh_token_enc is None


def test_invalid_scope_is_explained(sandbox: Any) -> None:
    app = sandbox_host(sandbox, AOURLY_FORTNOX_SCOPES="companyinformation warpdrive")
    client = app.test_client()
    login(client)
    auth_url = start(client)
    answer = requests.get(auth_url, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303)
    location = urlsplit(answer.headers["Location"])
    with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
        response = client.get(f"{location.path}?{location.query}")
    assert response.status_code == 400
    assert "invalid scope" in response.get_data(as_text=True)
    with app.app_context():
        assert get_connection("acme") is None


def test_forged_or_missing_state_stores_nothing(app: Flask, client: FlaskClient) -> None:
    login(client)
    with unchanged(engine(app)):
        for query in ("code=abc&state=forged", "code=abc", ""):
            response = client.get(f"/integrations/fortnox/callback?{query}")
            assert response.status_code == 400
            assert "could not be verified" in response.get_data(as_text=True)
        start(client)  # a real state in the session, but the callback brings another
        response = client.get("/integrations/fortnox/callback?code=abc&state=other")
    assert response.status_code == 400
    with app.app_context():
        assert get_connection("acme") is None


def test_a_callback_is_single_use(app: Flask, client: FlaskClient) -> None:
    login(client)
    callback = consent(start(client))
    assert client.get(callback).status_code == 303
    with unchanged(engine(app)):  # the tokens stored by the first use stay as they are
        again = client.get(callback)
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)


def alert(message: str) -> str:
    """The callback page's error box holding exactly ``message``."""
    return f'role="alert">{message}</div>'


def test_a_reused_code_is_refused_by_fortnox(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    login(client)
    old_callback = consent(start(client))
    assert client.get(old_callback).status_code == 303
    old_code = dict(p.split("=", 1) for p in old_callback.split("?", 1)[1].split("&"))["code"]
    new_callback = consent(start(client))
    params = dict(p.split("=", 1) for p in new_callback.split("?", 1)[1].split("&"))
    with (unchanged(engine(app), ignoring=SPENT_OAUTH_STATE),
          caplog.at_level(logging.INFO, logger="aourly_fortnox.oauth")):
        response = client.get(
            f"/integrations/fortnox/callback?code={old_code}&state={params['state']}"
        )
    assert response.status_code == 400
    assert alert("Fortnox did not accept the sign-in (the code was already used or has "
                 "expired). Nothing was changed. Start again with Connect Fortnox."
                 ) in response.get_data(as_text=True)
    prefix = "Fortnox refused the authorization code: "
    refused = [m for m in caplog.messages if m.startswith(prefix)]
    # The operator's log line says why, in the SDK's words (never the code itself).
    assert refused == [prefix + "Fortnox did not accept the authorization code (it was already "
                       "used or has expired); connect again."]
    assert old_code not in caplog.text


def test_an_expired_code_is_refused(sandbox: Any, app: Flask, client: FlaskClient) -> None:
    sandbox.admin("POST", "/_admin/settings", json={"code_ttl": 0.5})
    try:
        login(client)
        callback = consent(start(client))
        time.sleep(1.0)
        response = client.get(callback)
    finally:
        sandbox.admin("POST", "/_admin/settings", json={"code_ttl": 600})
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)
    with app.app_context():
        assert get_connection("acme") is None


def test_fortnox_down_during_the_exchange(sandbox: Any, app: Flask, client: FlaskClient) -> None:
    login(client)
    callback = consent(start(client))
    sandbox.admin("POST", "/_admin/faults", json={"token_error_rate": 1.0, "seed": 3})
    with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
        response = client.get(callback)
    assert response.status_code == 502
    assert alert("Fortnox is not answering right now. Nothing was changed. Try again in a few "
                 "minutes.") in response.get_data(as_text=True)
    with app.app_context():
        assert get_connection("acme") is None


def test_someone_elses_callback_is_refused(sandbox: Any, app: Flask) -> None:
    owner = app.test_client()
    other = app.test_client()
    login(owner)
    callback = consent(start(owner))
    login(other, "globex-owner", "globex")
    start(other)  # the other user has a flow of their own
    with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
        response = other.get(callback)
    assert response.status_code in (400, 403)
    assert "Nothing was changed" in response.get_data(as_text=True)
    with app.app_context():
        assert get_connection("acme") is None and get_connection("globex") is None


def test_a_non_owner_cannot_finish_the_flow(app: Flask, client: FlaskClient) -> None:
    owner = app.test_client()
    login(owner)
    callback = consent(start(owner))
    login(client, "coordinator")
    with unchanged(engine(app)):
        assert client.get(callback).status_code == 403
    with app.app_context():
        assert get_connection("acme") is None
    # The owner's own flow was not used up by the refused attempt.
    assert owner.get(callback).status_code == 303


def test_locked_fortnox_account_is_explained(
    sandbox: Any, app: Flask, client: FlaskClient
) -> None:
    db = companies(sandbox)[1]["DatabaseNumber"]
    sandbox.admin("POST", f"/_admin/companies/{db}/settings", json={"locked": True})
    try:
        login(client)
        callback = consent(start(client), database_number=db)
        with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
            response = client.get(callback)
    finally:
        sandbox.admin("POST", f"/_admin/companies/{db}/settings", json={"locked": False})
    assert response.status_code == 400
    assert "Fortnox refused the connection" in response.get_data(as_text=True)


def test_disconnect_revokes_keeps_data_and_holds_new_sends(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    events: list[str] = []
    signals.disconnected.connect(lambda sender, **kw: events.append(kw["company_id"]), app,
                                 weak=False)
    login(client)
    assert connect(client).status_code == 303
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None
        refresh = state(app).cipher.decrypt(conn.refresh_token_enc or "")
        accounts_before = state(app).db.session.query(Account).count()
    page = client.get("/integrations/fortnox/disconnect").get_data(as_text=True)
    assert "Everything already synced stays" in page  # the no-JS confirmation page
    response = client.post("/integrations/fortnox/disconnect", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    card = client.get("/integrations/").get_data(as_text=True)
    assert "Disconnected" in card and "Connect again" in card
    assert events == ["acme"]
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None and conn.refresh_token_enc is None
        assert state(app).db.session.query(Account).count() == accounts_before
        state(app).ext.sync_invoice("acme", 7)
        state(app).db.session.commit()
        record = state(app).db.session.query(SyncRecord).one()
        assert record.state == "held"
        from aourly_fortnox.connection.clients import oauth_client

        with pytest.raises(AuthorizationExpired):
            oauth_client().refresh(refresh)  # revoked at Fortnox


def test_reconnect_keeps_mappings_and_history(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    first = companies(sandbox)[0]
    login(client)
    assert connect(client, database_number=first["DatabaseNumber"]).status_code == 303
    with app.app_context():
        db = state(app).db
        for mapping in db.session.query(AccountMapping).all():
            mapping.confirmed = True
        db.session.query(AccountMapping).filter_by(key="sales_12").one().account = 3002
        db.session.commit()
        connected_at = get_connection("acme").connected_at  # type: ignore[union-attr]
    client.post("/integrations/fortnox/disconnect", data={"csrf_token": csrf(client)})
    assert connect(client, database_number=first["DatabaseNumber"]).status_code == 303
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Fortnox is connected again" in page and "mappings and history are kept" in page
    assert (f"Fortnox is connected again to {first['CompanyName']}. Your mappings and history "
            "are kept. Items that were waiting are sent now; items held while disconnected "
            "wait for you on the card.") in page
    with app.app_context():
        db = state(app).db
        assert db.session.query(AccountMapping).filter_by(key="sales_12").one().confirmed
        # "Connected since" is when this connection began, not the first connection ever.
        assert get_connection("acme").connected_at > connected_at  # type: ignore[union-attr,operator]


def test_switching_fortnox_company_needs_confirmation(
    sandbox: Any, app: Flask, client: FlaskClient
) -> None:
    first, second = companies(sandbox)[:2]
    login(client)
    assert connect(client).status_code == 303
    response = connect(client, database_number=second["DatabaseNumber"])
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/integrations/fortnox/switch-company")
    page = client.get("/integrations/fortnox/switch-company").get_data(as_text=True)
    assert second["CompanyName"] in page and first["CompanyName"] in page
    # Keep the old one: nothing changes.
    client.post("/integrations/fortnox/switch-company",
                data={"csrf_token": csrf(client), "decision": "cancel"})
    with app.app_context():
        assert get_connection("acme").database_number == first["DatabaseNumber"]  # type: ignore[union-attr]
    # Now switch for real.
    connect(client, database_number=second["DatabaseNumber"])
    client.post("/integrations/fortnox/switch-company",
                data={"csrf_token": csrf(client), "decision": "switch"})
    card = client.get("/integrations/").get_data(as_text=True)
    assert second["CompanyName"] in card and "Connected" in card
    with app.app_context():
        db = state(app).db
        conn = get_connection("acme")
        assert conn is not None and conn.database_number == second["DatabaseNumber"]
        # Both charts are kept, each under its own DatabaseNumber.
        numbers = {a.database_number for a in db.session.query(Account).all()}
        assert numbers == {first["DatabaseNumber"], second["DatabaseNumber"]}
        assert db.session.query(AccountMapping).count() >= 9


def test_one_fortnox_company_cannot_serve_two_aourly_companies(
    sandbox: Any, app: Flask
) -> None:
    acme, globex = app.test_client(), app.test_client()
    login(acme)
    assert connect(acme).status_code == 303
    login(globex, "globex-owner", "globex")
    with unchanged(engine(app)):
        response = connect(globex)
    assert response.status_code == 409
    assert "already connected to another Aourly company" in response.get_data(as_text=True)
    with app.app_context():
        conn = get_connection("globex")
        assert conn is None or conn.refresh_token_enc is None


def test_expired_authorization_shows_a_warning_and_reconnect_restores(
    sandbox: Any, app: Flask, client: FlaskClient
) -> None:
    expired: list[str] = []
    signals.connection_expired.connect(lambda sender, **kw: expired.append(kw["company_id"]),
                                       app, weak=False)
    login(client)
    assert connect(client).status_code == 303
    sandbox.admin("POST", "/_admin/expire-tokens", json={"refresh": True})
    host_invoice(app, "1")
    with app.app_context():
        state(app).ext.sync_invoice("acme", 1)  # queued work must wait, not be dropped
        state(app).db.session.commit()  # the host commits the outbox row with its change
    response = client.post("/integrations/fortnox/sync", data={"csrf_token": csrf(client)},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200  # htmx: the card, never a 302
    card = response.get_data(as_text=True)
    assert "Expired" in card and "Reconnect" in card
    assert expired == ["acme"]
    assert invoice_state(app, "1") == "pending"
    assert connect(client).status_code == 303
    assert "Connected" in client.get("/integrations/fortnox/status").get_data(as_text=True)
    # Nothing was lost: after Reconnect the waiting invoice went by itself.
    assert invoice_state(app, "1") == "synced"
    assert [i["ExternalInvoiceReference2"] for i in sandbox.admin(
        "GET", f"/_admin/companies/{companies(sandbox)[0]['DatabaseNumber']}/invoices")
        if i["ExternalInvoiceReference2"] == "A-1"] == ["A-1"]


def test_expired_access_token_is_refreshed_transparently(
    sandbox: Any, app: Flask, client: FlaskClient
) -> None:
    login(client)
    assert connect(client).status_code == 303
    sandbox.admin("POST", "/_admin/expire-tokens", json={"refresh": False})
    response = client.post("/integrations/fortnox/sync", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Connected" in card and "Expired" not in card


def test_keep_alive_rotates_an_idle_refresh_token(sandbox: Any, client: FlaskClient) -> None:
    app = sandbox_host(sandbox, AOURLY_FORTNOX_KEEPALIVE_INTERVAL=0)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    from aourly_fortnox.sync.schedule import run_tick

    with app.app_context():
        cipher = state(app).cipher
        before = cipher.decrypt(get_connection("acme").refresh_token_enc or "")  # type: ignore[union-attr]
        assert run_tick()["kept_alive"] == 1
        state(app).db.session.expire_all()
        after = cipher.decrypt(get_connection("acme").refresh_token_enc or "")  # type: ignore[union-attr]
        assert after != before
    # Fortnox's side: the old token spent exactly once, the new one live (sending the old one
    # again would revoke the whole chain, so the test only looks).
    issued = {t["refresh_token"]: t for t in sandbox.refresh_tokens()}
    assert (issued[before]["uses"], issued[before]["state"]) == (1, "used")
    assert (issued[after]["uses"], issued[after]["state"]) == (0, "live")


def test_refresh_token_past_its_lifetime_flips_to_expired(
    app: Flask, client: FlaskClient
) -> None:
    login(client)
    assert connect(client).status_code == 303
    from aourly_fortnox.sync.schedule import run_tick

    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None and conn.refresh_expires_at is not None
        # 45 days (AOURLY_FORTNOX_REFRESH_TOKEN_LIFETIME) have passed without a refresh.
        conn.refresh_expires_at = utcnow() - timedelta(seconds=1)
        state(app).db.session.commit()
        assert run_tick()["expired"] == 1
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Expired" in card and "ran out after 45 days" in card


def test_cli_status_and_sync(app: Flask, client: FlaskClient) -> None:
    login(client)
    runner = app.test_cli_runner()
    assert "acme: not connected" in runner.invoke(args=["fortnox", "status", "acme"]).output
    result = runner.invoke(args=["fortnox", "sync", "acme"])
    assert result.exit_code == 1 and "Connect Fortnox first" in result.output
    assert connect(client).status_code == 303
    assert "acme: connected to" in runner.invoke(args=["fortnox", "status"]).output
    result = runner.invoke(args=["fortnox", "sync", "acme"])
    assert result.exit_code == 0 and "Sync started" in result.output


FULL_MAPPING = {
    "sales_25": "3001", "sales_12": "3002", "sales_6": "3003", "sales_0": "3004",
    "sales_eu": "3108", "sales_export": "3105", "bank": "1930", "receivables": "1510",
    "rounding": "3740",
}


def test_refresh_chart_brings_in_an_account_added_in_fortnox(
    sandbox: Any, app: Flask, client: FlaskClient
) -> None:
    """The article's "Missing accounts" case: add it in Fortnox, refresh, map it."""
    login(client)
    assert connect(client).status_code == 303
    db = companies(sandbox)[0]["DatabaseNumber"]
    number = 3019
    sandbox.admin("POST", f"/_admin/companies/{db}/accounts", json={"Account": {
        "Number": number, "Description": "Försäljning kurser 25 %", "VATCode": "MP1",
        "Active": True}})
    form = {**FULL_MAPPING, "sales_25": str(number), "csrf_token": csrf(client)}
    refused = client.post("/integrations/fortnox/mapping", data=form)
    assert refused.status_code == 422
    assert f"Account {number} does not exist" in refused.get_data(as_text=True)
    response = client.post("/integrations/fortnox/accounts/refresh",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    saved = client.post("/integrations/fortnox/mapping", data=form)
    assert saved.status_code == 303


def test_card_warns_before_the_next_year_breaks_a_sync(
    sandbox: Any, app: Flask, client: FlaskClient
) -> None:
    login(client)
    assert connect(client).status_code == 303
    assert client.post("/integrations/fortnox/mapping",
                       data={**FULL_MAPPING, "csrf_token": csrf(client)}).status_code == 303
    db = companies(sandbox)[0]["DatabaseNumber"]
    years = sandbox.admin("GET", f"/_admin/companies/{db}/financialyears")
    last = max(years, key=lambda y: y["ToDate"])
    next_year = int(last["ToDate"][:4]) + 1
    created = sandbox.admin("POST", f"/_admin/companies/{db}/financialyears", json={
        "FinancialYear": {"FromDate": f"{next_year}-01-01", "ToDate": f"{next_year}-12-31"}})
    year_id = (created.get("FinancialYear") or created)["Id"]
    sandbox.admin("POST", f"/_admin/companies/{db}/accounts", json={"Account": {
        "Number": 3002, "Description": "Försäljning 12 %", "Active": False, "Year": year_id}})
    client.post("/integrations/fortnox/sync", data={"csrf_token": csrf(client)})
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert f"Account 3002 is inactive in financial year {next_year}-01-01" in card
    assert "Mapping complete" in card  # today's year is fine: a warning, not an error


def test_the_tick_runs_scheduled_syncs_for_connected_companies_only(sandbox: Any) -> None:
    from aourly_fortnox.models import SyncRun
    from aourly_fortnox.sync.schedule import run_tick

    app = sandbox_host(sandbox, AOURLY_FORTNOX_SCHEDULED_SYNC_INTERVAL=0)
    acme, globex = app.test_client(), app.test_client()
    login(acme)
    login(globex, "globex-owner", "globex")
    assert connect(acme).status_code == 303
    second = companies(sandbox)[1]["DatabaseNumber"]
    assert connect(globex, database_number=second).status_code == 303
    globex.post("/integrations/fortnox/disconnect", data={"csrf_token": csrf(globex)})
    with app.app_context():
        assert run_tick()["scheduled"] == 1
        runs = state(app).db.session.query(SyncRun).order_by(SyncRun.id).all()
        assert [(r.company_id, r.kind, r.state) for r in runs][-1] == ("acme", "sync", "finished")
        assert [r.company_id for r in runs].count("globex") == 1  # its connect import only
    app = sandbox_host(sandbox)  # the default interval: an hour
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    with app.app_context():
        assert run_tick()["scheduled"] == 0


def test_the_import_keeps_fortnoxs_locked_period_for_the_prechecks(
    sandbox: Any, app: Flask, client: FlaskClient
) -> None:
    from datetime import date

    from aourly_fortnox.mapping import AccountResolver, MappingProblem

    login(client)
    assert connect(client).status_code == 303
    db = companies(sandbox)[0]["DatabaseNumber"]
    year = date.today().year
    sandbox.admin("PUT", f"/_admin/companies/{db}/lockedperiod",
                  json={"LockedPeriod": {"EndDate": f"{year}-01-31"}})
    try:
        client.post("/integrations/fortnox/sync", data={"csrf_token": csrf(client)})
        with app.app_context():
            conn = get_connection("acme")
            assert conn is not None and conn.locked_through == date(year, 1, 31)
            resolver = AccountResolver("acme")
            with pytest.raises(MappingProblem) as problem:
                resolver.check_date(date(year, 1, 15))
            assert problem.value.code == "PERIOD_LOCKED"
            assert f"locked through {year}-01-31" in problem.value.reason
            resolver.check_date(date(year, 2, 1))  # after the locked period: fine
    finally:
        sandbox.admin("PUT", f"/_admin/companies/{db}/lockedperiod",
                      json={"LockedPeriod": {"EndDate": ""}})


def test_items_held_while_disconnected_go_when_the_owner_says_so(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    login(client)
    assert connect(client).status_code == 303
    client.post("/integrations/fortnox/disconnect", data={"csrf_token": csrf(client)})
    host_invoice(app, "41")
    with app.app_context():
        state(app).ext.sync_invoice("acme", 41)
        state(app).db.session.commit()
    # The invoice and its customer (which goes first) are both held.
    assert "2 items are held" in client.get("/integrations/").get_data(as_text=True)
    refused = client.post("/integrations/fortnox/held/send", data={"csrf_token": csrf(client)})
    assert refused.status_code == 303
    assert invoice_state(app, "41") == "held"  # still held
    assert connect(client).status_code == 303
    assert invoice_state(app, "41") == "held"  # a reconnect alone sends nothing held
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "held items" in card
    response = client.post("/integrations/fortnox/held/send", data={"csrf_token": csrf(client)},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "2 held items will be sent." in response.get_data(
        as_text=True
    )
    with app.app_context():
        record = state(app).db.session.query(SyncRecord).filter_by(object_type="invoice").one()
        assert record.state == "synced"  # sent as soon as the owner said so
        assert record.database_number == companies(sandbox)[0]["DatabaseNumber"]


def host_invoice(app: Flask, ident: str) -> None:
    """The host has this invoice and its customer (the adapter returns them)."""
    from datetime import date, timedelta
    from decimal import Decimal

    from aourly_fortnox.host import CustomerData, InvoiceData, InvoiceRowData

    adapter = state(app).adapter
    adapter.customers[("acme", "c" + ident)] = CustomerData(  # type: ignore[union-attr]
        id="c" + ident, name=f"Kund {ident}")
    adapter.invoices[("acme", ident)] = InvoiceData(  # type: ignore[union-attr]
        id=ident, number=f"A-{ident}", customer_id="c" + ident, invoice_date=date.today(),
        due_date=date.today() + timedelta(days=30),
        rows=(InvoiceRowData("Arbete", Decimal("1"), Decimal("100.00"), 25),),
    )


def invoice_state(app: Flask, ident: str) -> str:
    with app.app_context():
        session = state(app).db.session
        session.expire_all()
        return str(session.query(SyncRecord).filter_by(object_type="invoice",
                                                       object_id=ident).one().state)


def test_connect_with_the_queue_down_still_connects_and_says_the_import_waits(
    sandbox: Any,
) -> None:
    """A testing host without Redis (allowed only with TESTING): the callback still stores the
    connection, credited to the owner who connected, and the owner is told that importing the
    chart could not start, why, and what to do."""
    from .host import create_host

    app, _, _ = create_host(
        AOURLY_FORTNOX_AUTH_URL=f"{sandbox.url}/oauth-v1",
        AOURLY_FORTNOX_API_URL=sandbox.url,
        AOURLY_FORTNOX_CLIENT_ID=sandbox.client_id,
        AOURLY_FORTNOX_CLIENT_SECRET=sandbox.client_secret,
        AOURLY_FORTNOX_QUEUE_IS_ASYNC=True,  # and no AOURLY_FORTNOX_REDIS_URL
    )
    with app.app_context():
        upgrade_database(app)
    first = companies(sandbox)[0]
    client = app.test_client()
    login(client)
    assert connect(client, database_number=first["DatabaseNumber"]).status_code == 303
    page = client.get("/integrations/").get_data(as_text=True)
    assert (f"Fortnox is connected to {first['CompanyName']}, but importing the chart of "
            "accounts could not start: The job queue (Redis) is not reachable right now.") in page
    assert "Press Sync now later." in page
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None and conn.database_number == int(first["DatabaseNumber"])
        assert conn.connected_by == "owner"
