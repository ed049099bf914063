"""What the security audit (issue 18) forged against the plugin's routes: ids beyond the
integer range, digits that are not ASCII, huge anonymous bodies, framing, and the health
check. Each answer is a clear refusal that changes nothing, never a 500."""

from __future__ import annotations

import hmac
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.models import RecordState, SyncRecord
from aourly_fortnox.state import state

from ..dbstate import unchanged
from . import test_access
from .charts import install_chart
from .conftest import login
from .host import create_host
from .test_access import csrf, no_flash
from .test_mapping import FULL, post_mapping, stored

HUGE_ID = "99999999999999999999999"

#: test_access's fixture under another name: a connected company, a chart, and records.
seeded = test_access.engine


# -- ids beyond the integer range --------------------------------------------------------------
@pytest.mark.parametrize("action", ["retry", "link"])
def test_an_id_beyond_the_integer_range_is_404_and_changes_nothing(
    client: FlaskClient, seeded: Any, action: str
) -> None:
    login(client)
    for record_id in (HUGE_ID, str(2**31), str(2**63)):
        with unchanged(seeded):
            response = client.post(f"/integrations/fortnox/log/{record_id}/{action}",
                                   data={"csrf_token": csrf(client), "create": "1"})
        assert response.status_code == 404, record_id
    assert no_flash(client)


def test_the_largest_possible_id_is_still_looked_up(app: Flask, client: FlaskClient) -> None:
    """The control: the router's limit is the column's, not lower."""
    with app.app_context():
        db = state(app).db
        db.session.add(SyncRecord(id=2**31 - 1, company_id="acme", object_type="invoice",
                                  object_id="9", state=RecordState.FAILED))
        db.session.commit()
    login(client)
    response = client.post(f"/integrations/fortnox/log/{2**31 - 1}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    with app.app_context():
        record = state(app).db.session.get(SyncRecord, 2**31 - 1)
        assert record is not None and record.state == RecordState.PENDING


# -- account numbers: four ASCII digits only ---------------------------------------------------
@pytest.mark.parametrize("forged", ["３００１", "٣٠٠١", "3²01", "3001\u0660", "۳۰۰۱", "𝟑𝟎𝟎𝟏"])
def test_digits_that_are_not_ascii_are_a_clear_error_and_nothing_is_saved(
    app: Flask, client: FlaskClient, forged: str
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = post_mapping(client, {**FULL, "rounding": forged})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"“{forged}” is not an account number (four digits 0-9, e.g. 3001)." in page
    assert stored(app) == {}


def test_the_inline_check_of_a_superscript_digit_is_an_error_not_a_500(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = client.get("/integrations/fortnox/mapping?validate=bank&bank=3%C2%B201",
                          headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "is not an account number" in response.get_data(as_text=True)


def test_a_long_forged_value_is_echoed_cut_to_20_characters(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    forged = "３" * 20 + "SECRET-TAIL" * 100
    response = post_mapping(client, {**FULL, "bank": forged})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"“{'３' * 20}…” is not an account number" in page
    assert "SECRET-TAIL" not in page
    assert stored(app) == {}


# -- request size: login first, never parse an anonymous body ----------------------------------
class WatchedBody(io.BytesIO):
    """A request body that records whether anyone read it."""

    def __init__(self, size: int) -> None:
        super().__init__(b"csrf_token=x&" + b"a" * size)
        self.reads = 0

    def read(self, *args: Any) -> bytes:
        self.reads += 1
        return super().read(*args)

    def readline(self, *args: Any) -> bytes:
        self.reads += 1
        return super().readline(*args)


def anonymous_post(client: FlaskClient, path: str, body: WatchedBody, **headers: str) -> Any:
    size = len(body.getvalue())
    return client.post(path, input_stream=body, content_length=size,
                       content_type="application/x-www-form-urlencoded", headers=headers)


@pytest.mark.parametrize("path", ["/integrations/fortnox/sync", "/integrations/fortnox/mapping",
                                  "/integrations/fortnox/disconnect"])
def test_an_anonymous_large_post_is_sent_to_login_without_reading_the_body(
    client: FlaskClient, seeded: Any, path: str
) -> None:
    body = WatchedBody(10 * 1024 * 1024)
    with unchanged(seeded):
        response = anonymous_post(client, path, body)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert body.reads == 0
    body = WatchedBody(10 * 1024 * 1024)
    with unchanged(seeded):
        response = anonymous_post(client, path, body, **{"HX-Request": "true"})
    assert response.status_code == 401 and body.reads == 0


def test_an_owners_form_above_the_plugins_cap_is_413_and_changes_nothing(
    client: FlaskClient, seeded: Any
) -> None:
    login(client)
    with unchanged(seeded):
        response = client.post("/integrations/fortnox/log/retry",
                               data={"csrf_token": csrf(client), "pad": "a" * 70_000})
    assert response.status_code == 413
    assert no_flash(client)


def test_the_cap_is_a_setting_and_never_above_the_hosts_limit(seeded: Any) -> None:
    for config, allowed, refused in (
        ({"AOURLY_FORTNOX_MAX_FORM_BYTES": 1000}, 500, 2000),
        ({"MAX_CONTENT_LENGTH": 1000}, 500, 2000),  # the host's is lower than ours
    ):
        app, _, _ = create_host(**config)
        with app.app_context():
            from aourly_fortnox.migrate import upgrade_database

            upgrade_database(app)
        client = app.test_client()
        login(client)
        token = csrf(client)
        ok = client.post("/integrations/fortnox/log/retry",
                         data={"csrf_token": token, "pad": "a" * allowed})
        assert ok.status_code == 303, config
        too_big = client.post("/integrations/fortnox/log/retry",
                              data={"csrf_token": token, "pad": "a" * refused})
        assert too_big.status_code == 413, config


# -- security headers ----------------------------------------------------------------------------
def test_every_plugin_answer_forbids_framing_and_sniffing(
    client: FlaskClient, seeded: Any
) -> None:
    login(client)
    answers = [
        client.get("/integrations/"),
        client.get("/integrations/fortnox/disconnect"),  # the confirmation a clickjacker wants
        client.get("/integrations/fortnox/health"),
        client.post("/integrations/fortnox/sync", data={"csrf_token": "wrong"}),  # a refusal
    ]
    anonymous = client.application.test_client()
    answers.append(anonymous.get("/integrations/fortnox/disconnect"))
    for response in answers:
        assert response.headers["X-Frame-Options"] == "DENY", response
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_headers_the_host_set_are_kept() -> None:
    app, _, _ = create_host()

    @app.get("/embeddable")
    def host_page() -> Any:
        from flask import make_response

        response = make_response("a host page that allows its own framing")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        return response

    from aourly_fortnox.web.views import security_headers

    with app.test_request_context("/embeddable"):
        response = security_headers(app.make_response(host_page()))
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # what it lacked is added
    # The plugin leaves the host's own pages alone: its headers are the blueprint's.
    assert "X-Content-Type-Options" not in app.test_client().get("/embeddable").headers


# -- health --------------------------------------------------------------------------------------
def test_the_owners_health_json_names_no_company_and_is_not_sniffed(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()  # connected to "Demo Bygg AB"
    login(client)
    response = client.get("/integrations/fortnox/health")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = response.get_data(as_text=True)
    assert response.get_json()["status"] == "connected"
    for name in ("Demo Bygg AB", "acme", "1001"):
        assert name not in text, name


def health_host(**config: Any) -> FlaskClient:
    app, _, _ = create_host(**config)
    with app.app_context():
        from aourly_fortnox.migrate import upgrade_database

        upgrade_database(app)
        install_chart()
        install_chart("globex")
        state(app).db.session.add(SyncRecord(company_id="globex", object_type="invoice",
                                             object_id="1", state=RecordState.FAILED))
        state(app).db.session.commit()
    return app.test_client()


def test_monitoring_reads_the_installations_health_with_the_bearer_token() -> None:
    client = health_host(AOURLY_FORTNOX_HEALTH_TOKEN="s3cret-monitoring-token")
    response = client.get("/integrations/fortnox/health",
                          headers={"Authorization": "Bearer s3cret-monitoring-token"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["connections"]["connected"] == 2
    assert data["records"]["failed"] == 1
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = response.get_data(as_text=True)
    for secret in ("Demo Bygg AB", "acme", "globex", "1001", "s3cret-monitoring-token"):
        assert secret not in text, secret


@pytest.mark.parametrize("header", ["Bearer wrong", "Bearer ", "Bearer s3cret-monitoring-tokeN",
                                    "bearer s3cret-monitoring-token-longer"])
def test_a_wrong_bearer_token_is_401_and_says_nothing(header: str) -> None:
    client = health_host(AOURLY_FORTNOX_HEALTH_TOKEN="s3cret-monitoring-token")
    response = client.get("/integrations/fortnox/health", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {"error": "invalid_token"}


def test_without_a_configured_token_the_bearer_check_is_off() -> None:
    client = health_host()
    for header in ("Bearer ", "Bearer None", "Bearer anything"):
        response = client.get("/integrations/fortnox/health", headers={"Authorization": header})
        assert response.status_code == 401, header
    # Without a bearer token: the owner-only page, as before (anonymous: the login).
    assert client.get("/integrations/fortnox/health").status_code == 302


def test_the_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def compare(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    from aourly_fortnox.web import health

    monkeypatch.setattr(health.hmac, "compare_digest", compare)
    client = health_host(AOURLY_FORTNOX_HEALTH_TOKEN="s3cret-monitoring-token")
    client.get("/integrations/fortnox/health", headers={"Authorization": "Bearer guess"})
    assert calls == [(b"guess", b"s3cret-monitoring-token")]
