"""``flask fortnox ...`` as an operator uses it: rotate-keys, forget, backfill, status.

Key rotation as the README tells it: put the new key first, keep the old one after it,
deploy, run ``flask fortnox rotate-keys``, drop the old key. Every step is checked against
the rows in the database, not against what the command prints.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask

from aourly_fortnox import models, signals
from aourly_fortnox.config import ConfigError
from aourly_fortnox.connection.clients import FortnoxCompany, oauth_client
from aourly_fortnox.connection.crypto import TokenCipher
from aourly_fortnox.connection.lifecycle import hold_for_switch, store_connection
from aourly_fortnox.connection.token_store import DatabaseTokenStore
from aourly_fortnox.fortnox.errors import AuthorizationExpired
from aourly_fortnox.fortnox.oauth import TokenSet
from aourly_fortnox.host import InvoiceData, InvoiceRowData, VoucherData
from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import Connection, RecordState, SyncRecord
from aourly_fortnox.state import state

from ..dbstate import database_dump, unchanged
from .conftest import login
from .flow import connect, sandbox_host
from .host import create_host

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
TOKEN_COLUMNS = ("access_token_enc", "refresh_token_enc", "pending_tokens_enc")


def pair(name: str) -> TokenSet:
    return TokenSet(access_token=f"access-{name}", refresh_token=f"refresh-{name}",
                    expires_at=time.time() + 3600, scope="companyinformation")


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def host(database: str, keys: str) -> Flask:
    app, _, _ = create_host(database, AOURLY_FORTNOX_TOKEN_KEYS=keys)
    return app


def raw_tokens(app: Flask) -> dict[tuple[str, str], str]:
    """Every stored ciphertext by (company, column)."""
    with app.app_context():
        with state(app).db.engine.connect() as conn:
            rows = conn.execute(sa.select(Connection)).mappings().all()
    return {(row["company_id"], column): row[column]
            for row in rows for column in TOKEN_COLUMNS if row[column]}


@pytest.fixture
def old_tokens(database: str) -> dict[tuple[str, str], str]:
    """Two companies' tokens (and a switch waiting for confirmation) under the old key."""
    app = host(database, OLD_KEY)
    with app.app_context():
        upgrade_database(app)
        store_connection("acme", "owner", pair("acme"), FortnoxCompany(1001, "Demo", "1"))
        hold_for_switch("acme", pair("pending"), FortnoxCompany(1002, "Test", "2"))
        store_connection("globex", "globex-owner", pair("globex"), FortnoxCompany(1003, "G", "3"))
        state(app).db.engine.dispose()
    old = TokenCipher(OLD_KEY)
    return {place: old.decrypt(value) for place, value in raw_tokens(app).items()}


def test_several_keys_decrypt_a_token_stored_under_an_older_key(
    database: str, old_tokens: dict[tuple[str, str], str]
) -> None:
    # Deployed with the new key first: tokens stored before the deploy still work.
    app = host(database, f"{NEW_KEY},{OLD_KEY}")
    with app.app_context():
        tokens = DatabaseTokenStore("acme").load()
    assert tokens is not None and tokens.refresh_token == "refresh-acme"
    # And with a third, even older key at the end, the middle one still decrypts.
    app = host(database, f"{Fernet.generate_key().decode()},{OLD_KEY},{NEW_KEY}")
    with app.app_context():
        tokens = DatabaseTokenStore("globex").load()
    assert tokens is not None and tokens.refresh_token == "refresh-globex"


def test_the_first_key_encrypts() -> None:
    cipher = TokenCipher(f"{NEW_KEY}, {OLD_KEY}")
    token = cipher.encrypt("refresh-x")
    assert Fernet(NEW_KEY.encode()).decrypt(token.encode()) == b"refresh-x"
    with pytest.raises(InvalidToken):
        Fernet(OLD_KEY.encode()).decrypt(token.encode())


def test_a_token_no_key_can_read_is_a_clear_error_without_the_token() -> None:
    stranger = Fernet(Fernet.generate_key()).encrypt(b"refresh-secret").decode()
    with pytest.raises(ConfigError) as info:
        TokenCipher([NEW_KEY, OLD_KEY]).decrypt(stranger)
    assert str(info.value) == (
        "A stored Fortnox token cannot be decrypted with AOURLY_FORTNOX_TOKEN_KEYS: keep the old "
        "key in the list (after the new one) until `flask fortnox rotate-keys` has run.")
    assert "refresh-secret" not in str(info.value) and stranger not in str(info.value)
    assert "TokenCipher(***)" == repr(TokenCipher(NEW_KEY))


def test_rotate_keys_re_encrypts_every_stored_token_with_the_new_key(
    database: str, old_tokens: dict[tuple[str, str], str]
) -> None:
    assert len(old_tokens) == 5  # acme: access, refresh, pending; globex: access, refresh
    app = host(database, f"{NEW_KEY},{OLD_KEY}")
    result = app.test_cli_runner().invoke(args=["fortnox", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 5 stored token(s)" in result.output
    for secret in old_tokens.values():
        assert secret not in result.output  # never echoed
    rotated = raw_tokens(app)
    assert set(rotated) == set(old_tokens)
    new_alone, old_alone = TokenCipher(NEW_KEY), TokenCipher(OLD_KEY)
    for place, ciphertext in rotated.items():
        assert new_alone.decrypt(ciphertext) == old_tokens[place], place
        with pytest.raises(ConfigError):
            old_alone.decrypt(ciphertext)
    # The old key can go: the plugin reads every token, the waiting switch included.
    app = host(database, NEW_KEY)
    with app.app_context():
        for company in ("acme", "globex"):
            tokens = DatabaseTokenStore(company).load()
            assert tokens is not None and tokens.refresh_token == f"refresh-{company}"
        from aourly_fortnox.connection.lifecycle import pending_switch

        assert pending_switch("acme") is not None


def test_rotate_keys_twice_changes_no_token(
    database: str, old_tokens: dict[tuple[str, str], str]
) -> None:
    app = host(database, f"{NEW_KEY},{OLD_KEY}")
    runner = app.test_cli_runner()
    runner.invoke(args=["fortnox", "rotate-keys"])
    assert runner.invoke(args=["fortnox", "rotate-keys"]).exit_code == 0
    cipher = TokenCipher(NEW_KEY)
    assert {p: cipher.decrypt(v) for p, v in raw_tokens(app).items()} == old_tokens


# -- backfill ---------------------------------------------------------------------------------
def invoice(invoice_id: str, customer_id: str) -> InvoiceData:
    row = InvoiceRowData("Gig", Decimal("1"), Decimal("1000"), 25)
    return InvoiceData(invoice_id, invoice_id, customer_id, date(2026, 1, 5), date(2026, 2, 4),
                       (row,))


def fill_adapter(app: Flask) -> None:
    adapter: Any = state(app).adapter
    adapter.invoices[("acme", "10")] = invoice("10", "c1")
    adapter.invoices[("acme", "11")] = invoice("11", "c1")  # same customer: recorded once
    adapter.invoices[("acme", "12")] = invoice("12", "c2")
    adapter.vouchers[("acme", "v1")] = VoucherData("v1", "Payout", date(2026, 1, 6))
    adapter.invoices[("globex", "90")] = invoice("90", "c9")


def records(app: Flask) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        state(app).db.session.expire_all()
        return sorted((r.company_id, r.object_type, r.object_id, str(r.state))
                      for r in state(app).db.session.query(SyncRecord).all())


def test_backfill_records_every_sent_invoice_its_customer_and_every_voucher(
    app: Flask,
) -> None:
    fill_adapter(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["fortnox", "backfill", "acme"])
    assert result.exit_code == 0 and "6 item(s) recorded for Fortnox." in result.output
    # Never connected: nothing may reach Fortnox yet; issue 16 calls these *earlier* (they
    # were "held"), offered on the card after the first connection.
    held = str(RecordState.EARLIER)
    assert records(app) == sorted([
        ("acme", "customer", "c1", held), ("acme", "customer", "c2", held),
        ("acme", "invoice", "10", held), ("acme", "invoice", "11", held),
        ("acme", "invoice", "12", held), ("acme", "voucher", "v1", held),
    ])
    again = runner.invoke(args=["fortnox", "backfill", "acme"])
    assert "6 item(s) recorded" in again.output
    assert len(records(app)) == 6  # idempotent per object: no duplicates


def test_backfill_of_a_connected_company_queues_items_as_pending() -> None:
    from .charts import install_chart

    # A real queue with no worker yet: the rows as backfill records them, nothing pushed.
    app, _, _ = create_host(AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    with app.app_context():
        upgrade_database(app)
    fill_adapter(app)
    with app.app_context():
        install_chart()
    app.test_cli_runner().invoke(args=["fortnox", "backfill", "acme"])
    assert {state_ for *_, state_ in records(app)} == {str(RecordState.PENDING)}
    with app.app_context():
        assert {r.database_number for r in state(app).db.session.query(SyncRecord)} == {1001}


def test_status_names_missing_hooks_and_counts_waiting_items(app: Flask) -> None:
    fill_adapter(app)
    runner = app.test_cli_runner()
    runner.invoke(args=["fortnox", "backfill", "acme"])
    output = runner.invoke(args=["fortnox", "status", "acme"]).output
    assert "acme: not connected; earlier 6" in output
    assert "No company: not connected" in runner.invoke(args=["fortnox", "status"]).output
    bare, _, _ = create_host(hooks=False)
    with bare.app_context():
        upgrade_database(bare)
    output = bare.test_cli_runner().invoke(args=["fortnox", "status"]).output
    assert "ERROR: host hooks not registered" in output and "@fortnox.owner_check" in output


# -- forget -----------------------------------------------------------------------------------
@pytest.fixture
def sandbox_app(sandbox: Any) -> Iterator[Flask]:
    sandbox.admin("POST", "/_admin/faults", json={})
    yield sandbox_host(sandbox)


def rows_of(app: Flask, company: str) -> dict[str, int]:
    with app.app_context():
        db = state(app).db
        counts = {}
        for model in (models.SyncRecord, models.SyncRun, models.PulledVoucher,
                      models.AccountMapping, models.Account, models.FinancialYear,
                      models.PredefinedAccount, models.VoucherSeries, models.Connection):
            counts[model.__tablename__] = db.session.query(model).filter(
                model.company_id == company).count()
        return counts


@pytest.mark.redis
def test_forget_revokes_and_deletes_one_companys_rows_only(sandbox_app: Flask) -> None:
    app = sandbox_app
    acme = app.test_client()
    login(acme)
    assert connect(acme).status_code == 303
    with app.app_context():
        st = state(app)
        refresh = st.cipher.decrypt(st.db.session.query(Connection).one().refresh_token_enc or "")
        st.ext.sync_invoice("acme", 1)
        st.db.session.add(models.AccountMapping(company_id="globex", key="bank", account=1930))
        st.db.session.add(SyncRecord(company_id="globex", object_type="invoice", object_id="9",
                                     state=RecordState.HELD))
        st.db.session.commit()
    acme_rows = rows_of(app, "acme")
    assert all(acme_rows[t] for t in ("fortnox_connection", "fortnox_account",
                                      "fortnox_account_mapping", "fortnox_sync_record",
                                      "fortnox_sync_run", "fortnox_financial_year"))
    globex_before = rows_of(app, "globex")
    runner = app.test_cli_runner()

    with app.app_context():
        engine = state(app).db.engine
    with unchanged(engine):  # the operator answers "no"
        declined = runner.invoke(args=["fortnox", "forget", "acme"], input="n\n")
    assert declined.exit_code != 0 and "Aborted" in declined.output
    assert "Forgot" not in declined.output

    disconnected: list[str] = []

    def on_disconnected(sender: Any, **kw: Any) -> None:
        disconnected.append(kw["company_id"])

    signals.disconnected.connect(on_disconnected, app)
    try:
        result = runner.invoke(args=["fortnox", "forget", "acme", "--yes"])
    finally:
        signals.disconnected.disconnect(on_disconnected, app)
    assert result.exit_code == 0 and "Forgot company acme." in result.output
    assert disconnected == ["acme"]
    assert set(rows_of(app, "acme").values()) == {0}
    assert rows_of(app, "globex") == globex_before
    with app.app_context():
        assert refresh not in database_dump(state(app).db.engine)
        with pytest.raises(AuthorizationExpired):
            oauth_client().refresh(refresh)  # revoked at Fortnox before the rows went


def test_forget_with_the_answer_yes_at_the_prompt(app: Flask) -> None:
    from .charts import install_chart

    with app.app_context():
        install_chart()
    result = app.test_cli_runner().invoke(args=["fortnox", "forget", "acme"], input="y\n")
    assert result.exit_code == 0 and "Forgot company acme." in result.output
    assert set(rows_of(app, "acme").values()) == {0}


def test_blank_entries_in_the_key_list_are_ignored_and_bad_keys_are_named_by_position(
) -> None:
    cipher = TokenCipher(f" {NEW_KEY} , ,{OLD_KEY}, ")
    assert cipher.decrypt(Fernet(OLD_KEY.encode()).encrypt(b"x").decode()) == "x"
    with pytest.raises(ConfigError) as info:
        TokenCipher(" , ")
    assert str(info.value) == "AOURLY_FORTNOX_TOKEN_KEYS holds no key."
    with pytest.raises(ConfigError) as info:
        TokenCipher(f"{NEW_KEY},not-a-key")
    assert str(info.value) == ("AOURLY_FORTNOX_TOKEN_KEYS: key 2 is not a valid Fernet key "
                               "(32 url-safe base64-encoded bytes).")
    with pytest.raises(ConfigError, match="key 1 is not"):
        TokenCipher(["not-a-key", NEW_KEY])
