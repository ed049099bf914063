"""Vouchers: each refusal has its own code; numbering per (year, series); no changes."""

from __future__ import annotations

from typing import Any

import pytest

from aourly_fortnox.sandbox.testing import RunningSandbox, SandboxError

from .conftest import DB, ApiCall, error_of


def voucher(day: str, rows: list[dict[str, Any]] | None = None, **fields: Any) -> dict:
    rows = (
        rows
        if rows is not None
        else [
            {"Account": 4600, "Debit": 4000.00, "Credit": 0},
            {"Account": 1930, "Debit": 0, "Credit": 4000.00},
        ]
    )
    body = {
        "VoucherSeries": "A",
        "TransactionDate": day,
        "VoucherRows": rows,
        "Description": "Aourly payout P-91 [aourly:vch-91ab]",
    }
    body.update(fields)
    return {"Voucher": body}


def this_year(api: ApiCall) -> int:
    return int(api("GET", "financialyears/2").json()["FinancialYear"]["FromDate"][:4])


def test_create_numbers_per_year_and_series(api: ApiCall) -> None:
    year = this_year(api)
    answer = api("POST", "vouchers", params={"financialyear": 2}, json=voucher(f"{year}-01-05"))
    assert answer.status_code == 201 and answer.headers["Location"] == "vouchers"
    created = answer.json()["Voucher"]
    assert (created["VoucherSeries"], created["VoucherNumber"], created["Year"]) == ("A", 3, 2)
    assert [r["Account"] for r in created["VoucherRows"]] == [4600, 1930]
    last_year = api("GET", "vouchers", params={"financialyear": 1}).json()["Vouchers"]
    # Without financialyear the preselected (current) year is meant: last year's date is
    # outside it, so the voucher is refused and nothing is stored.
    unasked = api("POST", "vouchers", json=voucher(f"{year - 1}-11-05"))
    assert error_of(unasked) == (400, 2000721)
    assert api("GET", "vouchers", params={"financialyear": 1}).json()["Vouchers"] == last_year
    older = api(
        "POST", "vouchers", params={"financialyear": 1}, json=voucher(f"{year - 1}-11-05")
    ).json()["Voucher"]
    assert (older["VoucherNumber"], older["Year"]) == (5, 1)
    listed = api("GET", "vouchers", params={"financialyear": 2}).json()["Vouchers"]
    assert [v["VoucherNumber"] for v in listed] == [1, 2, 3]
    assert "VoucherRows" not in listed[0]
    assert listed[2]["Description"] == "Aourly payout P-91 [aourly:vch-91ab]"
    single = api("GET", "vouchers/A/3", params={"financialyear": 2}).json()["Voucher"]
    assert single["VoucherRows"][0]["Debit"] == 4000 and single["VoucherRows"][1]["Credit"] == 4000
    assert error_of(api("GET", "vouchers/A/99", params={"financialyear": 2}))[0] == 404


def test_balance_is_checked_to_the_ore_in_decimal(api: ApiCall) -> None:
    year = this_year(api)
    exact = voucher(
        f"{year}-01-05",
        [
            {"Account": 6570, "Debit": 0.1},
            {"Account": 6570, "Debit": 0.2},
            {"Account": 1930, "Credit": 0.3},
        ],
    )
    assert api("POST", "vouchers", json=exact).status_code == 201  # 0.1 + 0.2 == 0.3 here
    off = voucher(
        f"{year}-01-05", [{"Account": 6570, "Debit": 100.01}, {"Account": 1930, "Credit": 100.00}]
    )
    assert error_of(api("POST", "vouchers", json=off)) == (400, 2000711)


def test_each_rule_has_its_own_code(sandbox: RunningSandbox, api: ApiCall) -> None:
    year = this_year(api)
    day = f"{year}-02-10"
    cases = {
        "series B is not manual": (voucher(day, VoucherSeries="B"), 2000839),
        "unknown series": (voucher(day, VoucherSeries="Z"), 2000838),
        "inactive account": (
            voucher(day, [{"Account": 3590, "Credit": 5}, {"Account": 1930, "Debit": 5}]),
            2000550,
        ),
        "unknown account": (
            voucher(day, [{"Account": 9999, "Credit": 5}, {"Account": 1930, "Debit": 5}]),
            2000423,
        ),
        "one row": (voucher(day, [{"Account": 1930, "Debit": 0}]), 2000712),
        "rows as an object": (voucher(day, {"VoucherRow": []}), 2002381),  # type: ignore[arg-type]
        "no description": (voucher(day, Description=""), 2001795),
        "unknown field": (voucher(day, Colour="red"), 2001399),
    }
    before = sandbox.admin("GET", f"/companies/{DB}/vouchers")
    for name, (body, code) in cases.items():
        assert error_of(api("POST", "vouchers", json=body)) == (400, code), name
    outside = api("POST", "vouchers", params={"financialyear": 1}, json=voucher(day))
    assert error_of(outside) == (400, 2000721)
    future = f"{year + 2}-01-10"
    no_year = api("POST", "vouchers", params={"financialyeardate": future}, json=voucher(future))
    assert error_of(no_year) == (400, 2000720)
    assert sandbox.admin("GET", f"/companies/{DB}/vouchers") == before  # nothing stored
    sandbox.admin(
        "PUT", f"/companies/{DB}/lockedperiod", {"LockedPeriod": {"EndDate": f"{year}-03-31"}}
    )
    assert api("GET", "settings/lockedperiod").json()["LockedPeriod"]["EndDate"] == (
        f"{year}-03-31"
    )
    assert error_of(api("POST", "vouchers", json=voucher(day))) == (400, 2000773)
    assert api("POST", "vouchers", json=voucher(f"{year}-04-01")).status_code == 201
    codes = {code for _, code in cases.values()} | {2000720, 2000721, 2000773}
    assert len(codes) == len(cases) + 3  # no two rules share a code


def test_vouchers_are_immutable(api: ApiCall) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        answer = api(
            method, "vouchers/A/1", params={"financialyear": 2}, json=voucher("2020-01-01")
        )
        assert answer.status_code == 405, method
    assert api("GET", "vouchers/A/1", params={"financialyear": 2}).status_code == 200


def test_sublist_and_date_filters(api: ApiCall) -> None:
    year = this_year(api)
    api("POST", "vouchers", json=voucher(f"{year}-01-02"))
    sub = api(
        "GET",
        "vouchers/sublist/A",
        params={"financialyear": 2, "fromdate": f"{year}-01-01", "todate": f"{year}-01-31"},
    ).json()
    dates = [v["TransactionDate"] for v in sub["Vouchers"]]
    assert dates and all(d.startswith(f"{year}-01") for d in dates)
    assert api("GET", "vouchers/sublist/B").json()["Vouchers"] == []
    assert api("GET", "vouchers/sublist/Q").status_code == 404


def test_admin_posts_any_series_but_still_balanced(sandbox: RunningSandbox, api: ApiCall) -> None:
    year = this_year(api)
    made = sandbox.admin(
        "POST", f"/companies/{DB}/vouchers", voucher(f"{year}-01-10", VoucherSeries="B")
    )
    assert made["Voucher"]["VoucherSeries"] == "B" and made["Voucher"]["VoucherNumber"] == 1
    unbalanced = voucher(
        f"{year}-01-10", [{"Account": 1930, "Debit": 1}, {"Account": 3001, "Credit": 2}]
    )
    with pytest.raises(SandboxError) as refused:
        sandbox.admin("POST", f"/companies/{DB}/vouchers", unbalanced)
    assert refused.value.status == 400
    assert refused.value.body["ErrorInformation"]["code"] == 2000711
    every = sandbox.admin("GET", f"/companies/{DB}/vouchers")
    assert all("VoucherRows" in v for v in every) and len(every) == 7


def test_admin_picks_the_year_from_the_date(sandbox: RunningSandbox, api: ApiCall) -> None:
    # A person in Fortnox switches to the year first; the admin API does that by the date.
    year = this_year(api)
    made = sandbox.admin("POST", f"/companies/{DB}/vouchers", voucher(f"{year - 1}-12-30"))
    assert made["Voucher"]["Year"] == 1
    before = sandbox.admin("GET", f"/companies/{DB}/vouchers")
    with pytest.raises(SandboxError) as refused:
        sandbox.admin("POST", f"/companies/{DB}/vouchers", voucher(f"{year + 2}-01-10"))
    assert refused.value.body["ErrorInformation"]["code"] == 2000720
    assert sandbox.admin("GET", f"/companies/{DB}/vouchers") == before


def test_an_unknown_financial_year_is_refused_and_nothing_is_stored(
    sandbox: RunningSandbox, api: ApiCall
) -> None:
    year = this_year(api)
    before = sandbox.admin("GET", f"/companies/{DB}/vouchers")
    unknown = api("POST", "vouchers", params={"financialyear": 99}, json=voucher(f"{year}-02-10"))
    assert error_of(unknown) == (400, 2000722)
    garbled = api("POST", "vouchers", params={"financialyear": "två"},
                  json=voucher(f"{year}-02-10"))
    assert error_of(garbled) == (400, 2000588)
    assert sandbox.admin("GET", f"/companies/{DB}/vouchers") == before


def test_each_row_is_kept_to_the_ore_before_the_balance_is_checked(
    sandbox: RunningSandbox, api: ApiCall
) -> None:
    # 0.005 + 0.005 are kept as 0.01 + 0.01: against a credit of 0.01 that is one öre off.
    year = this_year(api)
    before = sandbox.admin("GET", f"/companies/{DB}/vouchers")
    halves = voucher(f"{year}-02-10", [{"Account": 6570, "Debit": 0.005},
                                       {"Account": 6570, "Debit": 0.005},
                                       {"Account": 1930, "Credit": 0.01}])
    assert error_of(api("POST", "vouchers", params={"financialyear": 2}, json=halves)) == (
        400, 2000711)
    assert sandbox.admin("GET", f"/companies/{DB}/vouchers") == before


def test_lastmodified_lists_only_vouchers_changed_since(api: ApiCall) -> None:
    year = this_year(api)
    made = api("POST", "vouchers", params={"financialyear": 2},
               json=voucher(f"{year}-02-10")).json()["Voucher"]
    earlier = api("GET", "vouchers", params={"financialyear": 2,
                                             "lastmodified": f"{year - 1}-01-01 00:00"}).json()
    assert made["VoucherNumber"] in [v["VoucherNumber"] for v in earlier["Vouchers"]]
    later = api("GET", "vouchers", params={"financialyear": 2,
                                           "lastmodified": f"{year + 1}-01-01 00:00"}).json()
    assert later["Vouchers"] == [] and later["MetaInformation"]["@TotalPages"] == 0
