"""Mapping rules at their edges: the expected range on both sides, the locked period's last
day, the financial year's first and last day. An accountant notices each of these."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox import mapping
from aourly_fortnox.mapping import (
    BUILTIN_KEYS,
    AccountResolver,
    Chart,
    ChartAccount,
    ChartYear,
    MappingProblem,
    check_value,
)
from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.queries import get_connection
from aourly_fortnox.state import state

from .charts import DB_NUMBER, clock_at, install_chart
from .conftest import login
from .host import create_host
from .test_mapping import FULL, post_mapping, predefined_rows, stored

THIS_YEAR = date.today().year
BANK = next(spec for spec in BUILTIN_KEYS if spec.key == "bank")  # usually 1900-1999


def chart_with(*numbers: int, vat: str | None = None, active: bool = True) -> Chart:
    year = ChartYear(2, date(THIS_YEAR, 1, 1), date(THIS_YEAR, 12, 31))
    accounts = {n: ChartAccount(n, f"Konto {n}", active, vat) for n in numbers}
    return Chart(1001, [year], year, {2: accounts}, {})


def range_warnings(number: int) -> list[str]:
    result = check_value(BANK, str(number), chart_with(number))
    assert result.errors == []
    return [w.code for w in result.warnings]


@pytest.mark.parametrize("number", [1800, 1899, 2000, 2440])
def test_bank_outside_its_range_on_either_side_is_a_warning(number: int) -> None:
    assert range_warnings(number) == ["MAPPING_RANGE"]


@pytest.mark.parametrize("number", [1900, 1930, 1999])
def test_bank_inside_its_range_including_both_ends_has_no_warning(number: int) -> None:
    assert range_warnings(number) == []


def test_an_account_below_the_range_warns_on_the_page_but_saves(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = post_mapping(client, {**FULL, "bank": "1510"})  # receivables, not a bank
    assert response.status_code == 303
    assert stored(app)["bank"] == (1510, True)
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert "Bank is usually an account between 1900 and 1999" in page


def test_the_range_warning_reaches_the_card(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
    login(client)
    assert post_mapping(client, {**FULL, "bank": "1510"}).status_code == 303
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Bank is usually an account between 1900 and 1999" in card


@pytest.mark.parametrize("raw", ["193", "19300", "19a0", " 1930x"])
def test_not_four_digits_is_an_error(raw: str) -> None:
    result = check_value(BANK, raw, chart_with(1930))
    assert result.errors and "is not an account number" in result.errors[0]


def test_no_current_year_is_an_error_not_a_crash() -> None:
    chart = Chart(1001, [], None, {}, {})
    result = check_value(BANK, "1930", chart)
    assert result.errors and "No imported financial year covers today" in result.errors[0]


def test_blank_is_not_mapped_and_not_an_error() -> None:
    result = check_value(BANK, "  ", chart_with(1930))
    assert (result.value, result.errors, result.warnings) == ("", [], [])


# -- the locked period and the financial years -------------------------------------------------
def resolver_with_lock(app: Flask, locked_through: date | None) -> AccountResolver:
    install_chart()
    mapping.prefill_suggestions("acme")
    conn = get_connection("acme")
    assert conn is not None
    conn.locked_through = locked_through
    state(app).db.session.commit()
    return AccountResolver("acme")


def problem_on(resolver: AccountResolver, day: date) -> str | None:
    try:
        resolver.check_date(day)
    except MappingProblem as problem:
        return problem.code
    return None


def test_the_last_day_of_the_locked_period_is_locked(app: Flask) -> None:
    last = date(THIS_YEAR, 3, 31)
    with app.app_context():
        resolver = resolver_with_lock(app, last)
        assert problem_on(resolver, last) == "PERIOD_LOCKED"
        assert problem_on(resolver, last - timedelta(days=1)) == "PERIOD_LOCKED"
        assert problem_on(resolver, date(THIS_YEAR, 1, 1)) == "PERIOD_LOCKED"
        assert problem_on(resolver, last + timedelta(days=1)) is None
        with pytest.raises(MappingProblem) as problem:
            resolver.account("sales_25", last)
        assert problem.value.code == "PERIOD_LOCKED"
        assert problem.value.params == {"date": last.isoformat(), "locked": last.isoformat()}
        assert resolver.account("sales_25", last + timedelta(days=1)) == 3001


def test_without_a_locked_period_every_day_of_a_year_is_open(app: Flask) -> None:
    with app.app_context():
        resolver = resolver_with_lock(app, None)
        for day in (date(THIS_YEAR - 1, 1, 1), date(THIS_YEAR, 1, 1), date(THIS_YEAR, 12, 31)):
            assert problem_on(resolver, day) is None, day


def test_a_day_outside_every_financial_year_names_the_missing_year(app: Flask) -> None:
    with app.app_context():
        resolver = resolver_with_lock(app, None)
        for day in (date(THIS_YEAR - 2, 12, 31), date(THIS_YEAR + 1, 1, 1)):
            assert problem_on(resolver, day) == "FINANCIAL_YEAR_MISSING", day
        with pytest.raises(MappingProblem) as problem:
            resolver.account("bank", date(THIS_YEAR + 1, 1, 1))
        assert problem.value.params == {"date": f"{THIS_YEAR + 1}-01-01"}


def test_the_account_is_checked_in_the_year_of_the_booking(app: Flask) -> None:
    with app.app_context():
        install_chart(missing={1: {3004}})
        mapping.prefill_suggestions("acme")
        resolver = AccountResolver("acme")
        assert resolver.account("sales_0", date(THIS_YEAR, 6, 1)) == 3004
        with pytest.raises(MappingProblem) as problem:
            resolver.account("sales_0", date(THIS_YEAR - 1, 12, 31))
    assert problem.value.code == "ACCOUNT_MISSING"
    assert problem.value.params["number"] == 3004
    assert problem.value.params["year"] == f"{THIS_YEAR - 1}-01-01 – {THIS_YEAR - 1}-12-31"


# -- inline validation, saving, and the sync engine's resolver without a connection ------------
def test_inline_validation_checks_the_field_it_was_asked_about(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    htmx = {"HX-Request": "true"}
    response = client.get("/integrations/fortnox/mapping?validate=sales_25&sales_25=3002",
                          headers=htmx)
    text = response.get_data(as_text=True)
    assert 'id="field-sales_25-status"' in text
    assert "Account 3002 has VAT code MP2, which does not fit Sales 25 % (expected MP1)" in text
    response = client.get("/integrations/fortnox/mapping?validate=sales_12&sales_12=3002",
                          headers=htmx)
    assert "fx-error" not in response.get_data(as_text=True)
    response = client.get("/integrations/fortnox/mapping?validate=warp_drive&warp_drive=3001",
                          headers=htmx)
    text = response.get_data(as_text=True)
    assert 'id="field-warp_drive-status"' in text
    assert '<p class="fx-error" role="alert">Unknown mapping key.</p>' in text
    assert stored(app) == {}  # validating saves nothing


def test_saving_without_a_connection_saves_nothing_and_says_connect_first(app: Flask) -> None:
    with app.test_request_context():
        result = mapping.save("acme", FULL, "owner")
        assert result.saved is False and result.message == "Connect Fortnox first."
        assert result.view.connected is False
    assert stored(app) == {}


def test_a_refused_save_says_why_per_field_and_keeps_the_old_mapping(app: Flask) -> None:
    with app.test_request_context():
        install_chart()
        assert mapping.save("acme", FULL, "owner").saved is True
        result = mapping.save("acme", {**FULL, "bank": "9999"}, "owner")
    assert result.saved is False and result.message == ""
    assert [f.key for f in result.view.invalid] == ["bank"]
    assert stored(app)["bank"] == (1930, True)


def test_a_save_records_who_saved_it(app: Flask) -> None:
    from aourly_fortnox.models import AccountMapping

    with app.test_request_context():
        install_chart()
        result = mapping.save("acme", FULL, "owner")
        assert result.saved and result.message == "Account mapping saved. The mapping is complete."
        who = {m.updated_by for m in state(app).db.session.query(AccountMapping)}
    assert who == {"owner"}


def test_the_resolver_of_a_company_that_never_connected_explains_instead_of_crashing(
    app: Flask,
) -> None:
    with app.app_context():
        resolver = AccountResolver("acme")
        assert resolver.locked_through is None
        assert problem_on(resolver, date.today()) == "FINANCIAL_YEAR_MISSING"
        with pytest.raises(MappingProblem) as problem:
            resolver.account("sales_25", date.today())
    assert problem.value.code == "ACCOUNT_UNMAPPED"
    assert str(problem.value) == "ACCOUNT_UNMAPPED"
    assert problem.value.reason == (
        "Sales 25 % is not mapped: choose an account on the mapping page.")


def test_the_first_and_last_day_of_a_year_book_in_that_year(app: Flask) -> None:
    with app.app_context():
        install_chart()
        mapping.prefill_suggestions("acme")
        resolver = AccountResolver("acme")
        for day in (date(THIS_YEAR - 1, 1, 1), date(THIS_YEAR, 1, 1), date(THIS_YEAR, 12, 31)):
            assert resolver.account("bank", day) == 1930, day


def test_an_unknown_key_is_named_as_it_is(app: Flask) -> None:
    with app.app_context():
        install_chart()
        with pytest.raises(MappingProblem) as problem:
            AccountResolver("acme").account("warp_drive", date.today())
    assert problem.value.params == {"label": "warp_drive"}


def test_bookkeeping_invoices_is_on_for_every_way_a_form_says_yes(app: Flask) -> None:
    from aourly_fortnox.queries import get_connection as connection

    with app.test_request_context():
        install_chart()
        for value, expected in (("on", True), ("1", True), ("true", True), ("", False),
                                ("off", False)):
            mapping.save("acme", {**FULL, "bookkeep_invoices": value}, "owner")
            conn = connection("acme")
            assert conn is not None and conn.bookkeep_invoices is expected, value


def test_saving_an_incomplete_mapping_says_what_is_missing(app: Flask) -> None:
    with app.test_request_context():
        install_chart()
        result = mapping.save("acme", {**FULL, "sales_6": "", "bank": ""}, "owner")
    assert result.saved is True
    assert result.message == "Account mapping saved. Mapping incomplete: 2 accounts missing"


def test_the_cards_mapping_line_from_what_was_stored() -> None:
    from aourly_fortnox.mapping import MappingHealth
    from aourly_fortnox.reasons import Reason

    assert MappingHealth.from_json(None).summary() == ""  # before the first import
    partial = MappingHealth.from_json({"missing": 1})  # written before a key existed
    assert (partial.missing, partial.invalid, partial.suggested, partial.warnings) == (
        1, 0, 0, ())
    full = MappingHealth.from_json({"missing": 0, "invalid": 2, "suggested": 3,
                                    "warnings": [["MAPPING_RANGE", {"label": "Bank"}]]})
    assert (full.invalid, full.suggested) == (2, 3)
    assert full.warnings == (Reason("MAPPING_RANGE", {"label": "Bank"}),)
    assert MappingHealth.from_json(full.to_json()) == full
    assert MappingHealth.from_json({"invalid": 0}).summary() == "Mapping complete"
    assert MappingHealth.from_json({"suggested": 2}).summary() == (
        "Mapping complete (suggested accounts, please review)")
    assert MappingHealth.from_json({"invalid": 1}).summary() == "1 mapped account is not valid"
    assert MappingHealth.from_json({"missing": 2, "invalid": 3}).summary() == (
        "Mapping incomplete: 2 accounts missing; 3 mapped accounts are not valid")
    assert MappingHealth().summary() == "" and not MappingHealth().complete


def test_a_refused_save_shows_the_stored_bookkeeping_choice(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    assert post_mapping(client, {**FULL, "bookkeep_invoices": "on"}).status_code == 303
    refused = post_mapping(client, {**FULL, "bank": "9999", "bookkeep_invoices": "on"})
    assert refused.status_code == 422
    assert 'name="bookkeep_invoices" checked' in refused.get_data(as_text=True)


def test_a_year_without_imported_accounts_names_the_missing_account(app: Flask) -> None:
    from .charts import BASE_CHART

    with app.app_context():
        install_chart(missing={1: set(BASE_CHART)})  # last year's chart never imported
        mapping.prefill_suggestions("acme")
        with pytest.raises(MappingProblem) as problem:
            AccountResolver("acme").account("bank", date(THIS_YEAR - 1, 6, 1))
    assert problem.value.code == "ACCOUNT_MISSING"


# -- a host voucher's own accounts, in the year of its date -----------------------------------
def test_a_voucher_goes_into_the_year_covering_its_date_from_the_first_day_to_the_last(
    app: Flask,
) -> None:
    with app.app_context():
        install_chart()
        resolver = AccountResolver("acme")
        for day, year in ((date(THIS_YEAR - 1, 1, 1), 1), (date(THIS_YEAR - 1, 12, 31), 1),
                          (date(THIS_YEAR, 1, 1), 2), (date(THIS_YEAR, 12, 31), 2)):
            assert resolver.year(day).fortnox_id == year, day
            assert resolver.own_account(4600, day) == 4600, day


def own_account_problem(
    app: Flask, day: date, missing: dict[int, set[int]] | None = None,
    inactive: dict[int, set[int]] | None = None,
) -> MappingProblem:
    """Why a voucher row on the host's own account 4600 dated ``day`` cannot go."""
    with app.app_context():
        install_chart(missing=missing, inactive=inactive)
        with pytest.raises(MappingProblem) as problem:
            AccountResolver("acme").own_account(4600, day)
    return problem.value


def test_a_voucher_row_on_an_account_missing_in_its_year_names_the_account_and_the_year(
    app: Flask,
) -> None:
    problem = own_account_problem(app, date(THIS_YEAR - 1, 12, 31), missing={1: {4600}})
    assert problem.code == "VOUCHER_ACCOUNT_MISSING"
    year = f"{THIS_YEAR - 1}-01-01 – {THIS_YEAR - 1}-12-31"
    assert problem.params == {"number": 4600, "year": year}
    assert problem.reason == (
        f"A voucher row books to account 4600, which does not exist in financial year {year}: "
        "add it in Fortnox and refresh the chart, or correct the row.")


def test_a_voucher_row_in_a_year_whose_accounts_were_never_imported_is_missing_not_a_crash(
    app: Flask,
) -> None:
    from .charts import BASE_CHART

    problem = own_account_problem(app, date(THIS_YEAR - 1, 6, 1), missing={1: set(BASE_CHART)})
    assert problem.code == "VOUCHER_ACCOUNT_MISSING"


def test_a_voucher_row_on_an_inactive_account_says_it_is_inactive(app: Flask) -> None:
    problem = own_account_problem(app, date(THIS_YEAR, 6, 1), inactive={2: {4600}})
    assert problem.code == "VOUCHER_ACCOUNT_INACTIVE"
    assert problem.reason == (
        f"A voucher row books to account 4600, which is inactive in financial year "
        f"{THIS_YEAR}-01-01 – {THIS_YEAR}-12-31: activate it in Fortnox and refresh the chart, "
        "or correct the row.")


# -- the messages and the form's words, as the owner reads them -----------------------------
SWEDISH = {"Accept-Language": "sv-SE,sv;q=0.9"}


def field_row(page: str, key: str) -> str:
    """One field's row of the mapping form: its label, help, input and status."""
    match = re.search(rf'<td><label for="map-{key}">.*?</tr>', page, re.S)
    assert match, key
    return match.group(0)


@pytest.mark.parametrize("headers, label, help_text", [
    ({}, "Bank", "Where payouts are paid from."),
    (SWEDISH, "Bank", "Kontot som utbetalningar görs från."),
])
def test_each_field_is_labelled_and_says_what_it_is_for(
    app: Flask, client: FlaskClient, headers: dict[str, str], label: str, help_text: str
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    page = client.get("/integrations/fortnox/mapping", headers=headers).get_data(as_text=True)
    assert (f'<td><label for="map-bank">{label}</label><div class="fx-muted fx-small" '
            f'id="map-bank-help">{help_text}</div></td>') in field_row(page, "bank")
    assert 'aria-describedby="field-bank-status map-bank-help"' in field_row(page, "bank")


@pytest.mark.parametrize("headers", [{}, SWEDISH], ids=["en", "sv"])
def test_a_host_key_without_help_or_default_has_neither_a_help_line_nor_an_example(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    """The host gave only a label: nothing is made up for the rest (in Swedish an empty help
    text must not become the catalogue's header, which is what gettext("") returns)."""
    state(app).ext.register_mapping_key("performer_costs", "Performer costs")
    try:
        with app.app_context():
            install_chart()
        login(client)
        page = client.get("/integrations/fortnox/mapping", headers=headers).get_data(as_text=True)
    finally:
        state(app).ext._host_mapping_keys.clear()
    row = field_row(page, "performer_costs")
    assert row.startswith('<td><label for="map-performer_costs">Performer costs</label></td>')
    assert "placeholder" not in row
    assert 'aria-describedby="field-performer_costs-status"' in row


@pytest.mark.parametrize("forged, echoed", [
    ("30O1", "30O1"),
    ("３" * 20, "３" * 20),  # exactly the limit: shown whole
    ("３" * 21, "３" * 20 + "…"),
])
def test_a_refused_value_is_echoed_in_the_message_and_kept_in_the_field(
    app: Flask, client: FlaskClient, forged: str, echoed: str
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = post_mapping(client, {**FULL, "bank": forged})
    assert response.status_code == 422
    row = field_row(response.get_data(as_text=True), "bank")
    assert (f'<p class="fx-error">“{echoed}” is not an account number (four digits 0-9, '
            "e.g. 3001).</p>") in row
    assert f'value="{echoed}"' in row
    assert stored(app) == {}


def test_the_chart_errors_name_the_account_and_the_financial_year_word_for_word() -> None:
    year = f"{THIS_YEAR}-01-01 – {THIS_YEAR}-12-31"
    assert check_value(BANK, "1999", chart_with(1930)).errors == [
        f"Account 1999 does not exist in the chart for {year}."]
    assert check_value(BANK, "1930", chart_with(1930, active=False)).errors == [
        f"Account 1930 (Konto 1930) is inactive in {year}."]
    assert check_value(BANK, "1930", Chart(1001, [], None, {}, {})).errors == [
        "No imported financial year covers today: refresh the chart after creating the year "
        "in Fortnox."]


@pytest.mark.parametrize("headers, expected", [
    ({}, "Account 3001 has VAT code MP1, which does not fit Sales 0 % / exempt "
         "(expected MF or MP0)."),
    (SWEDISH, "Konto 3001 har momskod MP1, som inte passar Försäljning 0 % / momsfri "
              "(förväntat MF eller MP0)."),
])
def test_a_key_that_takes_two_vat_codes_names_both(
    app: Flask, client: FlaskClient, headers: dict[str, str], expected: str
) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = client.get("/integrations/fortnox/mapping?validate=sales_0&sales_0=3001",
                          headers={"HX-Request": "true", **headers})
    assert f'<p class="fx-error" role="alert">{expected}</p>' in response.get_data(as_text=True)


def test_a_valid_account_is_shown_with_its_name(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        install_chart()
    login(client)
    response = client.get("/integrations/fortnox/mapping?validate=bank&bank=1930",
                          headers={"HX-Request": "true"})
    assert '<span class="fx-muted">Företagskonto</span>' in response.get_data(as_text=True)


# -- which financial years the mapping is checked against --------------------------------------
def test_a_next_year_already_opened_in_fortnox_is_warned_about_too(
    app: Flask, client: FlaskClient
) -> None:
    """Fortnox opens next year's books in December: the mapping must fit them as well. The
    warnings go oldest year first, whatever order the years were created in Fortnox (here last
    year's books were added after this year's and next year's, so its Id is the highest)."""
    with app.app_context():
        install_chart(years=((3, date(THIS_YEAR - 1, 1, 1), date(THIS_YEAR - 1, 12, 31)),
                             (1, date(THIS_YEAR, 1, 1), date(THIS_YEAR, 12, 31)),
                             (2, date(THIS_YEAR + 1, 1, 1), date(THIS_YEAR + 1, 12, 31))),
                      missing={3: {3004}, 2: {3004}})
    login(client)
    assert post_mapping(client, FULL).status_code == 303
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert re.findall(r"Account 3004 is missing in financial year (\d{4})-01-01", page) == [
        str(THIS_YEAR - 1), str(THIS_YEAR + 1)]


#: Noon on 31 December 2026 in Stockholm.
LAST_DAY_OF_THE_YEAR = datetime(2026, 12, 31, 11, 0, tzinfo=UTC)


def test_on_the_last_day_of_a_financial_year_its_chart_still_validates_the_save(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mapping, "datetime", clock_at(LAST_DAY_OF_THE_YEAR))
    with app.app_context():
        install_chart(years=((1, date(2026, 1, 1), date(2026, 12, 31)),
                             (2, date(2027, 1, 1), date(2027, 12, 31))),
                      missing={2: {3108}})  # Sales EU is gone from next year's chart
    login(client)
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert "Checked against the financial year 2026-01-01 – 2026-12-31" in page
    assert post_mapping(client, FULL).status_code == 303
    assert stored(app)["sales_eu"] == (3108, True)


# -- only this company's chart of its current Fortnox company ---------------------------------
OTHER_CHARTS = pytest.mark.parametrize("other, database_number", [
    ("globex", DB_NUMBER),  # another company of ours connected to the same Fortnox company
    ("acme", DB_NUMBER - 1),  # the Fortnox company acme was connected to before
], ids=["another company", "the Fortnox company connected before"])


@OTHER_CHARTS
def test_a_year_stored_for_another_chart_never_covers_today_for_ours(
    app: Flask, client: FlaskClient, other: str, database_number: int
) -> None:
    last_year = ((1, date(THIS_YEAR - 1, 1, 1), date(THIS_YEAR - 1, 12, 31)),)
    with app.app_context():
        install_chart(company_id=other, database_number=database_number, connected=False)
        install_chart(years=last_year)  # ours: this year not opened in Fortnox yet
    login(client)
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert "No imported financial year covers today" in page
    assert post_mapping(client, FULL).status_code == 422
    assert stored(app) == {}


@OTHER_CHARTS
def test_accounts_predefined_accounts_and_series_of_another_chart_are_never_ours(
    app: Flask, client: FlaskClient, other: str, database_number: int
) -> None:
    with app.app_context():
        install_chart(company_id=other, database_number=database_number, connected=False,
                      predefined={"OUTVAT_MP2": 2620}, series={"L": ("Löner", True)})
        install_chart(missing={2: {3108}}, series={"A": ("Redovisning", True)})
    login(client)
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert ("Output VAT 12 %", "OUTVAT_MP2", "not set", "") in predefined_rows(page)
    assert series_options(page) == [("A", "A – Redovisning")]
    response = post_mapping(client, FULL)  # Sales EU 3108 is only in the other chart
    assert response.status_code == 422
    assert "Account 3108 does not exist in the chart" in response.get_data(as_text=True)
    refused = post_mapping(client, {**FULL, "sales_eu": "", "voucher_series": "L"})
    assert refused.status_code == 422
    assert "Voucher series L does not exist in Fortnox." in refused.get_data(as_text=True)
    assert stored(app) == {}


def series_options(page: str) -> list[tuple[str, str]]:
    """The voucher series the form offers: value and text, in the page's order."""
    select = re.search(r'<select id="fx-voucher-series".*?</select>', page, re.S)
    assert select
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(0))


@pytest.mark.postgres
def test_the_manual_voucher_series_are_offered_in_code_order_by_name(postgres_url: str) -> None:
    """On PostgreSQL, as hosts run it: rows come back in no particular order unless asked."""
    app, _, _ = create_host(postgres_url)
    with app.app_context():
        upgrade_database(app)
        install_chart(series={"C": ("Kassa", True), "A": ("Redovisning", True),
                              "K": ("Kundfakturor", False), "B": ("Bank", True)})
        # As autovacuum does: with statistics, a table this small is read in storage order.
        state(app).db.session.execute(sa.text("ANALYZE fortnox_voucher_series"))
        state(app).db.session.commit()
    client = app.test_client()
    login(client)
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    with app.app_context():
        state(app).db.engine.dispose()  # the database is dropped after the test
    assert series_options(page) == [("A", "A – Redovisning"), ("B", "B – Bank"),
                                    ("C", "C – Kassa")]
