"""Envelopes, casing, numbers-as-strings, filters and pagination as recorded from Fortnox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aourly_fortnox.sandbox.testing import RunningSandbox, running_sandbox

from .conftest import ALL_SCOPES, DB, REDIRECT, ApiCall, error_of


def test_company_information(api: ApiCall) -> None:
    info = api("GET", "companyinformation").json()["CompanyInformation"]
    assert info["CompanyName"] == "Demo Bygg AB" and info["DatabaseNumber"] == DB
    assert info["OrganizationNumber"] == "556981-2349"  # z, unlike customers' s
    assert {"Address", "City", "ZipCode", "CountryCode"} <= set(info)


def test_404_capitalises_and_400_does_not(api: ApiCall) -> None:
    missing = api("GET", "customers/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {
        "ErrorInformation": {"Error": 1, "Message": "Kan inte hitta kunden.", "Code": 2000433}
    }
    bad = api("GET", "customers", params={"colour": "red"})
    assert bad.status_code == 400
    assert bad.json() == {
        "ErrorInformation": {
            "error": 1,
            "message": "Ett ogiltigt filter har använts.",
            "code": 2000587,
        }
    }
    assert error_of(api("GET", "invoices/999")) == (404, 2000434)


def test_bodies_need_their_envelope_and_known_fields(api: ApiCall) -> None:
    assert error_of(api("POST", "customers", json={"Name": "X"})) == (400, 2001392)
    assert error_of(api("POST", "customers", data="")) == (400, 2001392)
    assert error_of(
        api("POST", "customers", data="{nope", headers={"Content-Type": "application/json"})
    ) == (400, 2002115)
    unknown = api("POST", "customers", json={"Customer": {"Name": "X", "Colour": "red"}})
    assert error_of(unknown) == (400, 2001399)
    assert unknown.json()["ErrorInformation"]["message"] == "Felaktigt fältnamn (Colour)"


def test_unknown_path_and_method(api: ApiCall) -> None:
    assert api("GET", "nonsense").status_code == 404
    assert api("DELETE", "invoices/1").status_code == 405


def test_empty_list_metainformation(api: ApiCall) -> None:
    body = api("GET", "invoices").json()
    assert list(body) == ["MetaInformation", "Invoices"]  # MetaInformation first
    assert body["MetaInformation"] == {"@TotalResources": 0, "@TotalPages": 0, "@CurrentPage": 1}
    assert body["Invoices"] == []


def test_limit_over_500_is_refused(api: ApiCall) -> None:
    assert api("GET", "accounts", params={"limit": 500}).status_code == 200
    assert error_of(api("GET", "accounts", params={"limit": 501}))[0] == 400


@pytest.fixture(scope="module")
def big_chart() -> Iterator[tuple[RunningSandbox, str]]:
    with running_sandbox(extra_accounts=1200, rate_limit="1000/1") as box:
        yield box, box.tokens(ALL_SCOPES, REDIRECT)["access_token"]


def test_pagination_over_1200_extra_accounts(big_chart: tuple[RunningSandbox, str]) -> None:
    box, token = big_chart
    expected = {
        a["Number"] for a in box.admin("GET", f"/companies/{DB}/accounts") if a["Year"] == 2
    }
    assert len(expected) == 374 + 1200
    seen: list[int] = []
    page, pages = 1, None
    while pages is None or page <= pages:
        body = box.api(
            "GET", "accounts", token, params={"financialyear": 2, "limit": 500, "page": page}
        ).json()
        meta = body["MetaInformation"]
        assert meta["@TotalResources"] == len(expected) and meta["@CurrentPage"] == page
        pages = meta["@TotalPages"]
        seen += [account["Number"] for account in body["Accounts"]]
        page += 1
    assert pages == 4
    assert len(seen) == len(set(seen)) == len(expected) and set(seen) == expected
    default = box.api("GET", "accounts", token).json()
    assert len(default["Accounts"]) == 100 and default["MetaInformation"]["@TotalPages"] == 16


def test_accounts_per_year_and_inactive_3590(api: ApiCall) -> None:
    current = api("GET", "accounts/3590").json()["Account"]
    last = api("GET", "accounts/3590", params={"financialyear": 1}).json()["Account"]
    assert (current["Year"], current["Active"]) == (2, False)
    assert (last["Year"], last["Active"]) == (1, True)
    sales = api("GET", "accounts/3001").json()["Account"]
    assert sales["VATCode"] == "MP1" and sales["Description"].startswith("Försäljning")
    assert api("GET", "accounts/3002").json()["Account"]["VATCode"] == "MP2"
    assert error_of(api("GET", "accounts", params={"financialyear": 99})) == (400, 2000722)
    item = api("GET", "accounts", params={"limit": 1}).json()["Accounts"][0]
    assert "BalanceCarriedForward" not in item and "@url" in item


def test_financial_years(api: ApiCall) -> None:
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    years = api("GET", "financialyears").json()["FinancialYears"]
    assert [(y["Id"], y["FromDate"]) for y in years] == [
        (1, f"{today.year - 1}-01-01"),
        (2, f"{today.year}-01-01"),
    ]
    assert years[0]["accountCharts"]  # list items name the chart like the official example
    single = api("GET", "financialyears/2").json()["FinancialYear"]
    assert single["AccountChartType"] and single["AccountingMethod"] == "ACCRUAL"
    by_date = api("GET", "financialyears", params={"date": today.isoformat()}).json()
    assert [y["Id"] for y in by_date["FinancialYears"]] == [2]
    none = api("GET", "financialyears", params={"date": f"{today.year + 3}-01-01"}).json()
    assert none["FinancialYears"] == [] and none["MetaInformation"]["@TotalPages"] == 0
    assert error_of(api("GET", "financialyears/9")) == (404, 2000557)


def test_predefined_accounts_series_and_locked_period(api: ApiCall) -> None:
    names = {
        p["Name"]: p["Account"]
        for p in api("GET", "predefinedaccounts").json()["PreDefinedAccounts"]
    }
    assert names["CUSTCLAIM"] == 1510 and names["OUTVAT_MP1"] == 2611
    assert names["SALES"] == 3001 and names["ROUNDOFF"] == 3740 and names["BG"] == 1930
    one = api("GET", "predefinedaccounts/SALES_12_SE").json()["PreDefinedAccount"]
    assert one["Account"] == 3002
    series = {s["Code"]: s for s in api("GET", "voucherseries").json()["VoucherSeriesCollection"]}
    assert series["A"]["Manual"] is True and series["B"]["Manual"] is False
    assert series["B"]["Description"] == "Kundfakturor" and series["A"]["Year"] == 2
    assert api("GET", "voucherseries/A").json()["VoucherSeries"]["NextVoucherNumber"] == 3
    assert api("GET", "settings/lockedperiod").json() == {"LockedPeriod": {"EndDate": ""}}


def test_lastmodified_filter(sandbox: RunningSandbox, api: ApiCall) -> None:
    stockholm = datetime.now(ZoneInfo("Europe/Stockholm"))
    api("POST", "customers", json={"Customer": {"Name": "Ny Kund AB"}})
    since = (stockholm - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    later = (stockholm + timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M")
    recent = api("GET", "customers", params={"lastmodified": since}).json()["Customers"]
    assert "Ny Kund AB" in [c["Name"] for c in recent]
    assert api("GET", "customers", params={"lastmodified": later}).json()["Customers"] == []
    assert error_of(api("GET", "customers", params={"lastmodified": "yesterday"}))[0] == 400
