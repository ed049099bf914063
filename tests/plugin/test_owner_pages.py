"""Issue 17's defects on the owner's pages, through the Flask test client: the mapping page
during an import, the wording, "Connected since", errors tied to their fields, expiry noticed
by the tick, and the links an Expired or Disconnected card keeps."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.fortnox.errors import TransientError
from aourly_fortnox.models import (
    AccountMapping,
    ConnectionStatus,
    RecordState,
    SyncRecord,
    SyncRun,
    utcnow,
)
from aourly_fortnox.queries import get_connection
from aourly_fortnox.state import state

from .charts import DB_NUMBER, install_chart
from .conftest import login
from .flow import companies, connect, sandbox_host
from .host import create_host
from .test_access import csrf

MAPPING = "/integrations/fortnox/mapping"
FULL = {
    "sales_25": "3001", "sales_12": "3002", "sales_6": "3003", "sales_0": "3004",
    "sales_eu": "3108", "sales_export": "3105", "bank": "1930", "receivables": "1510",
    "rounding": "3740",
}


def suggest(app: Flask, accounts: dict[str, int]) -> None:
    """The import's suggestions (not confirmed by the owner)."""
    with app.app_context():
        db = state(app).db
        for key, account in accounts.items():
            db.session.add(AccountMapping(company_id="acme", key=key, account=account,
                                          confirmed=False))
        db.session.commit()


def stored(app: Flask) -> dict[str, tuple[int, bool]]:
    with app.app_context():
        return {m.key: (m.account, m.confirmed)
                for m in state(app).db.session.query(AccountMapping).all()}


def start_import(app: Flask) -> None:
    with app.app_context():
        db = state(app).db
        db.session.add(SyncRun(company_id="acme", kind="import", state="running"))
        db.session.commit()


def field_input(page: str, key: str) -> str:
    match = re.search(rf'<input id="map-{key}"[^>]*>', page, re.S)
    assert match, key
    return match.group(0)


# -- 1. the mapping page opened during the first import ----------------------------------------
def test_during_the_import_the_mapping_page_says_so_and_refreshes_itself(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    start_import(app)
    login(client)
    page = client.get(MAPPING).get_data(as_text=True)
    assert "Importing your chart of accounts…" in page
    save = re.search(r'<button type="submit" class="fx-btn fx-btn-primary"[^>]*>Save mapping',
                     page)
    assert save and "disabled" in save.group(0)
    # htmx polls the form while the import runs; a plain link reloads it without JS.
    assert 'hx-get="/integrations/fortnox/mapping" hx-trigger="every 2s"' in page
    assert '<a href="/integrations/fortnox/mapping">Reload</a>' in page
    with app.app_context():
        run = state(app).db.session.query(SyncRun).one()
        run.state, run.finished_at = "finished", utcnow()
        state(app).db.session.commit()
    form = client.get(MAPPING, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Importing your chart" not in form and "every 2s" not in form
    assert "disabled" not in re.search(r"<button[^>]*>Save mapping", form).group(0)  # type: ignore[union-attr]


def test_saving_a_form_opened_before_the_suggestions_keeps_them(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    # The page as it was opened while the import ran: every field empty, nothing shown.
    stale = client.get(MAPPING).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="(shown)" value="([^"]*)">', stale))
    suggest(app, {"sales_25": 3001, "bank": 1930, "receivables": 1510})
    before = stored(app)
    # Saved as the owner's browser sends that page's form: its hidden fields, fields empty.
    response = client.post(MAPPING, data={"csrf_token": csrf(client), **hidden,
                                          **{key: "" for key in FULL}})
    assert response.status_code == 303
    assert stored(app) == before  # no suggestion deleted
    # An owner who clears a field the form showed does clear it.
    page = client.get(MAPPING).get_data(as_text=True)
    shown = re.search(r'name="shown" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    assert set(shown.split()) == {"sales_25", "bank", "receivables"}
    client.post(MAPPING, data={"csrf_token": csrf(client), "shown": shown,
                               "sales_25": "3001", "bank": "", "receivables": "1510"})
    assert set(stored(app)) == {"sales_25", "receivables"}


def test_a_save_that_leaves_accounts_missing_is_a_warning(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    client.post(MAPPING, data={"csrf_token": csrf(client), **FULL, "bank": ""})
    with client.session_transaction() as sess:
        flashes = sess["_flashes"]
    assert [(category, text.split(". ")[0]) for category, text in flashes] == [
        ("warning", "Account mapping saved")]
    assert "missing" in flashes[0][1]
    client.get(MAPPING)  # the flash is shown once
    client.post(MAPPING, data={"csrf_token": csrf(client), **FULL})
    with client.session_transaction() as sess:
        assert [c for c, _ in sess["_flashes"]] == ["success"]


# -- 3. the card is not repeated in full on the mapping page -----------------------------------
def test_the_mapping_page_shows_the_card_in_one_line(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
    login(client)
    page = client.get(MAPPING).get_data(as_text=True)
    assert 'data-testid="fortnox-card-compact"' in page
    for part_of_the_full_card in ("Sync now", "Disconnect", "Connected since", "fortnox-waiting"):
        assert part_of_the_full_card not in page


# -- 4. wording ---------------------------------------------------------------------------
def test_each_field_has_its_own_example_and_counts_use_plurals(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart(inactive={2: {3002}})
    login(client)
    page = client.get(MAPPING).get_data(as_text=True)
    assert 'placeholder="e.g. 1930"' in field_input(page, "bank")
    assert 'placeholder="e.g. 1510"' in field_input(page, "receivables")
    assert page.count('placeholder="e.g. 3001"') == 1  # Sales 25 % only
    response = client.post(MAPPING, data={"csrf_token": csrf(client), **FULL})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not saved: 1 field needs another account." in page
    assert "(s)" not in page


def test_the_card_speaks_to_owners_not_to_administrators(sandbox: Any) -> None:
    app = sandbox_host(sandbox, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    client = app.test_client()
    with app.app_context():
        install_chart()
    login(client)
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Automatic sync is not running right now" in card  # no worker seen yet
    stale = card.split('data-testid="fortnox-worker-stale">')[1].split("</p>")[0]
    assert "flask fortnox" not in card and "worker" not in stale.lower()
    bare, _, _ = create_host(AOURLY_FORTNOX_CLIENT_ID="")
    from aourly_fortnox.migrate import upgrade_database

    with bare.app_context():
        upgrade_database(bare)
    other = bare.test_client()
    login(other)
    card = other.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "your administrator has to set it up for Aourly first" in card
    assert "client id" not in card


def test_the_log_in_swedish_shows_no_english_sentence_of_ours(
    app: Flask, client: FlaskClient
) -> None:
    """A failure Fortnox said nothing about (a timeout) stored our SDK's English sentence as
    "what Fortnox said": the reason column already says it in the owner's language."""
    with app.app_context():
        install_chart()
        db = state(app).db
        db.session.add(SyncRecord(
            company_id="acme", database_number=DB_NUMBER, object_type="invoice", object_id="7",
            label="2025-0007", state=RecordState.FAILED, attempts=1, error_code="RETRYING",
            error_params={"attempts": 1}, fortnox_message=TransientError.default_reason,
            next_attempt_at=utcnow() + timedelta(minutes=5)))
        db.session.add(SyncRecord(
            company_id="acme", database_number=DB_NUMBER, object_type="invoice", object_id="8",
            label="2025-0008", state=RecordState.FAILED, attempts=1, error_code="RETRYING",
            error_params={"attempts": 1}, fortnox_code=2000359,
            fortnox_message="Otillåtna tecken", next_attempt_at=utcnow()))
        db.session.commit()
    login(client)
    page = client.get("/integrations/fortnox/log?state=waiting",
                      headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "2025-0007" in page and "2025-0008" in page
    assert TransientError.default_reason not in page
    assert "2000359: Otillåtna tecken" in page  # Fortnox's own words stay, verbatim


# -- 5. "Connected since" is when this connection began ------------------------------------------
def test_connected_since_after_a_disconnect_and_reconnect(sandbox: Any) -> None:
    app = sandbox_host(sandbox)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None
        conn.connected_at = utcnow() - timedelta(days=400)  # connected long ago
        state(app).db.session.commit()
    old = client.get("/integrations/").get_data(as_text=True)
    client.post("/integrations/fortnox/disconnect", data={"csrf_token": csrf(client)})
    assert connect(client).status_code == 303
    page = client.get("/integrations/").get_data(as_text=True)
    since = re.compile(r"<dt>Connected since</dt><dd>([^<]*)</dd>")
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None and conn.connected_at is not None
        assert utcnow() - conn.connected_at < timedelta(minutes=5)
    assert since.search(page).group(1) != since.search(old).group(1)  # type: ignore[union-attr]


# -- 6. errors tied to their fields, one live region, suggested tags, table headers ------------
def test_a_refused_save_ties_errors_to_fields_and_keeps_the_suggested_tags(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart(inactive={2: {3002, 3003}})
    suggest(app, {"sales_25": 3001, "bank": 1930})
    login(client)
    response = client.post(MAPPING, data={"csrf_token": csrf(client), **FULL})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for key in ("sales_12", "sales_6"):
        tag = field_input(page, key)
        assert 'aria-invalid="true"' in tag
        assert f'aria-describedby="field-{key}-status' in tag
        status = page.split(f'data-testid="field-{key}-status">')[1].split("</div>")[0]
        assert "is inactive in" in status
    assert 'aria-invalid="true"' not in field_input(page, "sales_25")
    # One alert for the refused save, not one per field.
    assert page.count('role="alert"') == 1
    # The accounts still as suggested keep their tag; a changed one is the owner's.
    for key in ("sales_25", "bank"):
        status = page.split(f'data-testid="field-{key}-status">')[1].split("</div>")[0]
        assert "suggested" in status, key


@pytest.mark.parametrize("path", [MAPPING, "/integrations/fortnox/log"])
def test_no_empty_table_headers(app: Flask, client: FlaskClient, path: str) -> None:
    with app.app_context():
        install_chart()
        db = state(app).db
        db.session.add(SyncRecord(
            company_id="acme", database_number=DB_NUMBER, object_type="invoice", object_id="7",
            label="2025-0007", state=RecordState.NEEDS_ATTENTION, error_code="ACCOUNT_UNMAPPED",
            error_params={"label": "Bank"}))
        db.session.commit()
    login(client)
    page = client.get(path + ("?state=needs_attention" if "log" in path else "")).get_data(
        as_text=True)
    assert "<th" in page
    assert re.search(r"<th[^>]*>\s*</th>", page) is None


# -- 7. expiry noticed by the tick ------------------------------------------------------------
def end_access_token(app: Flask) -> None:
    """The stored access token's lifetime is over (a second ago); nothing else changes."""
    conn = get_connection("acme")
    assert conn is not None
    conn.access_expires_at = utcnow() - timedelta(seconds=1)
    state(app).db.session.commit()


def test_a_consent_withdrawn_in_fortnox_turns_the_card_expired_within_an_access_token_lifetime(
    sandbox: Any,
) -> None:
    from aourly_fortnox.sync.schedule import run_tick

    app = sandbox_host(sandbox)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    db = companies(sandbox)[0]["DatabaseNumber"]
    with app.app_context():
        assert run_tick()["kept_alive"] == 0  # just connected: nothing due, nothing refreshed
    sandbox.admin("POST", f"/_admin/companies/{db}/revoke")  # the owner withdraws consent
    # Nothing needs Fortnox; within the hour the card still says Connected...
    with app.app_context():
        run_tick()
        state(app).db.session.expire_all()
        assert get_connection("acme").status == ConnectionStatus.CONNECTED  # type: ignore[union-attr]
        # ...until the access token ends: then the tick refreshes, and Fortnox says no.
        end_access_token(app)
        assert run_tick()["expired"] == 1
        state(app).db.session.expire_all()
        assert get_connection("acme").status == ConnectionStatus.EXPIRED  # type: ignore[union-attr]
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Expired" in card and "Reconnect" in card


def test_an_ended_access_token_is_refreshed_by_the_tick_and_stays_connected(
    sandbox: Any,
) -> None:
    from aourly_fortnox.sync.schedule import run_tick

    app = sandbox_host(sandbox)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    with app.app_context():
        end_access_token(app)
        assert run_tick()["kept_alive"] == 1
        state(app).db.session.expire_all()
        conn = get_connection("acme")
        assert conn is not None and conn.status == ConnectionStatus.CONNECTED
        assert conn.access_expires_at is not None and conn.access_expires_at > utcnow()


# -- 8. the Sync log and Mapping links stay when Expired or Disconnected -------------------------
@pytest.mark.parametrize("status", [ConnectionStatus.EXPIRED, ConnectionStatus.DISCONNECTED])
def test_the_log_and_mapping_stay_readable_when_expired_or_disconnected(
    app: Flask, client: FlaskClient, status: ConnectionStatus
) -> None:
    with app.app_context():
        install_chart()
        conn = get_connection("acme")
        assert conn is not None
        conn.status = status
        state(app).db.session.commit()
    login(client)
    card = client.get("/integrations/").get_data(as_text=True)
    for href in ("/integrations/fortnox/mapping", "/integrations/fortnox/log"):
        assert f'href="{href}"' in card
        assert client.get(href).status_code == 200


def test_the_standalone_layout_says_which_language_the_page_is_in(
    app: Flask, client: FlaskClient
) -> None:
    """A screen reader reads a Swedish page with Swedish pronunciation only if it says so."""
    login(client)
    swedish = client.get("/integrations/", headers={"Accept-Language": "sv"})
    assert '<html lang="sv">' in swedish.get_data(as_text=True)
    assert "<title>Integrationer</title>" in swedish.get_data(as_text=True)
    english = client.get("/integrations/", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.get_data(as_text=True)
