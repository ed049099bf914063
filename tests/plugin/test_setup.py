"""init_app, settings and hooks: what a host developer meets first."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from aourly_fortnox import ConfigError, FortnoxIntegration
from aourly_fortnox.state import state

from ..dbstate import unchanged
from .charts import install_chart
from .conftest import login
from .host import TOKEN_KEY, create_host
from .test_access import csrf


def test_unknown_setting_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="AOURLY_FORTNOX_RATE_LIMT.*AOURLY_FORTNOX_RATE_LIMIT"):
        create_host(AOURLY_FORTNOX_RATE_LIMT="10/5")


def test_missing_token_key_is_a_startup_error_naming_the_key() -> None:
    # Outside testing only: an app with TESTING set gets an ephemeral key (test_host_developer).
    with pytest.raises(ConfigError, match="AOURLY_FORTNOX_TOKEN_KEYS"):
        create_host(TESTING=False, AOURLY_FORTNOX_TOKEN_KEYS="")


def test_malformed_token_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as info:
        create_host(AOURLY_FORTNOX_TOKEN_KEYS="not-a-key-secret-value")
    assert "not-a-key-secret-value" not in str(info.value)


def test_bad_rate_limit_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="RATE_LIMIT"):
        create_host(AOURLY_FORTNOX_RATE_LIMIT="fast")


def test_defaults_and_overrides_are_read_once_per_app() -> None:
    first, _, _ = create_host()
    second, _, _ = create_host(AOURLY_FORTNOX_URL_PREFIX="/apps/", AOURLY_FORTNOX_RATE_LIMIT="10/5")
    assert state(first).settings.url_prefix == "/integrations"
    assert state(first).settings.api_url == "https://api.fortnox.se"
    assert state(second).settings.url_prefix == "/apps"
    assert state(second).settings.rate_limit == "10/5"
    # Two apps in one process keep their own state; the second prefix serves the plugin.
    assert state(first) is not state(second)
    assert "/apps/" in {r.rule for r in second.url_map.iter_rules()}


def test_registering_twice_on_one_app_is_an_error() -> None:
    app, fortnox, db = create_host()
    with pytest.raises(RuntimeError, match="already registered"):
        fortnox.init_app(app, db=db)


def test_settings_repr_hides_secrets() -> None:
    app, _, _ = create_host()
    text = repr(state(app).settings)
    assert TOKEN_KEY not in text and "test-secret-value" not in text


def test_adapter_must_implement_the_protocol() -> None:
    app = Flask("x")
    app.config.update(AOURLY_FORTNOX_TOKEN_KEYS=TOKEN_KEY, SQLALCHEMY_DATABASE_URI="sqlite://")
    db = SQLAlchemy(app)
    with pytest.raises(ConfigError, match="HostAdapter"):
        FortnoxIntegration().init_app(app, db=db, adapter=object())  # type: ignore[arg-type]


def test_missing_owner_hook_fails_closed_and_logs_the_hook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _, _ = create_host(hooks=False)
    from aourly_fortnox.migrate import upgrade_database

    with app.app_context():
        upgrade_database(app)
    client = app.test_client()
    login(client)
    with app.app_context():
        install_chart()
        engine = state(app).db.engine
    with caplog.at_level(logging.ERROR, logger="aourly_fortnox"), unchanged(engine):
        response = client.get("/integrations/")
        posted = client.post("/integrations/fortnox/disconnect", data={"csrf_token": csrf(client)})
    assert response.status_code == 403 and posted.status_code == 403
    with client.session_transaction() as sess:
        assert not sess.get("_flashes")
    assert "@fortnox.owner_check" in caplog.text
    assert "@fortnox.current_company_loader" in caplog.text


def test_sync_calls_join_the_host_transaction(app: Flask) -> None:
    """A transactional outbox: the row is committed with the host's change or not at all."""
    from aourly_fortnox.models import SyncRecord

    with app.app_context():
        st = state(app)
        st.ext.sync_invoice("acme", 5)
        st.db.session.rollback()  # the host's change failed: no intent survives it
        assert st.db.session.query(SyncRecord).count() == 0
        st.ext.sync_invoice("acme", 5)
        st.ext.sync_invoice("acme", 5)  # idempotent per object
        st.db.session.commit()
        assert st.db.session.query(SyncRecord).count() == 1
        # Never connected: *earlier* (issue 16; it was "held").
        assert st.ext.sync_states("acme", "invoice", [5, 6]) == {"5": "earlier"}


def test_a_host_label_that_needs_a_request_does_not_break_a_worker(app: Flask) -> None:
    from flask import session

    from aourly_fortnox.mapping import key_specs

    ext = state(app).ext
    ext.register_mapping_key("fees", lambda: str(session["lang"]), 6570)
    try:
        with app.app_context():  # a worker: no request, so the callable raises
            assert [s.label for s in key_specs() if s.key == "fees"] == ["fees"]
        with app.test_request_context():
            session["lang"] = "sv"
            assert [s.label for s in key_specs() if s.key == "fees"] == ["sv"]
    finally:
        ext._host_mapping_keys.pop("fees")
