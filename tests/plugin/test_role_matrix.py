"""The audit's role matrix as a test: every plugin route, read from the app's URL map (so a
route added later is covered without touching this file), for every role that must be
refused, with another company's ids; and CSRF on every POST route. A refusal is a 403 or 404
(anonymous: the host's login), with no row changed, nothing flashed, no OAuth trip started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.mapping import prefill_suggestions
from aourly_fortnox.models import RecordState, SyncRecord
from aourly_fortnox.state import state

from ..dbstate import unchanged
from .charts import install_chart
from .conftest import login
from .host import create_host
from .test_access import csrf, no_flash, wrong_tokens
from .test_mapping import FULL

SKIPPED_ENDPOINTS = {"aourly_fortnox.static"}  # the plugin's CSS and htmx: public files


def plugin_routes(app: Flask) -> list[tuple[str, str]]:
    """(rule, method) for every route of the plugin's blueprint in the app's URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("aourly_fortnox.") or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method))
    return sorted(found)


ROUTES = plugin_routes(create_host()[0])
POST_ROUTES = [(rule, method) for rule, method in ROUTES if method == "POST"]


def test_the_matrix_sees_every_documented_route() -> None:
    """The URL map is read, not a copy of it: the documented routes are all there."""
    rules = {rule for rule, _ in ROUTES}
    for documented in ("/integrations/", "/integrations/fortnox/connect",
                       "/integrations/fortnox/callback", "/integrations/fortnox/health",
                       "/integrations/fortnox/log/<int(max=2147483647):record_id>/retry",
                       "/integrations/fortnox/log/<int(max=2147483647):record_id>/link",
                       "/integrations/fortnox/mapping", "/integrations/fortnox/switch-company"):
        assert documented in rules, documented
    assert len(POST_ROUTES) >= 10 and len(ID_ROUTES) >= 2


@dataclass
class World:
    """Two connected companies with charts, mappings and records, and each one's record id."""

    app: Flask
    engine: Any
    record_of: dict[str, int]


@pytest.fixture
def world(app: Flask) -> World:
    record_of: dict[str, int] = {}
    with app.app_context():
        db = state(app).db
        for company in ("acme", "globex"):
            install_chart(company)
            prefill_suggestions(company)
            for object_id, record_state in (("1", RecordState.FAILED), ("2", RecordState.HELD),
                                            ("3", RecordState.NEEDS_ATTENTION)):
                record = SyncRecord(company_id=company, object_type="invoice",
                                    object_id=object_id, state=record_state, attempts=3)
                db.session.add(record)
                db.session.flush()
                record_of.setdefault(company, record.id)
        db.session.commit()
        return World(app, db.engine, record_of)


def url_for_rule(app: Flask, rule_text: str, record_id: int) -> str:
    """The rule with every argument set to ``record_id`` (another company's), plus the query
    a GET route might read (an OAuth callback, an inline validation)."""
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text)
    built = rule.build({argument: record_id for argument in rule.arguments})
    assert built is not None, rule_text
    return built[1] + "?code=forged-code&state=forged-state&validate=bank&bank=1930"


def nothing_started(client: FlaskClient) -> bool:
    """No message of the plugin waits for the person (the host's "please log in" may), and no
    trip to Fortnox was started."""
    from aourly_fortnox.web.oauth_flow import SESSION_KEY

    with client.session_transaction() as sess:
        login_message = client.application.login_manager.login_message  # type: ignore[attr-defined]
        flashes = [m for _, m in sess.get("_flashes", []) if m != login_message]
        return not flashes and SESSION_KEY not in sess


#: What a refused POST would have changed had it run: a switch confirmed, a customer linked,
#: a mapping saved, held items sent.
POST_DATA = {**FULL, "decision": "switch", "create": "1", "customer_number": "AOU1",
             "bookkeep_invoices": "on"}


@dataclass(frozen=True)
class Role:
    """Who asks, in which company, with whose ids, and what the answer must be."""

    name: str
    user: str | None
    company: str | None
    ids_of: str  # whose record id goes into the URL
    expected: tuple[int, ...]
    htmx: bool = False
    switched_from: str | None = None  # the company the user worked in before switching


ROLES = [
    Role("anonymous", None, None, "acme", (302,)),
    Role("anonymous htmx", None, None, "acme", (401,), htmx=True),
    Role("owner of another company, in ours", "globex-owner", "acme", "acme", (404,)),
    Role("coordinator", "coordinator", "acme", "globex", (403,)),
    Role("performer", "performer", "acme", "globex", (403,)),
    Role("not a member", "coordinator", "globex", "globex", (404,)),
    Role("owner turned coordinator by switching company", "owner", "globex", "globex", (403,),
         switched_from="acme"),
]


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
@pytest.mark.parametrize(("rule", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_every_route_refuses_every_role_and_changes_nothing(
    world: World, client: FlaskClient, rule: str, method: str, role: Role
) -> None:
    if role.switched_from:
        login(client, role.user or "", role.switched_from)
        assert client.get("/integrations/").status_code == 200  # an owner there
    if role.user:
        login(client, role.user, role.company or "")
    url = url_for_rule(world.app, rule, world.record_of[role.ids_of])
    headers = {"HX-Request": "true"} if role.htmx else {}
    data = {**POST_DATA, "csrf_token": csrf(client)} if method == "POST" else None
    with unchanged(world.engine):
        response = client.open(url, method=method, data=data, headers=headers)
    assert response.status_code in role.expected, (response.status_code, url)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
    if role.htmx:
        assert "/login" in response.headers["HX-Redirect"]
    assert nothing_started(client)


#: Routes that take an object id (routes without one act on the user's own company).
ID_ROUTES = [(rule, method) for rule, method in ROUTES if "<" in rule]


@pytest.mark.parametrize(("rule", "method"), ID_ROUTES, ids=[f"{m} {r}" for r, m in ID_ROUTES])
def test_the_owner_of_another_company_cannot_reach_ours_by_id(
    world: World, client: FlaskClient, rule: str, method: str
) -> None:
    """Globex's owner, working in Globex, with Acme's record ids: 404, nothing changed."""
    login(client, "globex-owner", "globex")
    url = url_for_rule(world.app, rule, world.record_of["acme"])
    data = {**POST_DATA, "csrf_token": csrf(client)} if method == "POST" else None
    with unchanged(world.engine):
        response = client.open(url, method=method, data=data)
    assert response.status_code == 404
    assert no_flash(client)


@pytest.mark.parametrize("rule", [r for r, _ in POST_ROUTES])
def test_every_post_route_needs_the_sessions_csrf_token(
    world: World, client: FlaskClient, rule: str
) -> None:
    login(client)
    url = url_for_rule(world.app, rule, world.record_of["acme"])
    attempts: list[tuple[str, dict[str, str], dict[str, str]]] = [("none", dict(POST_DATA), {})]
    for kind, token in wrong_tokens(world.app, client).items():
        attempts.append((f"{kind} (form)", {**POST_DATA, "csrf_token": token}, {}))
        attempts.append((f"{kind} (header)", dict(POST_DATA), {"X-CSRFToken": token}))
    for kind, data, headers in attempts:
        with unchanged(world.engine):
            response = client.post(url, data=data, headers=headers)
        assert response.status_code == 400, (kind, response.status_code)
        assert b"expired or was not sent from this site" in response.data, kind
        assert no_flash(client), kind
