"""Texts over Fortnox's published field lengths are refused (400, the sandbox's own code
2000774), and nothing is stored; a text exactly at its limit is fine."""

from __future__ import annotations

from typing import Any

import pytest

from aourly_fortnox.sandbox.testing import RunningSandbox, SandboxError

from .conftest import DB, ApiCall, error_of

TOO_LONG = 2000774


def everything(sandbox: RunningSandbox) -> dict[str, Any]:
    """The company's customers, invoices and vouchers, to show a refusal changed nothing."""
    return {kind: sandbox.admin("GET", f"/companies/{DB}/{kind}")
            for kind in ("customers", "invoices", "vouchers")}  # fmt: skip


def invoice(**fields: Any) -> dict[str, Any]:
    row = {"Description": fields.pop("row_description", "Konsult"), "DeliveredQuantity": 1,
           "Price": 100, "VAT": 25}  # fmt: skip
    return {"Invoice": {"CustomerNumber": "1", "InvoiceRows": [row], **fields}}


def voucher(sandbox: RunningSandbox, description: str = "Utbetalning", info: str = "") -> dict:
    day = sandbox.admin("GET", f"/companies/{DB}/financialyears")[1]["FromDate"]
    rows = [
        {"Account": 4600, "Debit": 10, "TransactionInformation": info},
        {"Account": 1930, "Credit": 10},
    ]
    body = {"VoucherSeries": "A", "TransactionDate": day, "Description": description,
            "VoucherRows": rows}  # fmt: skip
    return {"Voucher": body}


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("ExternalInvoiceReference1", 80),
        ("ExternalInvoiceReference2", 80),
        ("YourReference", 50),
        ("OurReference", 50),
        ("row_description", 255),
    ],
)
def test_invoice_texts(sandbox: RunningSandbox, api: ApiCall, field: str, limit: int) -> None:
    before = everything(sandbox)
    refused = api("POST", "invoices", json=invoice(**{field: "x" * (limit + 1)}))
    assert error_of(refused) == (400, TOO_LONG)
    name = "Description" if field == "row_description" else field
    assert refused.json()["ErrorInformation"]["message"] == (
        f"Fältet {name} får innehålla högst {limit} tecken."
    )
    assert everything(sandbox) == before
    created = api("POST", "invoices", json=invoice(**{field: "å" * limit}))  # characters count
    assert created.status_code == 201, created.text
    number = created.json()["Invoice"]["DocumentNumber"]
    stored = sandbox.admin("GET", f"/companies/{DB}/invoices")
    # An update is held to the same limit and leaves the invoice as it was.
    change = invoice(**{field: "y" * (limit + 1)})
    assert error_of(api("PUT", f"invoices/{number}", json=change)) == (400, TOO_LONG)
    assert sandbox.admin("GET", f"/companies/{DB}/invoices") == stored


def test_customer_zip_code(sandbox: RunningSandbox, api: ApiCall) -> None:
    before = everything(sandbox)
    refused = api(
        "POST", "customers", json={"Customer": {"Name": "Lång AB", "ZipCode": "12345678901"}}
    )
    assert error_of(refused) == (400, TOO_LONG)
    assert everything(sandbox) == before
    refused = api("PUT", "customers/1", json={"Customer": {"ZipCode": "123 45 678 9"}})
    assert error_of(refused) == (400, TOO_LONG)
    assert everything(sandbox) == before
    made = api("POST", "customers", json={"Customer": {"Name": "Kort AB", "ZipCode": "123 45 678"}})
    assert made.status_code == 201


def test_customer_country_code_is_iso_alpha2(sandbox: RunningSandbox, api: ApiCall) -> None:
    before = everything(sandbox)
    for code in ("SWE", "Sverige", "XX", "se", "S"):
        refused = api(
            "POST", "customers", json={"Customer": {"Name": "Land AB", "CountryCode": code}}
        )
        assert error_of(refused) == (400, 2000591), code
        assert error_of(api("PUT", "customers/1", json={"Customer": {"CountryCode": code}})) == (
            400, 2000591,
        ), code  # fmt: skip
    assert everything(sandbox) == before
    for code in ("SE", "NO", "DE", ""):
        made = api("POST", "customers", json={"Customer": {"Name": "Land AB", "CountryCode": code}})
        assert made.status_code == 201, code


def test_voucher_texts(sandbox: RunningSandbox, api: ApiCall) -> None:
    before = everything(sandbox)
    year = {"financialyear": 2}
    long_description = api(
        "POST", "vouchers", params=year, json=voucher(sandbox, description="d" * 201)
    )
    assert error_of(long_description) == (400, TOO_LONG)
    long_info = api("POST", "vouchers", params=year, json=voucher(sandbox, info="i" * 101))
    assert error_of(long_info) == (400, TOO_LONG)
    # A person in Fortnox (the admin API) meets the same limits.
    with pytest.raises(SandboxError) as admin_refused:
        sandbox.admin("POST", f"/companies/{DB}/vouchers", voucher(sandbox, description="d" * 201))
    assert admin_refused.value.status == 400
    assert admin_refused.value.body["ErrorInformation"]["code"] == TOO_LONG
    assert everything(sandbox) == before
    at_limit = api("POST", "vouchers", params=year, json=voucher(sandbox, "d" * 200, "i" * 100))
    assert at_limit.status_code == 201, at_limit.text
