"""Start-up: an empty database gets tables, migrations and demo data once; config from env."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select, text

from aourly_fortnox import ConfigError
from example_host.extensions import db
from example_host.models import Company, Customer, Invoice, InvoiceStatus, Membership, Payout, User

from .conftest import base_config, close_app


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Company, User, Membership, Customer, Invoice, Payout)
        }


def test_empty_database_gets_the_demo_data(app: Flask) -> None:
    seeded = counts(app)
    assert seeded["Company"] == 2
    assert seeded["User"] == 6
    assert seeded["Membership"] == 7  # owner@acme.test is also a coordinator in Globex
    with app.app_context():
        acme = db.session.get(Company, "acme")
        globex = db.session.get(Company, "globex")
        assert acme is not None and acme.name == "Acme Konsult AB"
        assert globex is not None and globex.name == "Globex Event AB"
        for company in ("acme", "globex"):
            customers = db.session.scalars(
                select(Customer).where(Customer.company_id == company)
            ).all()
            vat_types = {c.vat_type for c in customers}
            assert vat_types == {"SEVAT", "EUREVERSEDVAT", "EXPORT"}
            eu = next(c for c in customers if c.vat_type == "EUREVERSEDVAT")
            assert eu.vat_number
            invoices = db.session.scalars(
                select(Invoice).where(Invoice.company_id == company)
            ).all()
            statuses = {i.status for i in invoices}
            assert statuses == {InvoiceStatus.DRAFT, InvoiceStatus.SENT}
            rates = {row.vat_rate for i in invoices for row in i.rows}
            assert {25, 12, 6} <= rates


def test_restart_on_the_same_database_does_not_seed_again(
    make_app: Callable[..., Flask],
) -> None:
    first = counts(make_app())
    second = counts(make_app())
    assert first == second


def test_the_plugin_tables_come_from_its_migrations(app: Flask) -> None:
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"fortnox_connection", "fortnox_sync_record"} <= tables
    assert "aourly_fortnox_alembic_version" in tables  # the no-Flask-Migrate runner ran
    assert "alembic_version" not in tables  # and left the host's version table alone


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    config = base_config(tmp_path)
    del config["SECRET_KEY"], config["AOURLY_FORTNOX_TOKEN_KEYS"]
    first = create(config)
    second = create(config)
    try:
        instance = Path(config["INSTANCE_PATH"])
        assert (instance / "secret_key").exists()
        assert (instance / "fortnox_token_keys").stat().st_mode & 0o077 == 0
        for key in ("SECRET_KEY", "AOURLY_FORTNOX_TOKEN_KEYS"):
            assert first.config[key] and first.config[key] == second.config[key]
    finally:
        close_app(first)
        close_app(second)


def create(config: dict[str, object]) -> Flask:
    from example_host import create_app

    return create_app(dict(config))


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    config = base_config(tmp_path)
    del config["DATABASE_URL"]
    app = create(config)
    try:
        assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
        assert (Path(config["INSTANCE_PATH"]) / "example_host.db").exists()
    finally:
        close_app(app)


def test_unset_fortnox_settings_mean_the_demo_sandbox(app: Flask) -> None:
    assert app.config["AOURLY_FORTNOX_API_URL"] == "http://127.0.0.1:8765"
    assert app.config["AOURLY_FORTNOX_AUTH_URL"] == "http://127.0.0.1:8765/oauth-v1"
    assert app.config["AOURLY_FORTNOX_CLIENT_ID"] == "demo-client"
    assert app.config["AOURLY_FORTNOX_CLIENT_SECRET"] == "demo-secret"
    assert app.config["AOURLY_FORTNOX_BASE_TEMPLATE"] == "layout.html"
    assert app.config["EXAMPLE_HOST_USES_SANDBOX"] is True


def test_sandbox_port_from_the_environment(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AOURLY_SANDBOX_PORT", "8799")
    app = make_app()
    assert app.config["AOURLY_FORTNOX_API_URL"] == "http://127.0.0.1:8799"


def test_fortnox_settings_come_from_the_environment(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AOURLY_FORTNOX_API_URL", "https://api.fortnox.example")
    monkeypatch.setenv("AOURLY_FORTNOX_AUTH_URL", "https://apps.fortnox.example/oauth-v1")
    monkeypatch.setenv("AOURLY_FORTNOX_CLIENT_ID", "real-client")
    monkeypatch.setenv("AOURLY_FORTNOX_CLIENT_SECRET", "real-secret")
    monkeypatch.setenv("AOURLY_FORTNOX_RATE_LIMIT", "20/5")
    monkeypatch.setenv("AOURLY_FORTNOX_QUEUE_IS_ASYNC", "false")
    monkeypatch.setenv("AOURLY_FORTNOX_TICK_INTERVAL", "5")
    app = make_app()
    assert app.config["AOURLY_FORTNOX_API_URL"] == "https://api.fortnox.example"
    assert app.config["AOURLY_FORTNOX_CLIENT_ID"] == "real-client"
    assert app.config["AOURLY_FORTNOX_RATE_LIMIT"] == "20/5"
    assert app.config["AOURLY_FORTNOX_QUEUE_IS_ASYNC"] is False
    assert app.config["AOURLY_FORTNOX_TICK_INTERVAL"] == 5
    assert app.config["EXAMPLE_HOST_USES_SANDBOX"] is False


def test_a_misspelled_fortnox_variable_is_a_start_up_error(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AOURLY_FORTNOX_RATE_LIMT", "20/5")
    with pytest.raises(ConfigError, match="AOURLY_FORTNOX_RATE_LIMIT"):
        make_app()


def test_redis_url_feeds_the_plugin_and_no_url_means_the_embedded_queue(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded = make_app()
    assert embedded.extensions["example_host"]["embedded_redis"] is not None
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6399/3")
    real = make_app()
    assert real.config["AOURLY_FORTNOX_REDIS_URL"] == "redis://127.0.0.1:6399/3"
    assert real.extensions["example_host"]["embedded_redis"] is None


def test_flask_finds_the_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``flask --app example_host ...`` loads ``create_app`` from the environment alone."""
    from flask.cli import ScriptInfo

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("EXAMPLE_HOST_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("SECRET_KEY", "cli-secret")
    app = ScriptInfo(app_import_path="example_host").load_app()
    try:
        assert app.name == "example_host"
        assert app.config["SECRET_KEY"] == "cli-secret"
        assert {"demo", "fortnox"} <= set(app.cli.list_commands(None))  # type: ignore[arg-type]
        assert os.path.exists(tmp_path / "cli.db")
    finally:
        close_app(app)
