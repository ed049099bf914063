"""Invoices: customer required, Fortnox's rounding in Decimal, bookkeeping into series B."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aourly_fortnox.sandbox.testing import RunningSandbox

from .conftest import DB, ApiCall, error_of

ROWS = [
    {"Description": "Konsulttimmar", "DeliveredQuantity": 3, "Price": 33.333, "VAT": 25},
    {"Description": "Livsmedel", "DeliveredQuantity": 1.125, "Price": 10, "VAT": 12},
    {"Description": "Böcker", "DeliveredQuantity": 2, "Price": 19.99, "VAT": 6},
]


def create(api: ApiCall, **fields: Any) -> dict[str, Any]:
    payload = {"CustomerNumber": "1", "InvoiceDate": _today(api), "InvoiceRows": ROWS}
    payload.update(fields)
    answer = api("POST", "invoices", json={"Invoice": payload})
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"] == "invoices"
    invoice: dict[str, Any] = answer.json()["Invoice"]
    return invoice


def _today(api: ApiCall) -> str:
    return str(api("GET", "financialyears").json()["FinancialYears"][1]["FromDate"])


def test_totals_round_like_fortnox(api: ApiCall) -> None:
    invoice = create(api)
    rows = invoice["InvoiceRows"]
    assert [r["DeliveredQuantity"] for r in rows] == ["3.00", "1.13", "2.00"]  # strings
    assert [r["Price"] for r in rows] == [33.33, 10, 19.99]  # 2 decimals half-up
    assert [r["AccountNumber"] for r in rows] == [3001, 3002, 3003]  # by VAT rate
    totals = {
        k: Decimal(str(invoice[k])) for k in ("Net", "TotalVAT", "Gross", "RoundOff", "Total")
    }
    net = Decimal("99.99") + Decimal("11.30") + Decimal("39.98")
    vat = Decimal("25.00") + Decimal("1.36") + Decimal("2.40")
    assert totals["Net"] == net and totals["TotalVAT"] == vat
    # Gross is not net plus VAT: Fortnox answers the rows' sum without VAT there too.
    assert totals["Gross"] == net == Decimal("151.27")
    assert net + vat == Decimal("180.03")
    assert totals["Total"] == 180 and totals["RoundOff"] == Decimal("-0.03")
    assert invoice["Total"] == 180 and isinstance(invoice["Total"], int)  # no trailing .0
    assert invoice["DocumentNumber"] == "1" and isinstance(invoice["OCR"], str)
    assert invoice["CustomerNumber"] == "1" and invoice["Credit"] == "false"
    assert invoice["Booked"] is False and invoice["VoucherNumber"] is None
    assert invoice["CustomerName"] == "Fjällbacka Rör AB"
    assert invoice["OrganisationNumber"] == "559087-6545"


def test_totals_match_an_invoice_recorded_at_fortnox(api: ApiCall) -> None:
    # A real invoice from 2026: one 100 kr row at 25 %, freight 25, invoicing fee 50.
    row = {"Description": "Tjänst", "DeliveredQuantity": 1, "Price": 100, "VAT": 25}
    invoice = create(api, InvoiceRows=[row], Freight=25, AdministrationFee=50)
    totals = {k: invoice[k] for k in ("Net", "Gross", "TotalVAT", "Total", "RoundOff")}
    assert totals == {"Net": 100, "Gross": 100, "TotalVAT": 43.75, "Total": 219, "RoundOff": 0.25}
    assert invoice["FreightVAT"] == 6.25 and invoice["AdministrationFeeVAT"] == 12.5
    # With VATIncluded (not recorded; the sandbox's choice) the same rule: rows without VAT.
    included = create(api, InvoiceRows=[{**row, "Price": 125}], VATIncluded=True, Freight=25)
    totals = {k: included[k] for k in ("Net", "Gross", "TotalVAT", "Total", "RoundOff")}
    assert totals == {"Net": 100, "Gross": 100, "TotalVAT": 31.25, "Total": 156, "RoundOff": -0.25}


def test_list_items_and_external_reference_search(api: ApiCall) -> None:
    create(api, ExternalInvoiceReference1="aourly-inv-7f3c")
    create(api, ExternalInvoiceReference1="xaourly-inv-7f3cx")
    create(api, ExternalInvoiceReference1="other")
    found = api("GET", "invoices", params={"externalinvoicereference1": "aourly-inv-7f3c"})
    items = found.json()["Invoices"]
    assert [i["ExternalInvoiceReference1"] for i in items] == [
        "aourly-inv-7f3c",
        "xaourly-inv-7f3cx",
    ]  # LIKE: the client must compare exactly
    assert items[0]["CurrencyRate"] == "1" and "InvoiceRows" not in items[0]
    assert api("GET", "invoices/1").json()["Invoice"]["CurrencyRate"] == 1
    by_number = api("GET", "invoices", params={"documentnumber": "2"}).json()["Invoices"]
    assert [i["DocumentNumber"] for i in by_number] == ["2"]


def test_invoice_needs_an_existing_customer(api: ApiCall) -> None:
    answer = api(
        "POST", "invoices", json={"Invoice": {"CustomerNumber": "AOU404", "InvoiceRows": ROWS}}
    )
    assert error_of(answer) == (400, 2000433)
    assert answer.json()["ErrorInformation"]["message"] == "Kan inte hitta kunden."
    assert error_of(api("POST", "invoices", json={"Invoice": {"InvoiceRows": ROWS}}))[0] == 400


def test_row_rules(api: ApiCall) -> None:
    def row(**fields: Any) -> dict[str, Any]:
        return {
            "Invoice": {
                "CustomerNumber": "1",
                "InvoiceRows": [
                    {"Description": "x", "DeliveredQuantity": 1, "Price": 100, **fields}
                ],
            }
        }

    assert error_of(api("POST", "invoices", json=row(VAT=13))) == (400, 2000755)
    assert error_of(api("POST", "invoices", json=row(AccountNumber=3590))) == (400, 2000550)
    assert error_of(api("POST", "invoices", json=row(AccountNumber=9999))) == (400, 2000423)
    assert error_of(api("POST", "invoices", json=row(ArticleNumber="A1"))) == (400, 2000428)
    assert error_of(api("POST", "invoices", json=row(Colour="red"))) == (400, 2001399)
    euro = {"Invoice": {"CustomerNumber": "1", "Currency": "EUR"}}
    assert error_of(api("POST", "invoices", json=euro)) == (400, 2000427)
    exempt = api("POST", "invoices", json=row(AccountNumber=3004)).json()["Invoice"]
    assert exempt["InvoiceRows"][0]["VAT"] == 0 and exempt["TotalVAT"] == 0  # from VATCode MF


def test_update_until_booked_then_bookkeep(sandbox: RunningSandbox, api: ApiCall) -> None:
    invoice = create(api)
    number = invoice["DocumentNumber"]
    changed = api(
        "PUT",
        f"invoices/{number}",
        json={
            "Invoice": {
                "YourReference": "Anna",
                "InvoiceRows": [
                    {"Description": "Ny rad", "DeliveredQuantity": 10, "Price": 950, "VAT": 25}
                ],
            }
        },
    )
    assert changed.status_code == 200
    assert changed.json()["Invoice"]["Total"] == 11875
    assert changed.json()["Invoice"]["YourReference"] == "Anna"
    only_head = api("PUT", f"invoices/{number}", json={"Invoice": {"Remarks": "Tack!"}})
    assert only_head.json()["Invoice"]["Total"] == 11875  # rows kept

    booked = api("PUT", f"invoices/{number}/bookkeep").json()["Invoice"]
    assert booked["Booked"] is True and booked["VoucherSeries"] == "B"
    assert booked["VoucherYear"] == 2 and booked["VoucherNumber"] == 1
    voucher = api("GET", "vouchers/B/1", params={"financialyear": 2}).json()["Voucher"]
    assert voucher["ReferenceType"] == "INVOICE" and voucher["ReferenceNumber"] == number
    lines = {(r["Account"], r["Debit"], r["Credit"]) for r in voucher["VoucherRows"]}
    assert lines == {(1510, 11875, 0), (3001, 0, 9500), (2611, 0, 2375)}

    refused = api("PUT", f"invoices/{number}", json={"Invoice": {"Remarks": "x"}})
    assert error_of(refused) == (400, 2000764)
    assert error_of(api("PUT", f"invoices/{number}/bookkeep")) == (400, 2000765)
    assert error_of(api("PUT", f"invoices/{number}/cancel")) == (400, 2000764)


def test_bookkeeping_balances_with_roundoff(api: ApiCall) -> None:
    number = create(api)["DocumentNumber"]
    api("PUT", f"invoices/{number}/bookkeep")
    voucher = api("GET", "vouchers/B/1").json()["Voucher"]
    debit = sum(Decimal(str(r["Debit"])) for r in voucher["VoucherRows"])
    credit = sum(Decimal(str(r["Credit"])) for r in voucher["VoucherRows"])
    assert debit == credit == Decimal("180.03")
    by_account = {
        r["Account"]: (Decimal(str(r["Debit"])), Decimal(str(r["Credit"])))
        for r in voucher["VoucherRows"]
    }
    assert by_account[1510] == (Decimal(180), 0)
    assert by_account[3740] == (Decimal("0.03"), 0)  # negative öresavrundning is a debit
    assert by_account[2621] == (0, Decimal("1.36")) and by_account[2631] == (0, Decimal("2.40"))


def test_bookkeeping_needs_an_open_financial_year(sandbox: RunningSandbox, api: ApiCall) -> None:
    year = int(_today(api)[:4])
    future = create(api, InvoiceDate=f"{year + 2}-03-01")
    assert error_of(api("PUT", f"invoices/{future['DocumentNumber']}/bookkeep")) == (400, 2000720)
    sandbox.admin(
        "PUT", f"/companies/{DB}/lockedperiod", {"LockedPeriod": {"EndDate": f"{year}-06-30"}}
    )
    locked = create(api, InvoiceDate=f"{year}-02-01")
    assert error_of(api("PUT", f"invoices/{locked['DocumentNumber']}/bookkeep")) == (400, 2000773)


def test_cancel_and_admin_actions(sandbox: RunningSandbox, api: ApiCall) -> None:
    first, second = create(api), create(api)
    cancelled = api("PUT", f"invoices/{first['DocumentNumber']}/cancel").json()["Invoice"]
    assert cancelled["Cancelled"] is True and cancelled["Balance"] == 0
    booked = sandbox.admin("POST", f"/companies/{DB}/invoices/{second['DocumentNumber']}/bookkeep")
    assert booked["Invoice"]["Booked"] is True
    every = sandbox.admin("GET", f"/companies/{DB}/invoices")
    assert [i["DocumentNumber"] for i in every] == ["1", "2"] and "InvoiceRows" in every[0]
    unbooked = api("GET", "invoices", params={"filter": "unbooked"}).json()["Invoices"]
    assert unbooked == []
    assert error_of(api("GET", "invoices", params={"filter": "weird"})) == (400, 2000587)


def test_edi_information_is_accepted(sandbox: RunningSandbox, api: ApiCall) -> None:
    edi = {"EDIGlobalLocationNumber": "7300009012345", "EDIYourElectronicReference": "PO-77"}
    invoice = create(api, EDIInformation=edi)
    assert invoice["EDIInformation"] == {
        "EDIGlobalLocationNumber": "7300009012345", "EDIGlobalLocationNumberDelivery": "",
        "EDIInvoiceExtra1": "", "EDIInvoiceExtra2": "", "EDIOurElectronicReference": "",
        "EDIYourElectronicReference": "PO-77", "EDIStatus": "",
    }  # fmt: skip
    number = invoice["DocumentNumber"]
    fetched = api("GET", f"invoices/{number}").json()["Invoice"]
    assert fetched["EDIInformation"] == invoice["EDIInformation"]
    # An update changes only the fields it names; echoing EDIStatus back is harmless.
    change = {"EDIInformation": {"EDIInvoiceExtra1": "avd 4", "EDIStatus": "3"}}
    updated = api("PUT", f"invoices/{number}", json={"Invoice": change}).json()["Invoice"]
    assert updated["EDIInformation"] == {
        **invoice["EDIInformation"], "EDIInvoiceExtra1": "avd 4"
    }  # fmt: skip
    # A field EDIInformation does not have is an unknown field name, and changes nothing.
    stored = sandbox.admin("GET", f"/companies/{DB}/invoices")
    odd = {"EDIInformation": {"EDIColour": "blue"}}
    assert error_of(api("PUT", f"invoices/{number}", json={"Invoice": odd})) == (400, 2001399)
    assert error_of(api("POST", "invoices", json={"Invoice": {
        "CustomerNumber": "1", "EDIInformation": "PO-77"}})) == (400, 2001392)  # fmt: skip
    assert sandbox.admin("GET", f"/companies/{DB}/invoices") == stored
