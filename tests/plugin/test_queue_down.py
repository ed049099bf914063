"""Redis down: a clear message and nothing lost, never a 500."""

from __future__ import annotations

from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import SyncRun

from .charts import install_chart
from .conftest import login
from .host import create_host
from .test_access import csrf


def test_sync_now_with_redis_down_explains_and_records_the_run() -> None:
    app, _, db = create_host(
        AOURLY_FORTNOX_QUEUE_IS_ASYNC=True,
        AOURLY_FORTNOX_REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens there
    )
    with app.app_context():
        upgrade_database(app)
        install_chart()
    client = app.test_client()
    login(client)
    response = client.post("/integrations/fortnox/sync", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    page = client.get("/integrations/").get_data(as_text=True)
    assert "The job queue (Redis) is not reachable right now. Nothing is lost" in page
    with app.app_context():
        run = db.session.query(SyncRun).one()
        # Stored as a reason code, worded in the owner's language when shown.
        assert run.state == "failed" and run.message == "QUEUE_UNAVAILABLE"
        created = run.created_at
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert "not reachable" in log
    # Times are the company's (Europe/Stockholm), not UTC.
    from zoneinfo import ZoneInfo

    local = created.astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")
    assert f"<td>{local}</td>" in log
    response = client.post("/integrations/fortnox/accounts/refresh",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303


def test_an_unexpected_error_in_the_import_ends_the_run(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from aourly_fortnox.sync import importer

    app, _, db = create_host()
    with app.app_context():
        upgrade_database(app)
        install_chart()

    def broken(*args: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(importer, "client_for", broken)
    client = app.test_client()
    login(client)
    with pytest.raises(KeyError):  # inline: the error reaches the caller, as RQ would see it
        client.post("/integrations/fortnox/sync", data={"csrf_token": csrf(client)})
    with app.app_context():
        run = db.session.query(SyncRun).one()
        assert run.state == "failed" and run.message == "UNEXPECTED"
    assert "failed unexpectedly" in client.get("/integrations/fortnox/log").get_data(as_text=True)
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Syncing" not in card
