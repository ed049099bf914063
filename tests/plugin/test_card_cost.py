"""The card is polled every few seconds by every open owner tab: its cost must not grow with
the chart, and a mapping save must read the chart once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
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


# -- The card's counts: a maintained summary, the same cost at 10 and at 10,000 records ------
STATES = ("pending", "failed", "needs_attention", "synced", "held")


def add_records(app: Flask, start: int, count: int) -> None:
    """Rows in every state, for acme and (never counted on acme's card) globex."""
    from sqlalchemy import insert

    from aourly_fortnox.models import SyncRecord

    with app.app_context():
        session = state(app).db.session
        session.execute(insert(SyncRecord), [
            {"company_id": "globex" if n % 7 == 0 else "acme", "database_number": DB_NUMBER,
             "object_type": "customer" if n % 3 == 0 else "invoice", "object_id": str(n),
             "state": STATES[n % len(STATES)], "attempts": 0}
            for n in range(start, start + count)
        ])
        session.commit()


def card_counts(card: str) -> tuple[int, int]:
    waiting = re.search(r'data-testid="fortnox-waiting"[^>]*>(\d+) waiting<', card)
    attention = re.search(r'data-testid="fortnox-attention"[^>]*>(\d+) needs? attention<', card)
    assert waiting and attention, card
    return int(waiting.group(1)), int(attention.group(1))


def log_total(page: str) -> int:
    found = re.search(r'data-testid="fortnox-log-range">\d+–\d+ of (\d+)<', page)
    return int(found.group(1)) if found else 0


def test_the_cards_counts_equal_the_logs_at_10_and_at_10000_records_for_the_same_statements(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
        mapping.prefill_suggestions("acme")
    login(client)
    measured = []
    for start, count in ((0, 10), (10, 9990)):
        add_records(app, start, count)
        with plugin_statements(app) as card_statements:
            card = poll(client)()
        with plugin_statements(app) as log_statements:
            waiting_page = client.get("/integrations/fortnox/log?state=waiting").get_data(
                as_text=True)
        attention_page = client.get("/integrations/fortnox/log?state=needs_attention")
        waiting, attention = card_counts(card)
        # The card's numbers are the log's (both from the summary), and they are the rows'.
        assert (waiting, attention) == (log_total(waiting_page),
                                        log_total(attention_page.get_data(as_text=True)))
        with app.app_context():
            from sqlalchemy import func, select

            from aourly_fortnox.models import SyncRecord
            from aourly_fortnox.queries import counted_records

            counted = counted_records("acme")
            waiting_customers = state(app).db.session.execute(
                select(func.count()).where(SyncRecord.company_id == "acme",
                                           SyncRecord.object_type == "customer",
                                           SyncRecord.state.in_(("pending", "failed")))
            ).scalar_one()
        assert waiting == counted["pending"] + counted["failed"]
        customers_page = client.get("/integrations/fortnox/log?state=waiting&type=customer")
        assert log_total(customers_page.get_data(as_text=True)) == waiting_customers > 0
        assert attention == counted["needs_attention"] > 0
        assert waiting_page.count('data-testid="fortnox-log-item"') == min(50, waiting)
        assert reads_chart(card_statements) == []
        measured.append((len(card_statements), len(log_statements), waiting))
    (small_card, small_log, small_waiting), (large_card, large_log, large_waiting) = measured
    assert small_waiting < 10 < 1000 < large_waiting
    assert large_card == small_card <= 6, measured
    assert large_log == small_log, measured


def test_the_card_counts_items_while_a_sync_sends_and_polls_only_while_something_goes(
    app: Flask, client: FlaskClient
) -> None:
    from aourly_fortnox.models import SyncRun

    with app.app_context():
        install_chart()
        mapping.prefill_suggestions("acme")
    login(client)
    assert 'hx-trigger="every' not in poll(client)()  # nothing runs, nothing is due
    with app.app_context():
        session = state(app).db.session
        run = SyncRun(company_id="acme", kind="sync", state="running", message="SENDING",
                      total=12, done=3)
        session.add(run)
        session.commit()
        run_id = run.id
    card = poll(client)()
    assert "Sending 3 of 12" in card and 'hx-trigger="every' in card
    with app.app_context():
        session = state(app).db.session
        finished = session.get(SyncRun, run_id)
        assert finished is not None
        finished.state, finished.message = "finished", "SYNC_DONE"
        session.commit()
    add_records(app, 0, 5)  # pending and failed rows with no next attempt: due now
    card = poll(client)()
    assert "Sending" not in card and 'hx-trigger="every' in card  # due items: it polls


def preview_counts(page: str) -> dict[str, int]:
    listed = re.search(r'data-testid="fortnox-preview-counts">(.*?)</ul>', page, re.S)
    assert listed, page
    return {kind: int(n) for n, kind in re.findall(r"(\d+) (customer|invoice)s?<", listed.group(1))}


def test_the_preview_counts_every_due_item_but_asks_the_host_for_a_bounded_sample(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench/pages.py: the preview took 11.7 s at 100,000 records, asking the host's adapter
    for every one of 40,000 due items. Its counts still cover every item; the host is asked
    about a bounded sample, the rest of the customers shown as not looked up."""
    from aourly_fortnox.sync import preview

    with app.app_context():
        install_chart()
        mapping.prefill_suggestions("acme")
        adapter = state(app).adapter
    asked: list[str] = []
    for name in ("get_customer", "get_invoice"):
        original = getattr(adapter, name)
        monkeypatch.setattr(adapter, name, lambda company, object_id, _o=original, _n=name:
                            asked.append(_n) or _o(company, object_id))
    login(client)
    add_records(app, 0, 10000)
    page = client.get("/integrations/fortnox/preview").get_data(as_text=True)
    waiting, _attention = card_counts(poll(client)())
    counts = preview_counts(page)
    assert sum(counts.values()) == waiting > preview.SAMPLE_LIMIT  # every due item counted
    assert 0 < len(asked) <= preview.SAMPLE_LIMIT + 2, len(asked)
    assert "more customers were not looked up in Fortnox" in page


def test_the_imports_suggestions_and_mapping_line_read_the_chart_once(app: Flask) -> None:
    """Every import suggests accounts and stores the card's mapping line: one read of the
    chart for both, also when no imported year covers today."""
    from aourly_fortnox.models import FinancialYear

    with app.app_context():
        install_chart()
    add_accounts(app, 2000)
    with plugin_statements(app) as statements, app.app_context():
        assert mapping.prefill_suggestions("acme") == 9
    assert len(reads_chart(statements)) == 1, reads_chart(statements)
    with app.app_context():
        state(app).db.session.query(FinancialYear).filter_by(fortnox_id=2).delete()
        state(app).db.session.commit()
    with plugin_statements(app) as statements, app.app_context():
        assert mapping.prefill_suggestions("acme") == 0
    assert len(reads_chart(statements)) == 1, reads_chart(statements)
