"""The card is polled every few seconds by every open owner tab: its cost must not grow with
the chart, and a mapping save must read the chart once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from aourly_fortnox import mapping
from aourly_fortnox.models import Account
from aourly_fortnox.state import state

from .charts import DB_NUMBER, install_chart
from .conftest import login
from .test_mapping import FULL, post_mapping


@contextmanager
def plugin_statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement on the plugin's tables (``fortnox_*``); the host's are not counted."""
    seen: list[str] = []
    with app.app_context():
        engine = state(app).db.engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "fortnox_" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def add_accounts(app: Flask, count: int) -> None:
    with app.app_context():
        session = state(app).db.session
        for year in (1, 2):
            session.add_all(
                Account(company_id="acme", database_number=DB_NUMBER, financial_year=year,
                        number=6000 + n, description=f"Konto {n}", active=True)
                for n in range(count)
            )
        session.commit()


def reads_chart(statements: list[str]) -> list[str]:
    return [s for s in statements if re.search(r"FROM fortnox_account\s", s)]


def poll(client: FlaskClient) -> Callable[[], str]:
    return lambda: client.get("/integrations/fortnox/status").get_data(as_text=True)


def test_the_polled_card_reads_no_chart_and_costs_the_same_at_any_chart_size(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
        mapping.prefill_suggestions("acme")
    login(client)
    with plugin_statements(app) as small:
        card = poll(client)()
    assert "Mapping complete (suggested accounts, please review)" in card
    add_accounts(app, 2000)
    with plugin_statements(app) as large:
        card = poll(client)()
    assert "Mapping complete (suggested accounts, please review)" in card
    assert reads_chart(small) == [] and reads_chart(large) == []
    assert len(large) == len(small) <= 6, large


def test_the_card_follows_a_saved_mapping_without_reading_the_chart(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
        mapping.prefill_suggestions("acme")
    login(client)
    assert post_mapping(client, {**FULL, "bank": ""}).status_code == 303
    with plugin_statements(app) as statements:
        card = poll(client)()
    assert "Mapping incomplete: 1 account missing" in card
    assert reads_chart(statements) == []
    assert post_mapping(client, FULL).status_code == 303
    assert "Mapping complete" in poll(client)()


def test_a_mapping_save_over_htmx_reads_the_chart_once(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
        mapping.prefill_suggestions("acme")
    login(client)
    with plugin_statements(app) as statements:
        response = post_mapping(client, FULL, htmx=True)
    assert response.status_code == 200
    assert "Account mapping saved" in response.get_data(as_text=True)
    assert len(reads_chart(statements)) == 1, reads_chart(statements)
