"""The admin API: acting as a person working in Fortnox."""

from __future__ import annotations

import pytest

from aourly_fortnox.sandbox.testing import RunningSandbox, SandboxError

from .conftest import DB, ApiCall, error_of


def test_companies_and_resources(sandbox: RunningSandbox) -> None:
    assert sandbox.admin("GET", "/_admin/companies") == [
        {
            "DatabaseNumber": 1001,
            "CompanyName": "Demo Bygg AB",
            "OrganizationNumber": "556981-2349",
        },
        {
            "DatabaseNumber": 1002,
            "CompanyName": "Test Konsult AB",
            "OrganizationNumber": "559214-5675",
        },
    ]
    customers = sandbox.admin("GET", f"/companies/{DB}/customers")
    assert [c["CustomerNumber"] for c in customers] == ["1", "2"]
    assert customers[0]["OrganisationNumber"] == "559087-6545" and "Phone1" in customers[0]
    vouchers = sandbox.admin("GET", f"/companies/{DB}/vouchers")
    assert {v["Year"] for v in vouchers} == {1, 2} and all(v["VoucherRows"] for v in vouchers)
    accounts = sandbox.admin("GET", f"/companies/{DB}/accounts")
    assert len(accounts) == 2 * 374 and "BalanceCarriedForward" in accounts[0]
    with pytest.raises(SandboxError) as missing:
        sandbox.admin("GET", "/companies/4242/customers")
    assert missing.value.status == 404


def test_account_upsert_per_year_or_everywhere(sandbox: RunningSandbox, api: ApiCall) -> None:
    one = sandbox.admin(
        "POST",
        f"/companies/{DB}/accounts",
        {"Account": {"Number": 3001, "Active": False, "Year": 2}},
    )
    assert [(a["Year"], a["Active"]) for a in one["Accounts"]] == [(2, False)]
    assert api("GET", "accounts/3001", params={"financialyear": 1}).json()["Account"]["Active"]
    refused = api(
        "POST",
        "invoices",
        json={
            "Invoice": {
                "CustomerNumber": "1",
                "InvoiceRows": [
                    {"Description": "x", "DeliveredQuantity": 1, "Price": 1, "VAT": 25}
                ],
            }
        },
    )
    assert error_of(refused) == (400, 2000550)  # the default SALES account is now inactive
    new = sandbox.admin(
        "POST",
        f"/companies/{DB}/accounts",
        {"Account": {"Number": 3011, "Description": "Försäljning appar", "VATCode": "MP1"}},
    )
    assert [a["Year"] for a in new["Accounts"]] == [1, 2]
    assert api("GET", "accounts/3011").json()["Account"]["Description"] == "Försäljning appar"


def test_new_financial_year_copies_the_chart(sandbox: RunningSandbox, api: ApiCall) -> None:
    year = int(api("GET", "financialyears/2").json()["FinancialYear"]["ToDate"][:4]) + 1
    made = sandbox.admin(
        "POST",
        f"/companies/{DB}/financialyears",
        {"FinancialYear": {"FromDate": f"{year}-01-01", "ToDate": f"{year}-12-31"}},
    )
    assert made["FinancialYear"]["Id"] == 3
    chart = api("GET", "accounts", params={"financialyear": 3}).json()
    assert chart["MetaInformation"]["@TotalResources"] == 374
    day = f"{year}-02-01"
    body = {
        "Voucher": {
            "VoucherSeries": "A",
            "TransactionDate": day,
            "Description": "Nytt år",
            "VoucherRows": [{"Account": 1930, "Debit": 10}, {"Account": 2081, "Credit": 10}],
        }
    }
    created = api("POST", "vouchers", params={"financialyear": 3}, json=body).json()["Voucher"]
    assert (created["Year"], created["VoucherNumber"]) == (3, 1)
    with pytest.raises(SandboxError) as overlap:
        sandbox.admin(
            "POST",
            f"/companies/{DB}/financialyears",
            {"FinancialYear": {"FromDate": f"{year}-06-01", "ToDate": f"{year + 1}-05-31"}},
        )
    assert overlap.value.body["ErrorInformation"]["code"] == 2000723


def test_locked_company_api_answers_no_licence(sandbox: RunningSandbox, api: ApiCall) -> None:
    sandbox.admin("POST", f"/companies/{DB}/settings", {"locked": True})
    assert error_of(api("GET", "customers")) == (400, 2001103)
    sandbox.admin("POST", f"/companies/{DB}/settings", {"locked": False})
    assert api("GET", "customers").status_code == 200


def test_runtime_settings(sandbox: RunningSandbox) -> None:
    current = sandbox.admin("GET", "/settings")
    assert current == {
        "access_ttl": 3600.0,
        "refresh_ttl": 3888000.0,
        "code_ttl": 600.0,
        "rate_limit": "1000/1",
        "retry_after": None,
        "refresh_reuse_revokes": True,
    }
    with pytest.raises(SandboxError) as refused:
        sandbox.configure(refresh_reuse_revokes="no")
    assert refused.value.status == 400
    assert sandbox.admin("GET", "/settings") == current  # nothing changed
    changed = sandbox.configure(access_ttl=60, rate_limit="25/5", retry_after=3)
    assert changed["rate_limit"] == "25/5" and changed["retry_after"] == 3
    tokens = sandbox.tokens()
    assert tokens["expires_in"] == 60
