"""Account mapping rules as an owner (and an accountant) would notice them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox import mapping
from aourly_fortnox.models import AccountMapping, FinancialYear
from aourly_fortnox.state import state

from .charts import BASE_CHART, clock_at, install_chart
from .conftest import login
from .test_access import csrf

FULL = {
    "sales_25": "3001", "sales_12": "3002", "sales_6": "3003", "sales_0": "3004",
    "sales_eu": "3108", "sales_export": "3105", "bank": "1930", "receivables": "1510",
    "rounding": "3740",
}


def post_mapping(client: FlaskClient, values: dict[str, str], htmx: bool = False):  # type: ignore[no-untyped-def]
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/integrations/fortnox/mapping",
                       data={**values, "csrf_token": csrf(client)}, headers=headers)


def stored(app: Flask) -> dict[str, tuple[int, bool]]:
    with app.app_context():
        return {m.key: (m.account, m.confirmed)
                for m in state(app).db.session.query(AccountMapping).all()}


def test_prefill_prefers_fortnox_predefined_accounts_then_bas(app: Flask) -> None:
    with app.app_context():
        install_chart(predefined={"SALES_25_SE": 3011, "BG": 1930, "CUSTCLAIM": 1510})
        mapping.prefill_suggestions("acme")
    values = stored(app)
    assert values["sales_25"] == (3011, False)  # the company's own predefined account
    assert values["sales_12"] == (3002, False)  # BAS where Fortnox has none
    assert values["bank"] == (1930, False)
    assert all(confirmed is False for _, confirmed in values.values())


def test_page_shows_suggestions_until_the_owner_saves(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
        mapping.prefill_suggestions("acme")
    login(client)
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert page.count(">suggested<") == 9 + 0  # every built-in key; host keys need 4600 chart
    response = post_mapping(client, FULL)
    assert response.status_code == 303
    assert all(confirmed for _, confirmed in stored(app).values())
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert ">suggested<" not in page
    assert "Account mapping saved" in page


def test_account_missing_from_the_current_year_blocks_saving(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = post_mapping(client, {**FULL, "sales_12": "3999"})
    assert response.status_code == 422
    assert "Account 3999 does not exist in the chart" in response.get_data(as_text=True)
    assert stored(app) == {}  # nothing saved, and the entered value is kept on the form
    assert 'value="3999"' in response.get_data(as_text=True)


def test_inactive_account_blocks_saving_with_a_clear_message(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart(inactive={2: {3002}})
    login(client)
    response = post_mapping(client, {**FULL, "sales_12": "3002"})
    assert response.status_code == 422
    assert "Account 3002 (Försäljning 12 %) is inactive in" in response.get_data(as_text=True)


def test_vat_code_must_fit_the_key(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = post_mapping(client, {**FULL, "sales_25": "3002"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "VAT code MP2, which does not fit Sales 25 %" in text


def test_unusual_range_is_a_warning_that_does_not_block(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = post_mapping(client, {**FULL, "bank": "5010"})
    assert response.status_code == 303
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert "Bank is usually an account between 1900 and 1999" in page


def test_other_years_warn_where_the_account_is_missing_or_inactive(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart(inactive={1: {3003}}, missing={1: {3004}})
    login(client)
    assert post_mapping(client, FULL).status_code == 303
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    year = f"{__import__('datetime').date.today().year - 1}-01-01"
    assert f"Account 3003 is inactive in financial year {year}" in page
    assert f"Account 3004 is missing in financial year {year}" in page


def test_forged_values_are_rejected(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
    login(client)
    for forged in ("30O1", "-3001", "3001; DROP TABLE", "99999"):
        response = post_mapping(client, {**FULL, "rounding": forged})
        assert response.status_code == 422, forged
        assert "is not an account number" in response.get_data(as_text=True)
    assert stored(app) == {}


def test_another_companys_chart_does_not_validate_ours(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart(company_id="globex")
    login(client)
    response = post_mapping(client, FULL)
    assert response.status_code == 422  # acme has no connection and no chart
    assert stored(app) == {}


def test_blank_means_not_mapped_and_the_card_counts_it(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
    login(client)
    assert post_mapping(client, {**FULL, "sales_export": "", "sales_eu": ""}).status_code == 303
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    # performer_costs (the host key) is also unmapped in this test host: none registered here.
    assert "Mapping incomplete: 2 accounts missing" in card
    assert post_mapping(client, FULL).status_code == 303
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Mapping complete" in card


def test_htmx_save_returns_the_form_and_the_card_out_of_band(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = post_mapping(client, FULL, htmx=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in text
    assert 'id="fortnox-mapping"' in text
    assert 'hx-swap-oob="innerHTML:#fortnox-card-slot"' in text and "Mapping complete" in text
    assert "Account mapping saved" in text


def test_htmx_inline_validation_of_one_field(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart(inactive={2: {3002}})
    login(client)
    response = client.get(
        "/integrations/fortnox/mapping?validate=sales_12&sales_12=3002",
        headers={"HX-Request": "true"},
    )
    text = response.get_data(as_text=True)
    assert "<html" not in text and "is inactive in" in text
    response = client.get(
        "/integrations/fortnox/mapping?validate=sales_12&sales_12=3002",
    )
    assert "<form" in response.get_data(as_text=True)  # no JS: the whole page


def test_host_keys_appear_on_the_form(app: Flask, client: FlaskClient) -> None:
    state(app).ext.register_mapping_key("performer_costs", "Performer costs", 4600)
    try:
        with app.app_context():
            install_chart()
            mapping.prefill_suggestions("acme")
        assert stored(app)["performer_costs"] == (4600, False)
        login(client)
        page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
        assert 'name="performer_costs"' in page
    finally:
        state(app).ext._host_mapping_keys.clear()


def test_predefined_accounts_are_shown_read_only_with_warnings(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart(predefined={"OUTVAT_MP1": 2611, "CUSTCLAIM": 1510, "OUTVAT_MP2": 2620})
    login(client)
    assert post_mapping(client, {**FULL, "receivables": "1930"}).status_code == 303
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert "Differs from BAS (2621)" in page
    assert "Invoices book receivables on 1510 in Fortnox, but vouchers use 1930" in page
    assert 'name="OUTVAT_MP1"' not in page  # read-only: not a form field


def test_bookkeep_setting_is_saved(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
    login(client)
    post_mapping(client, {**FULL, "bookkeep_invoices": "on"})
    from aourly_fortnox.queries import get_connection

    with app.app_context():
        conn = get_connection("acme")
        assert conn is not None and conn.bookkeep_invoices is True


def test_the_sync_engine_precheck_names_what_is_wrong(app: Flask) -> None:
    from datetime import date

    with app.app_context():
        install_chart(inactive={1: {3003}})
        mapping.prefill_suggestions("acme")
        state(app).db.session.query(AccountMapping).filter_by(key="sales_12").delete()
        state(app).db.session.commit()
        resolver = mapping.AccountResolver("acme")
        this_year = date.today().year
        assert resolver.account("sales_25", date(this_year, 3, 1)) == 3001
        problems = {}
        for key, day in (("sales_12", date(this_year, 3, 1)),
                         ("sales_6", date(this_year - 1, 3, 1)),
                         ("sales_25", date(this_year + 5, 1, 1))):
            try:
                resolver.account(key, day)
            except mapping.MappingProblem as problem:
                problems[key] = (problem.code, problem.reason)
    assert problems["sales_12"] == (
        "ACCOUNT_UNMAPPED", "Sales 12 % is not mapped: choose an account on the mapping page.")
    assert problems["sales_6"][0] == "ACCOUNT_INACTIVE"
    assert "Sales 6 % is mapped to account 3003, which is inactive" in problems["sales_6"][1]
    assert problems["sales_25"][0] == "FINANCIAL_YEAR_MISSING"


def test_an_import_that_loses_the_year_covering_today_updates_the_cards_mapping_line(
    app: Flask, client: FlaskClient
) -> None:
    """The card's mapping line is stored at each import. A later import in which Fortnox has no
    financial year covering today (the new year not opened yet) must replace the line: the
    accounts cannot be checked, so the card may no longer say the mapping is complete."""
    with app.app_context():
        install_chart()
        assert mapping.prefill_suggestions("acme") == 9
    login(client)
    before = client.get("/integrations/").get_data(as_text=True)
    assert "Mapping complete (suggested accounts, please review)" in before
    with app.app_context():
        db = state(app).db
        db.session.query(FinancialYear).filter_by(fortnox_id=2).delete()
        db.session.commit()
        assert mapping.prefill_suggestions("acme") == 0  # the re-import
    assert len(stored(app)) == 9  # the owner's mapping is kept
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Mapping complete" not in page
    # Each stored account is now unchecked: invalid, not missing.
    assert "9 mapped accounts are not valid" in page


def test_a_re_import_suggests_only_what_the_owner_left_unset_and_what_the_chart_has(
    app: Flask, client: FlaskClient
) -> None:
    """The owner's own choice is never replaced by a suggestion; an account this year's chart
    lacks is never suggested; every other unset key still is, and the count says how many."""
    with app.app_context():
        install_chart(missing={2: {3002}})  # this year's chart has no 3002 (Sales 12 %)
    login(client)
    with app.app_context():
        db = state(app).db
        db.session.add(AccountMapping(company_id="acme", key="sales_25", account=3011,
                                      confirmed=True))  # the owner chose 3011 for Sales 25 %
        db.session.commit()
        assert mapping.prefill_suggestions("acme") == 7  # 9 keys less the owner's and 3002's
    values = stored(app)
    assert values["sales_25"] == (3011, True)  # kept, still the owner's
    assert "sales_12" not in values  # nothing suggested rather than a missing account
    assert {key: values[key] for key in ("sales_6", "bank", "rounding")} == {
        "sales_6": (3003, False), "bank": (1930, False), "rounding": (3740, False)}
    assert len(values) == 8


def test_a_current_year_without_imported_accounts_suggests_nothing(app: Flask) -> None:
    with app.app_context():
        install_chart(missing={2: set(BASE_CHART)})  # this year's accounts not imported (yet)
        assert mapping.prefill_suggestions("acme") == 0
    assert stored(app) == {}


def test_one_key_left_unset_is_counted_as_one_account_missing(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    # A field left out of the form altogether counts as unset, like one sent empty.
    response = post_mapping(client, {k: v for k, v in FULL.items() if k != "bank"})
    assert response.status_code == 303
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert "Account mapping saved. Mapping incomplete: 1 account missing" in page
    assert "bank" not in stored(app)


# -- the accounts set in Fortnox, and the company's date ---------------------------------------
def predefined_rows(page: str) -> list[tuple[str, str, str, str]]:
    """The "Set in Fortnox" table: label, Fortnox's name, account, note."""
    return re.findall(
        r'<tr><td>([^<]*) <span class="fx-muted fx-small">([^<]*)</span></td>'
        r"<td>([^<]*)</td><td>(?:<span class=\"fx-warn\">([^<]*)</span>)?</td></tr>", page)


def test_the_accounts_set_in_fortnox_are_listed_each_with_its_own_note(
    app: Flask, client: FlaskClient
) -> None:
    """Every predefined account invoices use, by name and number; a note only where it differs
    from BAS, or where invoices and vouchers book receivables on different accounts."""
    with app.app_context():
        install_chart(predefined={"OUTVAT_MP1": 2611, "OUTVAT_MP2": 2620, "CUSTCLAIM": 1510})
    login(client)
    assert post_mapping(client, FULL).status_code == 303  # receivables 1510, as invoices
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert predefined_rows(page) == [
        ("Output VAT 25 %", "OUTVAT_MP1", "2611", ""),
        ("Output VAT 12 %", "OUTVAT_MP2", "2620", "⚠ Differs from BAS (2621)."),
        ("Output VAT 6 %", "OUTVAT_MP3", "not set", ""),  # not set in Fortnox: no note
        ("Accounts receivable on invoices", "CUSTCLAIM", "1510", ""),
    ]
    assert post_mapping(client, {**FULL, "receivables": "1930"}).status_code == 303
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert predefined_rows(page)[-1] == (
        "Accounts receivable on invoices", "CUSTCLAIM", "1510",
        "⚠ Invoices book receivables on 1510 in Fortnox, but vouchers use 1930 (your "
        "Accounts receivable mapping).")


#: 23:30 UTC on New Year's Eve 2026: already 00:30 on 1 January in Sweden.
NEW_YEARS_NIGHT_IN_STOCKHOLM = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


def test_the_mapping_is_checked_against_the_year_of_the_companys_date_not_the_servers(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server on UTC is still in the old year for an hour after midnight in Stockholm."""
    monkeypatch.setattr(mapping, "datetime", clock_at(NEW_YEARS_NIGHT_IN_STOCKHOLM))
    with app.app_context():
        install_chart(years=((1, date(2026, 1, 1), date(2026, 12, 31)),
                             (2, date(2027, 1, 1), date(2027, 12, 31))),
                      missing={1: {3108}})  # Sales EU exists only in the new year
        assert mapping.today() == date(2027, 1, 1)
    login(client)
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert "Checked against the financial year 2027-01-01 – 2027-12-31" in page
    assert post_mapping(client, FULL).status_code == 303
    assert stored(app)["sales_eu"] == (3108, True)
