"""OAuth as an attacker tries it (issue 18's audit): a state used twice, a forged Host header,
grants left live at Fortnox, and who a confirmed switch is credited to. Against the sandbox."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.models import Connection
from aourly_fortnox.queries import get_connection
from aourly_fortnox.state import state
from aourly_fortnox.web.oauth_flow import SESSION_KEY

from ..dbstate import SPENT_OAUTH_STATE, unchanged
from .conftest import login
from .flow import REDIS_URL, companies, connect, consent, sandbox_host, start
from .test_access import csrf

pytestmark = pytest.mark.redis  # sandbox_host: the real Redis for locks and the rate limiter


@pytest.fixture
def app(sandbox: Any) -> Iterator[Flask]:
    sandbox.admin("POST", "/_admin/faults", json={})
    yield sandbox_host(sandbox)


def engine(app: Flask) -> Any:
    with app.app_context():
        return state(app).db.engine


def consents(sandbox: Any) -> dict[str, set[str]]:
    """Every consent the sandbox issued, with the states of its refresh tokens."""
    found: dict[str, set[str]] = {}
    for token in sandbox.refresh_tokens():
        found.setdefault(str(token["consent"]), set()).add(token["state"])
    return found


def live_consents(sandbox: Any) -> set[str]:
    return {consent for consent, states in consents(sandbox).items() if "live" in states}


# -- the state is spent on the server ----------------------------------------------------------
def test_an_old_state_cookie_with_a_fresh_code_does_not_connect(
    app: Flask, sandbox: Any
) -> None:
    victim = app.test_client()
    login(victim)
    auth_url = start(victim)
    # The session cookie as it was before the callback (copied, or replayed by an attacker).
    with victim.session_transaction() as sess:
        saved = dict(sess)
    assert victim.get(consent(auth_url)).status_code == 303
    victim.post("/integrations/fortnox/disconnect", data={"csrf_token": csrf(victim)})
    # The old cookie again, and a fresh code Fortnox issued for the same state.
    attacker = app.test_client()
    with attacker.session_transaction() as sess:
        sess.update(saved)
    fresh = consent(auth_url)
    with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
        response = attacker.get(fresh)
    assert response.status_code == 400
    assert "it was already used). Nothing was changed." in response.get_data(as_text=True)
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None and conn.status == "disconnected"


def test_the_state_is_kept_on_the_server_only_as_a_hash(app: Flask) -> None:
    client = app.test_client()
    login(client)
    start(client)
    with client.session_transaction() as sess:
        issued = sess[SESSION_KEY]["state"]
    from ..dbstate import database_dump

    dump = database_dump(engine(app))
    assert issued not in dump and "-- fortnox_oauth_state\n1 " in dump


def test_states_nobody_came_back_for_are_cleared_at_the_next_connect(app: Flask) -> None:
    from datetime import timedelta

    from aourly_fortnox.models import OAuthState, utcnow

    client = app.test_client()
    login(client)
    start(client)
    with app.app_context():
        db = state(app).db
        db.session.query(OAuthState).update({"created_at": utcnow() - timedelta(minutes=16)})
        db.session.commit()
    start(client)
    with app.app_context():
        ages = [utcnow() - row.created_at for row in state(app).db.session.query(OAuthState)]
    assert len(ages) == 1 and ages[0] < timedelta(minutes=1)


def test_a_state_in_its_window_survives_another_companys_connect(app: Flask) -> None:
    """Clearing forgotten states at a Connect clears only those past the 15 minutes: Acme's
    owner, 14 minutes at Fortnox while Globex's owner pressed Connect, still connects."""
    from datetime import timedelta

    from aourly_fortnox.models import OAuthState, utcnow

    acme, globex = app.test_client(), app.test_client()
    login(acme)
    callback = consent(start(acme))
    with app.app_context():
        db = state(app).db
        db.session.query(OAuthState).update({"created_at": utcnow() - timedelta(minutes=14)})
        db.session.commit()
    login(globex, "globex-owner", "globex")
    start(globex)
    assert acme.get(callback).status_code == 303
    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None and conn.status == "connected"


def test_forget_removes_the_companys_waiting_states(app: Flask) -> None:
    from aourly_fortnox.models import OAuthState

    client = app.test_client()
    login(client)
    start(client)
    result = app.test_cli_runner().invoke(args=["fortnox", "forget", "acme", "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert state(app).db.session.query(OAuthState).count() == 0


# -- redirect_uri never from the Host header ---------------------------------------------------
def redirect_uri_of(auth_url: str) -> str:
    return parse_qs(urlsplit(auth_url).query)["redirect_uri"][0]


def forged_host_client(app: Flask) -> FlaskClient:
    """An owner whose every request says ``Host: evil.example``, logged in."""
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"
    login(client)
    return client


def test_a_forged_host_header_never_becomes_the_redirect_uri(sandbox: Any) -> None:
    configured = "http://localhost/integrations/fortnox/callback"
    app = sandbox_host(sandbox, TESTING=False, AOURLY_FORTNOX_REDIRECT_URI=configured)
    client = forged_host_client(app)
    response = client.post("/integrations/fortnox/connect", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert redirect_uri_of(response.headers["Location"]) == configured
    assert "evil.example" not in response.headers["Location"]


def test_without_a_configured_redirect_uri_production_refuses_to_start(
    sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = sandbox_host(sandbox, TESTING=False)
    client = forged_host_client(app)
    with unchanged(engine(app)), caplog.at_level(logging.WARNING, logger="aourly_fortnox"):
        response = client.post("/integrations/fortnox/connect",
                               data={"csrf_token": csrf(client)})
    # The administrator reads, in the log, which setting to add and where it is explained.
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "Fortnox cannot be connected: AOURLY_FORTNOX_REDIRECT_URI is missing (docs/deploy.md)."]
    assert response.status_code == 303
    assert response.headers["Location"] == "/integrations/"
    page = client.get("/integrations/").get_data(as_text=True)
    # The whole sentence the owner reads (and the one the Swedish catalogue translates); the
    # setting's name is for the administrator (logged), never on the owner's page.
    assert ("Fortnox cannot be connected yet: your administrator has to set it up for "
            "Aourly first.") in page
    assert "AOURLY_FORTNOX_REDIRECT_URI" not in page
    with client.session_transaction() as sess:
        assert SESSION_KEY not in sess


def test_trusted_hosts_let_the_callback_url_follow_the_request(sandbox: Any) -> None:
    app = sandbox_host(sandbox, TESTING=False, TRUSTED_HOSTS=["localhost"])
    forged = forged_host_client(app).post("/integrations/fortnox/connect")
    assert forged.status_code == 400  # Flask refuses a Host outside TRUSTED_HOSTS
    client = app.test_client()
    login(client)
    good = client.post("/integrations/fortnox/connect", data={"csrf_token": csrf(client)})
    assert good.status_code == 303
    assert redirect_uri_of(good.headers["Location"]) == (
        "http://localhost/integrations/fortnox/callback"
    )


def test_a_callback_after_the_redirect_uri_stopped_being_trustworthy_stores_nothing(
    sandbox: Any
) -> None:
    """The owner went to Fortnox while the server trusted its Host header; a redeploy without
    TRUSTED_HOSTS (and without AOURLY_FORTNOX_REDIRECT_URI) happened meanwhile. The code cannot
    be exchanged with a callback URL we can no longer vouch for: refused, nothing stored."""
    app = sandbox_host(sandbox, TESTING=False, TRUSTED_HOSTS=["localhost"])
    client = app.test_client()
    login(client)
    callback = consent(start(client))
    app.config["TRUSTED_HOSTS"] = None
    with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
        response = client.get(callback)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ("Fortnox cannot be connected yet: your administrator has to set it up for "
            "Aourly first.") in page
    assert "AOURLY_FORTNOX_REDIRECT_URI" not in page


def test_a_company_fortnox_will_not_name_stores_nothing_and_its_grant_is_revoked(
    app: Flask, sandbox: Any
) -> None:
    """The code was exchanged, but Fortnox's API fails when asked which company it is: the
    owner is told to try again, nothing is stored, and the fresh grant is not left live."""
    client = app.test_client()
    login(client)
    before = set(consents(sandbox))
    callback = consent(start(client))
    sandbox.admin("POST", "/_admin/faults", json={"error_rate": 1.0})
    try:
        with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
            response = client.get(callback)
    finally:
        sandbox.admin("POST", "/_admin/faults", json={})
    assert response.status_code == 502  # Fortnox's trouble, worth retrying
    page = response.get_data(as_text=True)
    # Why, in the client's words (the injected status varies with the fault seed).
    assert re.search(r"Connected to Fortnox, but Fortnox would not tell which company it is "
                     r"\(Fortnox had a temporary problem \(HTTP \d{3}\)\.\)\. Nothing was "
                     r"stored\. Try again\.", page)
    new = set(consents(sandbox)) - before
    assert len(new) == 1 and not new & live_consents(sandbox)


# -- grants replaced are revoked at Fortnox ----------------------------------------------------
def test_a_reconnect_revokes_the_grant_it_replaces(app: Flask, sandbox: Any) -> None:
    client = app.test_client()
    login(client)
    before = set(consents(sandbox))
    assert connect(client).status_code == 303
    first = set(consents(sandbox)) - before
    assert len(first) == 1 and first <= live_consents(sandbox)
    # Connect again without disconnecting (the owner pressed Reconnect, or Connect twice).
    assert connect(client).status_code == 303
    second = set(consents(sandbox)) - before - first
    assert len(second) == 1
    assert not first & live_consents(sandbox), consents(sandbox)
    assert second <= live_consents(sandbox)


def test_a_confirmed_switch_revokes_the_old_companys_grant_and_credits_the_confirmer(
    app: Flask, sandbox: Any
) -> None:
    first_company, second_company = companies(sandbox)[:2]
    owner, other_owner = app.test_client(), app.test_client()
    login(owner, "owner", "acme")
    before = set(consents(sandbox))
    assert connect(owner).status_code == 303
    old = set(consents(sandbox)) - before
    # Another owner of Acme signs in to a different Fortnox company and confirms the switch.
    login(other_owner, "both-owner", "acme")
    response = connect(other_owner, database_number=second_company["DatabaseNumber"])
    assert response.headers["Location"].endswith("/integrations/fortnox/switch-company")
    waiting = set(consents(sandbox)) - before - old
    assert old <= live_consents(sandbox)  # nothing revoked before the owner decides
    other_owner.post("/integrations/fortnox/switch-company",
                     data={"csrf_token": csrf(other_owner), "decision": "switch"})
    assert not old & live_consents(sandbox), consents(sandbox)
    assert waiting <= live_consents(sandbox)
    with app.app_context():
        conn = state(app).db.session.query(Connection).filter_by(company_id="acme").one()
        assert conn.database_number == second_company["DatabaseNumber"]
        assert conn.database_number != first_company["DatabaseNumber"]
        assert conn.connected_by == "both-owner"


def test_a_second_switch_left_waiting_revokes_the_first(app: Flask, sandbox: Any) -> None:
    second = companies(sandbox)[1]
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    before = set(consents(sandbox))
    connect(client, database_number=second["DatabaseNumber"])
    waiting = set(consents(sandbox)) - before
    connect(client, database_number=second["DatabaseNumber"])  # signed in there once more
    again = set(consents(sandbox)) - before - waiting
    assert len(waiting) == len(again) == 1
    assert not waiting & live_consents(sandbox), consents(sandbox)
    assert again <= live_consents(sandbox)


# -- the company Fortnox names is refused: its grant does not stay live ------------------------
def test_a_fortnox_company_already_serving_another_company_is_refused_and_its_grant_revoked(
    app: Flask, sandbox: Any
) -> None:
    """Globex's owner signs in to the Fortnox company Acme is connected to: 409, told which
    Fortnox company and what to do, nothing stored for Globex, and Globex's fresh grant is
    revoked at Fortnox (Acme's stays live)."""
    fortnox_company = companies(sandbox)[0]
    number = fortnox_company["DatabaseNumber"]
    acme, globex = app.test_client(), app.test_client()
    login(acme)
    before = set(consents(sandbox))
    assert connect(acme, database_number=number).status_code == 303
    acmes = set(consents(sandbox)) - before
    login(globex, "globex-owner", "globex")
    with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
        response = connect(globex, database_number=number)
    assert response.status_code == 409
    assert (f"The Fortnox company {fortnox_company['CompanyName']} is already connected to "
            "another Aourly company. One Fortnox company can be connected to one Aourly "
            "company only; disconnect it there first.") in response.get_data(as_text=True)
    globexs = set(consents(sandbox)) - before - acmes
    assert len(globexs) == 1 and not globexs & live_consents(sandbox), consents(sandbox)
    assert acmes <= live_consents(sandbox)


def test_a_token_fortnox_will_not_let_read_the_company_is_a_400_and_its_grant_revoked(
    sandbox: Any,
) -> None:
    """A host whose scopes lack ``companyinformation``: Fortnox refuses to say which company
    the token is for. That is no temporary trouble (400, not 502), nothing is stored, and the
    grant is revoked."""
    app = sandbox_host(sandbox, AOURLY_FORTNOX_SCOPES="customer invoice bookkeeping settings")
    client = app.test_client()
    login(client)
    before = set(consents(sandbox))
    callback = consent(start(client))
    with unchanged(engine(app), ignoring=SPENT_OAUTH_STATE):
        response = client.get(callback)
    assert response.status_code == 400
    assert ("Connected to Fortnox, but Fortnox would not tell which company it is ("
            in response.get_data(as_text=True))
    new = set(consents(sandbox)) - before
    assert len(new) == 1 and not new & live_consents(sandbox), consents(sandbox)


# -- the callback's own request to Fortnox counts against the tenant ---------------------------
def test_the_callbacks_company_read_counts_in_the_companys_rate_window() -> None:
    """Fortnox counts the callback's ``companyinformation`` request against the company's
    limit; so must our shared window for that company, or the import right after Connect
    could send one request too many. (The import is queued, no worker runs it here. A
    sandbox of its own, with a client id of its own: no other run shares this window.)"""
    import uuid

    import redis

    from aourly_fortnox.connection.clients import _rate_limiter, limiter_key
    from aourly_fortnox.sandbox.testing import running_sandbox

    from .rq_keys import forget_queues

    queue = f"test-oauth-charge-{uuid.uuid4().hex[:8]}"
    server = redis.Redis.from_url(REDIS_URL)
    with running_sandbox(client_id=f"charge-{uuid.uuid4().hex[:8]}", code_ttl=600) as own:
        app = sandbox_host(own, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True,
                           AOURLY_FORTNOX_QUEUE_NAME=queue)
        number = companies(own)[0]["DatabaseNumber"]
        with app.app_context():
            limiter = _rate_limiter()
            assert limiter is not None
            tenant = limiter_key(number)
            window = limiter.keys(tenant)[0]
        try:
            client = app.test_client()
            login(client)
            assert connect(client, database_number=number).status_code == 303
            assert own.stats()[tenant]["requests"] == 1  # the company read only
            assert server.zcard(window) == 1
        finally:
            forget_queues(server, (queue,))
            server.delete(window)
            server.close()
