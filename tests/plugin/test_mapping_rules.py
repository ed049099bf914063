"""Mapping rules at their edges: the expected range on both sides, the locked period's last
day, the financial year's first and last day. An accountant notices each of these."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
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
from aourly_fortnox.queries import get_connection
from aourly_fortnox.state import state

from .charts import install_chart
from .conftest import login
from .test_mapping import FULL, post_mapping, stored

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
