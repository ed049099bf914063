"""The token store the plugin ships (``DatabaseTokenStore``), on SQLite and on PostgreSQL.

Fortnox refresh tokens are single use: two workers that both store "their" new pair would
leave one of them with a dead token and the connection broken. The store's compare-and-set
is what prevents it, so it is tested here on the real tables, not on a stand-in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from aourly_fortnox import signals
from aourly_fortnox.connection.clients import FortnoxCompany
from aourly_fortnox.connection.lifecycle import store_connection
from aourly_fortnox.connection.token_store import DatabaseTokenStore
from aourly_fortnox.fortnox.oauth import TokenSet
from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import Connection, ConnectionStatus, utcnow
from aourly_fortnox.state import state

from ..dbstate import unchanged
from .host import create_host

COMPANY = FortnoxCompany(1001, "Demo Bygg AB", "556677-8899")


def pair(name: str, expires_in: float = 3600) -> TokenSet:
    return TokenSet(access_token=f"access-{name}", refresh_token=f"refresh-{name}",
                    expires_at=time.time() + expires_in, scope="companyinformation")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tokens.db'}"  # a file: threads get their own connections
    else:
        url = str(request.getfixturevalue("postgres_url"))
    app, _, _ = create_host(url)
    with app.app_context():
        upgrade_database(app)
        store_connection("acme", "owner", pair("0"), COMPANY)
        store_connection("globex", "globex-owner", pair("g"), FortnoxCompany(1002, "T", "1"))
    yield app
    with app.app_context():
        state(app).db.session.remove()
        state(app).db.engine.dispose()  # PostgreSQL: no open connection when it is dropped


def stored(app: Flask, company: str = "acme") -> dict[str, Any]:
    """The row as the database holds it, tokens decrypted."""
    with app.app_context():
        with state(app).db.engine.connect() as conn:
            row = conn.execute(sa.select(Connection).where(Connection.company_id == company))
            values = dict(row.mappings().one())
        cipher = state(app).cipher
        for column in ("access_token_enc", "refresh_token_enc"):
            raw = values[column]
            values[column.removesuffix("_enc")] = cipher.decrypt(raw) if raw else None
        return values


def engine(app: Flask) -> sa.Engine:
    with app.app_context():
        return state(app).db.engine


def test_load_gives_back_the_stored_pair_encrypted_at_rest(app: Flask) -> None:
    with app.app_context():
        tokens = DatabaseTokenStore("acme").load()
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == ("access-0", "refresh-0")
    assert abs(tokens.expires_at - (time.time() + 3600)) < 60
    row = stored(app)
    assert "refresh-0" not in row["refresh_token_enc"] and "access-0" not in row["access_token_enc"]


def test_replace_with_the_stored_refresh_token_stores_the_new_pair(app: Flask) -> None:
    before = stored(app)
    with app.app_context():
        assert DatabaseTokenStore("acme").replace("refresh-0", pair("1")) is True
        loaded = DatabaseTokenStore("acme").load()
    assert loaded is not None
    assert (loaded.access_token, loaded.refresh_token) == ("access-1", "refresh-1")
    after = stored(app)
    assert (after["access_token"], after["refresh_token"]) == ("access-1", "refresh-1")
    assert after["token_refreshed_at"] is not None
    assert after["refresh_expires_at"] >= before["refresh_expires_at"]
    assert stored(app, "globex")["refresh_token"] == "refresh-g"  # one company's row only


def test_replace_with_a_stale_refresh_token_changes_nothing(app: Flask) -> None:
    with app.app_context():
        assert DatabaseTokenStore("acme").replace("refresh-0", pair("1"))
    with unchanged(engine(app)), app.app_context():
        # A worker still holding the old pair lost the race: it must not overwrite the winner.
        assert DatabaseTokenStore("acme").replace("refresh-0", pair("2")) is False
        # Nor may another company's token be used to write this one's row.
        assert DatabaseTokenStore("acme").replace("refresh-g", pair("3")) is False
    assert stored(app)["refresh_token"] == "refresh-1"


def test_a_pair_stored_between_our_read_and_our_write_wins(app: Flask) -> None:
    """Another worker commits its new pair after we read the row but before we write: the
    stored ciphertext is no longer the one we read, so our write must not happen."""
    eng = engine(app)
    rival_result: list[bool] = []

    def rival_commits_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and not rival_result:
            rival_result.append(False)  # re-entry guard: the rival's own UPDATE passes
            rival_result[0] = DatabaseTokenStore("acme").replace("refresh-0", pair("rival"))

    sa.event.listen(eng, "before_cursor_execute", rival_commits_first)
    try:
        with app.app_context():
            ours = DatabaseTokenStore("acme").replace("refresh-0", pair("ours"))
    finally:
        sa.event.remove(eng, "before_cursor_execute", rival_commits_first)
    assert rival_result == [True]
    assert ours is False
    row = stored(app)
    assert (row["access_token"], row["refresh_token"]) == ("access-rival", "refresh-rival")


def test_two_refreshers_racing_with_the_same_old_token_leave_exactly_one_pair(
    app: Flask,
) -> None:
    racers = 6
    barrier = threading.Barrier(racers)
    results: dict[int, bool] = {}

    def refresh(i: int) -> None:
        with app.app_context():
            store = DatabaseTokenStore("acme")
            barrier.wait()
            results[i] = store.replace("refresh-0", pair(f"new{i}"))

    threads = [threading.Thread(target=refresh, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [i for i, won in results.items() if won]
    assert len(results) == racers and len(winners) == 1
    row = stored(app)
    assert row["refresh_token"] == f"refresh-new{winners[0]}"
    assert row["access_token"] == f"access-new{winners[0]}"


def test_mark_expired_only_when_the_refused_token_is_still_stored(app: Flask) -> None:
    events: list[dict[str, Any]] = []

    def on_expired(sender: Any, **kw: Any) -> None:
        events.append(kw)

    signals.connection_expired.connect(on_expired, app)
    try:
        with app.app_context():
            assert DatabaseTokenStore("acme").replace("refresh-0", pair("1"))
        with unchanged(engine(app)), app.app_context():
            # Fortnox refused an old token someone already rotated: the connection is fine.
            DatabaseTokenStore("acme").mark_expired("refresh-0")
        assert events == []
        with app.app_context():
            DatabaseTokenStore("acme").mark_expired("refresh-1", "revoked at Fortnox")
            assert DatabaseTokenStore("acme").load() is None
    finally:
        signals.connection_expired.disconnect(on_expired, app)
    row = stored(app)
    assert row["status"] == ConnectionStatus.EXPIRED
    assert row["expired_reason"] == "revoked at Fortnox" and row["expired_at"] is not None
    assert row["access_token_enc"] is None and row["refresh_token_enc"] is None
    assert events == [{"company_id": "acme", "reason": "revoked at Fortnox"}]
    assert stored(app, "globex")["status"] == ConnectionStatus.CONNECTED


def test_a_refresh_token_past_its_lifetime_loads_as_expired(app: Flask) -> None:
    with app.app_context():
        db = state(app).db
        conn = db.session.query(Connection).filter_by(company_id="acme").one()
        conn.refresh_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert DatabaseTokenStore("acme").load() is None
    row = stored(app)
    assert row["status"] == ConnectionStatus.EXPIRED and row["refresh_token_enc"] is None
    assert "45 days" in row["expired_reason"]


def test_nothing_to_load_or_replace_when_not_connected(app: Flask) -> None:
    with app.app_context():
        assert DatabaseTokenStore("nobody").load() is None
        assert DatabaseTokenStore("nobody").replace("refresh-0", pair("1")) is False
        db = state(app).db
        db.session.query(Connection).filter_by(company_id="acme").one().status = (
            ConnectionStatus.DISCONNECTED
        )
        db.session.commit()
        assert DatabaseTokenStore("acme").load() is None


def test_a_refused_token_expires_the_connection_with_words_for_the_owner_and_a_log_line(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="aourly_fortnox.connection"), app.app_context():
        DatabaseTokenStore("acme").mark_expired("refresh-0")  # Fortnox said invalid_grant
    row = stored(app)
    assert row["status"] == ConnectionStatus.EXPIRED
    # Stored as the msgid; the card words it with the host's product name.
    assert row["expired_reason"] == (
        "Fortnox no longer accepts the authorization of %(product)s (it was revoked, used "
        "elsewhere or ran out)."
    )
    assert caplog.messages == ["Fortnox connection of company acme expired"]
    assert "refresh-0" not in caplog.text


def test_load_gives_the_scope_and_the_expiry_the_refresh_decision_needs(app: Flask) -> None:
    with app.app_context():
        tokens = DatabaseTokenStore("acme").load()
        assert tokens is not None and tokens.scope == "companyinformation"
        db = state(app).db
        conn = db.session.query(Connection).filter_by(company_id="acme").one()
        conn.access_expires_at = None  # unknown expiry: must count as expired (refresh first)
        conn.scope = None
        db.session.commit()
        tokens = DatabaseTokenStore("acme").load()
    assert tokens is not None and tokens.expires_at == 0.0 and tokens.scope == ""


def test_the_45_day_expiry_is_worded_for_the_owner(app: Flask) -> None:
    with app.app_context():
        db = state(app).db
        conn = db.session.query(Connection).filter_by(company_id="acme").one()
        conn.refresh_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert DatabaseTokenStore("acme").load() is None
    assert stored(app)["expired_reason"] == "The Fortnox authorization ran out after 45 days."
