"""What a host developer trips on when mounting the plugin (issue: flaskr followed the README).

Each test is a finding: no Redis URL, no token key in the host's own tests, the owner hook's
argument type, the product name, a company that goes away, a pasted sandbox URL.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from aourly_fortnox import ConfigError
from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import AccountMapping, SyncRecord, SyncRun
from aourly_fortnox.queries import get_connection
from aourly_fortnox.sandbox.__main__ import banner
from aourly_fortnox.sandbox.settings import Settings as SandboxSettings
from aourly_fortnox.state import state

from ..dbstate import unchanged
from .charts import install_chart
from .conftest import login
from .flow import REDIS_URL, companies, connect, sandbox_host
from .host import USERS, User, create_host
from .test_access import csrf

ROOT = Path(__file__).resolve().parents[2]


# -- No Redis URL ------------------------------------------------------------------------------
def test_no_redis_outside_testing_is_a_startup_error_naming_both_ways_out() -> None:
    with pytest.raises(ConfigError) as info:
        create_host(TESTING=False, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    message = str(info.value)
    assert "AOURLY_FORTNOX_REDIS_URL is not set" in message
    assert "AOURLY_FORTNOX_QUEUE_IS_ASYNC = False" in message


def test_a_redis_connection_or_the_inline_queue_start_without_a_url() -> None:
    import fakeredis

    from aourly_fortnox import FortnoxIntegration

    create_host(TESTING=False, AOURLY_FORTNOX_QUEUE_IS_ASYNC=False)  # the explicit inline queue
    app = Flask("with_redis")
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://",
                      AOURLY_FORTNOX_TOKEN_KEYS=state(create_host()[0]).settings.token_keys)
    from flask_sqlalchemy import SQLAlchemy

    FortnoxIntegration().init_app(app, db=SQLAlchemy(app), redis=fakeredis.FakeRedis())


def test_sync_now_without_redis_in_a_testing_app_explains_and_is_never_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="aourly_fortnox"):
        app, _, db = create_host(AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    assert "AOURLY_FORTNOX_REDIS_URL is not set" in caplog.text
    with app.app_context():
        upgrade_database(app)
        install_chart()
    client = app.test_client()
    login(client)
    response = client.post("/integrations/fortnox/sync", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    page = client.get("/integrations/").get_data(as_text=True)
    assert "The job queue (Redis) is not reachable right now" in page
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Syncing" not in card  # the run ended, it does not hang at "0 of ?"
    with app.app_context():
        run = db.session.query(SyncRun).one()
        assert run.state == "failed" and run.message == "QUEUE_UNAVAILABLE"
    htmx = client.post("/integrations/fortnox/sync", data={"csrf_token": csrf(client)},
                       headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "Syncing" not in htmx.get_data(as_text=True)


# -- Token keys in a host's own tests ----------------------------------------------------------
def test_a_testing_app_without_token_keys_gets_an_ephemeral_key_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="aourly_fortnox"):
        first, _, _ = create_host(AOURLY_FORTNOX_TOKEN_KEYS="")
        second, _, _ = create_host(AOURLY_FORTNOX_TOKEN_KEYS=None)
    assert caplog.text.count("ephemeral key") == 2
    with first.app_context():
        cipher = state(first).cipher
        assert cipher.decrypt(cipher.encrypt("refresh-token")) == "refresh-token"
    # Each app its own key: nothing stored by one is readable by another.
    assert state(first).settings.token_keys != state(second).settings.token_keys
    assert "***" in repr(state(first).settings)  # masked like a configured key


def test_outside_testing_a_missing_token_key_is_still_a_startup_error() -> None:
    with pytest.raises(ConfigError, match="AOURLY_FORTNOX_TOKEN_KEYS is not set"):
        create_host(TESTING=False, AOURLY_FORTNOX_TOKEN_KEYS="")


# -- a host that forgot its hooks fails closed ----------------------------------------------
def test_without_the_hosts_hooks_every_route_is_refused_and_the_log_names_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A signed-in owner of the host still gets 403 everywhere (GET and POST) while the host
    has registered none of the hooks, and the error log says which ones are missing."""
    app, _, _ = create_host(hooks=False)
    with app.app_context():
        upgrade_database(app)
        engine = state(app).db.engine
    client = app.test_client()
    login(client)
    with unchanged(engine), caplog.at_level(logging.ERROR, logger="aourly_fortnox"):
        assert client.get("/integrations/").status_code == 403
        assert client.get("/integrations/fortnox/mapping").status_code == 403
        response = client.post("/integrations/fortnox/connect", data={"csrf_token": csrf(client)})
        assert response.status_code == 403
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert refusals and all(m.startswith("aourly_fortnox refuses every request: the host has "
                                         "not registered @fortnox.") for m in refusals)
    assert "current_company_loader" in refusals[0] and "owner_check" in refusals[0]
    # Both missing hooks named, as a sentence the developer can read.
    assert "@fortnox.current_company_loader and @fortnox.owner_check" in refusals[0]
    assert refusals[0].endswith(" (see the README, 'Mount it in your host').")


# -- owner_check's arguments, and a denial in the log ------------------------------------------
def test_hooks_get_the_company_id_as_a_string_and_a_denial_is_logged_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, fortnox, _ = create_host(hooks=False)
    with app.app_context():
        upgrade_database(app)
    seen: list[tuple[str, Any]] = []
    USERS["int-owner"] = User("int-owner", {})

    @fortnox.current_company_loader
    def current_company() -> int:
        return 7  # a host with integer ids

    @fortnox.owner_check
    def is_owner(user: User, company_id: Any) -> bool:
        seen.append(("owner", company_id))
        return company_id == 7  # the natural mistake: the plugin passes "7"

    @fortnox.member_check
    def is_member(user: User, company_id: Any) -> bool:
        seen.append(("member", company_id))
        return True

    client = app.test_client()
    try:
        login(client, "int-owner", "7")
        with caplog.at_level(logging.DEBUG, logger="aourly_fortnox"):
            assert client.get("/integrations/").status_code == 403
    finally:
        del USERS["int-owner"]
    assert seen == [("member", "7"), ("owner", "7")]
    denial = [r for r in caplog.records if r.levelno == logging.DEBUG and "owner_check" in
              r.getMessage()]
    assert denial and "'7'" in denial[0].getMessage() and "int-owner" in denial[0].getMessage()
    assert denial[0].getMessage() == (
        "aourly_fortnox: 403 for user 'int-owner': owner_check(user, '7') was false (the "
        "company id is always a str)")


def test_a_non_member_gets_404_and_the_debug_log_says_which_user_and_company(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A signed-in user on a company they do not belong to: 404 (the company's existence is not
    told), and the debug log names the user and the company id the member check was given."""
    app, _, _ = create_host()
    with app.app_context():
        upgrade_database(app)
    client = app.test_client()
    login(client, "coordinator", "globex")  # a member of acme only
    with caplog.at_level(logging.DEBUG, logger="aourly_fortnox"):
        assert client.get("/integrations/").status_code == 404
    denial = [r.getMessage() for r in caplog.records
              if r.levelno == logging.DEBUG and "404" in r.getMessage()]
    assert denial == ["aourly_fortnox: 404 for user 'coordinator': no current company, or "
                      "member_check(user, 'globex') was false"]


# -- The host's product name -------------------------------------------------------------------
def test_the_product_name_replaces_aourly_in_english_and_swedish() -> None:
    app, fortnox, _ = create_host(AOURLY_FORTNOX_PRODUCT_NAME="Flaskr")
    with app.app_context():
        upgrade_database(app)
        install_chart()
    language = {"code": "en"}

    @fortnox.locale_loader
    def locale() -> str:
        return language["code"]

    client = app.test_client()
    login(client)
    for code, sentence in (("en", "Connect Flaskr to the systems"),
                           ("sv", "Anslut Flaskr till systemen")):
        language["code"] = code
        for path in ("/integrations/", "/integrations/fortnox/disconnect"):
            page = client.get(path).get_data(as_text=True)
            assert "Aourly" not in page, (code, path)
        page = client.get("/integrations/").get_data(as_text=True)
        assert sentence in page
        confirm = client.get("/integrations/fortnox/disconnect").get_data(as_text=True)
        assert "Flaskr" in confirm
    default, _, _ = create_host()
    with default.app_context():
        upgrade_database(default)
    plain = default.test_client()
    login(plain)
    assert "Connect Aourly to the systems" in plain.get("/integrations/").get_data(as_text=True)


def test_no_owner_visible_string_names_aourly() -> None:
    """Every sentence the owner reads takes the product from the setting (``%(product)s``)."""
    from babel.messages.pofile import read_po

    po = ROOT / "aourly_fortnox/translations/sv/LC_MESSAGES/aourly_fortnox.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="sv", domain="aourly_fortnox")
    named = [m.id for m in catalog if m.id and "Aourly" in str(m.id) + str(m.string)]
    assert named == []
    assert sum("%(product)s" in str(m.id) for m in catalog if m.id) >= 10


# -- A company that goes away ------------------------------------------------------------------
@pytest.mark.redis
def test_forget_in_python_lets_a_reused_company_id_start_clean(sandbox: Any) -> None:
    sandbox.admin("POST", "/_admin/faults", json={})
    app = sandbox_host(sandbox)
    first, second = (c["DatabaseNumber"] for c in companies(sandbox)[:2])
    client = app.test_client()
    login(client)
    assert connect(client, database_number=first).status_code == 303
    assert "Demo Bygg AB" in client.get("/integrations/").get_data(as_text=True)
    with app.app_context():
        state(app).ext.sync_invoice("acme", 1)
        state(app).db.session.commit()
        install_chart("globex")
    with app.app_context():
        engine = state(app).db.engine
        globex = {t: n for t, n in _counts(app, "globex").items()}
        assert state(app).ext.forget("acme") is True
        assert set(_counts(app, "acme").values()) == {0}
        assert _counts(app, "globex") == globex  # another company untouched
        with unchanged(engine):
            assert state(app).ext.forget("acme") is False  # nothing left to forget
    # The host reuses the id "acme" for a new company: no connection, no mapping, no history.
    card = client.get("/integrations/").get_data(as_text=True)
    assert "Connect Fortnox" in card and "Demo Bygg AB" not in card
    response = connect(client, database_number=second)
    assert response.status_code == 303
    assert "switch-company" not in response.headers["Location"]  # no "connected before"
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None and conn.database_number == second
        assert state(app).db.session.query(SyncRecord).filter_by(company_id="acme").count() == 0


def _counts(app: Flask, company: str) -> dict[str, int]:
    from aourly_fortnox.sync.forget import COMPANY_TABLES

    db = state(app).db
    return {
        model.__tablename__: db.session.query(model).filter(
            model.__table__.c.company_id == company).count()
        for model in COMPANY_TABLES
    }


def test_forget_covers_every_table_with_a_company_column() -> None:
    from aourly_fortnox import metadata
    from aourly_fortnox.sync.forget import COMPANY_TABLES

    with_company = {t.name for t in metadata.tables.values() if "company_id" in t.c}
    assert {m.__tablename__ for m in COMPANY_TABLES} == with_company
    assert AccountMapping.__tablename__ in with_company


# -- The standalone sandbox's URLs -------------------------------------------------------------
def test_the_sandbox_banner_names_the_settings_to_paste() -> None:
    text = banner("http://127.0.0.1:8765", SandboxSettings(), [])
    assert "AOURLY_FORTNOX_API_URL=http://127.0.0.1:8765\n" in text + "\n"
    assert "AOURLY_FORTNOX_AUTH_URL=http://127.0.0.1:8765/oauth-v1" in text
    assert "API base" not in text


def test_a_pasted_rest_or_authorize_url_is_normalised_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="aourly_fortnox"):
        app, _, _ = create_host(AOURLY_FORTNOX_API_URL="http://127.0.0.1:8765/3/",
                                AOURLY_FORTNOX_AUTH_URL="http://127.0.0.1:8765/oauth-v1/auth")
    settings = state(app).settings
    assert settings.api_url == "http://127.0.0.1:8765"
    assert settings.auth_url == "http://127.0.0.1:8765/oauth-v1"
    assert "appends /3/... itself" in caplog.text and "base of /auth" in caplog.text


@pytest.mark.redis
def test_a_sandbox_api_url_pasted_with_3_still_connects(sandbox: Any) -> None:
    app, _, _ = create_host(
        AOURLY_FORTNOX_AUTH_URL=f"{sandbox.url}/oauth-v1/",
        AOURLY_FORTNOX_API_URL=f"{sandbox.url}/3/",  # as the old banner's "API base" said
        AOURLY_FORTNOX_CLIENT_ID=sandbox.client_id,
        AOURLY_FORTNOX_CLIENT_SECRET=sandbox.client_secret,
        AOURLY_FORTNOX_REDIS_URL=REDIS_URL, AOURLY_FORTNOX_RATE_LIMIT="240/5",
    )
    with app.app_context():
        upgrade_database(app)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Connected" in page
