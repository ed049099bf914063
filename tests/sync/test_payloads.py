"""The invoice and customer payloads: bodies, predicted totals and pre-checks, without I/O."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest

from aourly_fortnox.i18n import translations
from aourly_fortnox.reasons import TEXTS
from aourly_fortnox.sync.payloads import (
    InvoiceTotals,
    PayloadProblem,
    account_keys,
    body_hash,
    customer_payload,
    invoice_payload,
)

from .builders import ACCOUNTS, REFERENCE, customer, invoice, row

D = Decimal


def totals(net: str, vat: str, round_off: str, total: str, **by_rate: str) -> InvoiceTotals:
    return InvoiceTotals(D(net), D(vat), {int(k[1:]): D(v) for k, v in by_rate.items()},
                         D(round_off), D(total))


def problem(call: Any, *args: Any, **kwargs: Any) -> PayloadProblem:
    with pytest.raises(PayloadProblem) as info:
        call(*args, **kwargs)
    return info.value


def test_one_row_at_25_percent_is_the_whole_body() -> None:
    host = invoice(row("Tjänst", "1", "100"), your_reference="Anna", our_reference="Olle",
                   remarks="Tack!")
    payload = invoice_payload(host, customer(), "AOU42", REFERENCE, ACCOUNTS)
    assert payload.body == {"Invoice": {
        "CustomerNumber": "AOU42", "InvoiceDate": "2026-03-02", "DueDate": "2026-04-01",
        "Currency": "SEK", "ExternalInvoiceReference1": REFERENCE,
        "ExternalInvoiceReference2": "1007", "YourReference": "Anna", "OurReference": "Olle",
        "Remarks": "Tack!", "VATIncluded": False,
        "InvoiceRows": [{"Description": "Tjänst", "DeliveredQuantity": 1, "Price": 100,
                         "VAT": 25, "AccountNumber": 3001}],
    }}
    assert payload.totals == totals("100", "25", "0", "125", r25="25")


def test_unset_references_and_remarks_are_left_out() -> None:
    body = invoice_payload(invoice(), customer(), "AOU42", REFERENCE, ACCOUNTS).body["Invoice"]
    assert not {"YourReference", "OurReference", "Remarks"} & set(body)


def test_round_off_to_whole_kronor_as_recorded() -> None:
    # The recorded invoice's 175 kr at 25 % (there: a row, freight and fee; here: two rows).
    host = invoice(row("Tjänst", "1", "100"), row("Resa", "3", "25"))
    assert invoice_payload(host, customer(), "AOU42", REFERENCE, ACCOUNTS).totals == totals(
        "175", "43.75", "0.25", "219", r25="43.75")


def test_vat_per_rate_and_a_negative_round_off() -> None:
    host = invoice(row("Konsulttimmar", "3", "33.33"), row("Livsmedel", "1.12", "10", 12),
                   row("Böcker", "2", "19.99", 6), row("Porto", "1", "12.50", 0))
    payload = invoice_payload(host, customer(), "AOU42", REFERENCE, ACCOUNTS)
    assert [r["AccountNumber"] for r in payload.body["Invoice"]["InvoiceRows"]] == [
        3001, 3002, 3003, 3004]
    # 99.99 + 11.20 + 39.98 + 12.50 = 163.67; VAT 25.00 + 1.34 + 2.40; 192.41 -> 192
    assert payload.totals == totals("163.67", "28.74", "-0.41", "192",
                                    r25="25.00", r12="1.34", r6="2.40")
    assert list(payload.totals.vat_by_rate) == [25, 12, 6]  # no 0 % entry


def test_vat_is_computed_per_rate_not_per_row() -> None:
    # Three rows of 0.02 at 25 %: per row 0.005 would round to 0.01 each (0.03);
    # per rate 0.06 x 25 % = 0.015 rounds to 0.02.
    host = invoice(*[row("Gem", "1", "0.02")] * 3)
    assert invoice_payload(host, customer(), "AOU42", REFERENCE, ACCOUNTS).totals == totals(
        "0.06", "0.02", "-0.08", "0", r25="0.02")


@pytest.mark.parametrize(("vat_type", "key", "account"),
                         [("EUREVERSEDVAT", "sales_eu", 3108), ("EXPORT", "sales_export", 3105)])
def test_eu_and_export_rows_carry_vat_0_and_their_key(vat_type: str, key: str,
                                                       account: int) -> None:
    buyer = customer(vat_type=vat_type, country_code="DE", vat_number="DE123456789")
    host = invoice(row("Konsult", "2", "500", 25), row("Bok", "1", "99", 6),
                   row("Udda", "1", "10", 7))  # the host's rate does not matter abroad
    assert account_keys(host, buyer) == {key}
    payload = invoice_payload(host, buyer, "AOU42", REFERENCE, ACCOUNTS)
    rows = payload.body["Invoice"]["InvoiceRows"]
    assert [(r["VAT"], r["AccountNumber"]) for r in rows] == [(0, account)] * 3
    assert payload.totals == totals("1109", "0", "0", "1109")


def test_a_rows_own_account_key_wins() -> None:
    host = invoice(row("Konsult", "1", "100", 25, account_key="consulting"), row("Bok"))
    assert account_keys(host, customer()) == {"consulting", "sales_25"}
    rows = invoice_payload(host, customer(), "AOU42", REFERENCE, ACCOUNTS).body["Invoice"][
        "InvoiceRows"]
    assert [(r["VAT"], r["AccountNumber"]) for r in rows] == [(25, 3041), (25, 3001)]
    buyer = customer(vat_type="EUREVERSEDVAT", country_code="DE")
    assert account_keys(host, buyer) == {"consulting", "sales_eu"}
    rows = invoice_payload(host, buyer, "AOU42", REFERENCE, ACCOUNTS).body["Invoice"][
        "InvoiceRows"]
    assert [(r["VAT"], r["AccountNumber"]) for r in rows] == [(0, 3041), (0, 3108)]


def test_a_missing_account_is_the_callers_bug() -> None:
    with pytest.raises(KeyError):
        invoice_payload(invoice(), customer(), "AOU42", REFERENCE, {"sales_12": 3002})


def test_a_quantity_with_three_decimals_goes_as_one_at_the_row_total() -> None:
    # Fortnox would take 1.13 x 800 = 904.00; the host billed 1.125 x 800 = 900.00.
    host = invoice(row("Konsulttimmar", "1.125", "800.00"), row("Resa", "0.333", "0.50"))
    payload = invoice_payload(host, customer(), "AOU42", REFERENCE, ACCOUNTS)
    rows = payload.body["Invoice"]["InvoiceRows"]
    assert rows[0] == {"Description": "Konsulttimmar (1.125 × 800.00)", "DeliveredQuantity": 1,
                       "Price": 900, "VAT": 25, "AccountNumber": 3001}
    # 0.1665 rounds half-up to 0.17
    assert rows[1]["Description"] == "Resa (0.333 × 0.50)" and rows[1]["Price"] == 0.17
    assert payload.totals == totals("900.17", "225.04", "-0.21", "1125", r25="225.04")


def test_a_price_with_three_decimals_takes_the_same_way() -> None:
    host = invoice(row("Konsulttimmar", "3", "33.333"), row("Skruv", "1.50", "2.5"))
    rows = invoice_payload(host, customer(), "AOU42", REFERENCE, ACCOUNTS).body["Invoice"][
        "InvoiceRows"]
    assert rows[0]["Description"] == "Konsulttimmar (3 × 33.333)"
    assert (rows[0]["DeliveredQuantity"], rows[0]["Price"]) == (1, 100)  # 99.999 -> 100.00
    # Two decimals or fewer go as they are (trailing zeros do not count as decimals).
    assert rows[1] == {"Description": "Skruv", "DeliveredQuantity": 1.5, "Price": 2.5,
                       "VAT": 25, "AccountNumber": 3001}


def test_the_body_is_plain_json_with_exact_numbers() -> None:
    host = invoice(row("A", "1.1", "0.01"), row("B", "999.99", "99999999.99"))
    payload = invoice_payload(host, customer(), "AOU42", REFERENCE, ACCOUNTS)
    text = json.dumps(payload.body)  # no default= needed
    back = json.loads(text, parse_float=Decimal)["Invoice"]["InvoiceRows"]
    assert [(r["DeliveredQuantity"], r["Price"]) for r in back] == [
        (D("1.1"), D("0.01")), (D("999.99"), D("99999999.99"))]
    # 1.1 x 0.01 = 0.011 -> 0.01; 999.99 x 99999999.99 = 99998999990.0001 -> ...990.00
    assert payload.totals.net == D("99998999990.01")


def test_an_amount_a_json_number_cannot_carry_exactly_is_refused() -> None:
    host = invoice(row("Stort", "1", "99999999999999.99"))  # 16 significant digits
    found = problem(invoice_payload, host, customer(), "AOU42", REFERENCE, ACCOUNTS)
    assert (found.code, found.params) == ("AMOUNT_TOO_LARGE", {"amount": "99999999999999.99"})
    # A fine price whose total would be that large is refused too.
    host = invoice(row("Stort", "999", "99999999999.99"))
    found = problem(invoice_payload, host, customer(), "AOU42", REFERENCE, ACCOUNTS)
    assert found.code == "AMOUNT_TOO_LARGE"


# -- pre-checks --------------------------------------------------------------------------------


def test_an_empty_invoice_is_refused() -> None:
    empty = invoice()
    empty = type(empty)(**{**empty.__dict__, "rows": ()})
    found = problem(invoice_payload, empty, customer(), "AOU42", REFERENCE, ACCOUNTS)
    assert (found.code, found.params) == ("INVOICE_EMPTY", {"number": "1007"})
    assert found.reason == "Invoice 1007 has no rows: Fortnox does not accept an empty invoice."


def test_an_unsupported_vat_rate_is_refused_for_swedish_sales() -> None:
    host = invoice(row(), row("Matmoms 7 procent", "1", "10", 7))
    for call, args in ((account_keys, (host, customer())),
                       (invoice_payload, (host, customer(), "AOU42", REFERENCE, ACCOUNTS))):
        found = problem(call, *args)
        assert (found.code, found.params) == (
            "VAT_RATE_UNSUPPORTED", {"rate": 7, "start": "Matmoms 7 procent"})
    assert "has 7 % VAT; Fortnox only accepts 25, 12, 6 or 0 % for" in found.reason


@pytest.mark.parametrize(("field", "attribute", "limit", "label"), [
    ("ExternalInvoiceReference2", "number", 80, "Invoice number"),
    ("YourReference", "your_reference", 50, "Your reference"),
    ("OurReference", "our_reference", 50, "Our reference"),
])
def test_invoice_texts_keep_fortnoxs_lengths(field: str, attribute: str, limit: int,
                                             label: str) -> None:
    fits = invoice(**{attribute: "å" * limit})  # characters, not bytes
    assert invoice_payload(fits, customer(), "AOU42", REFERENCE, ACCOUNTS).body["Invoice"][
        field] == "å" * limit
    long = invoice(**{attribute: "Referens " + "x" * limit})
    found = problem(invoice_payload, long, customer(), "AOU42", REFERENCE, ACCOUNTS)
    assert (found.code, found.params) == ("TEXT_TOO_LONG", {
        "field": field, "label": label, "limit": limit, "start": "Referens xxxxxxxxxxx"})
    assert found.reason == (f"{label} (“Referens xxxxxxxxxxx…”) is longer than Fortnox "
                            f"accepts (at most {limit} characters): shorten it and send again.")


def test_our_own_reference_is_checked_too() -> None:
    found = problem(invoice_payload, invoice(), customer(), "AOU42", "AOU:" + "x" * 77, ACCOUNTS)
    assert found.params["field"] == "ExternalInvoiceReference1"


def test_row_text_keeps_255_characters_with_the_quantity_appended() -> None:
    fits = invoice(row("r" * 255))
    assert invoice_payload(fits, customer(), "AOU42", REFERENCE, ACCOUNTS)
    found = problem(invoice_payload, invoice(row("r" * 256)), customer(), "AOU42", REFERENCE,
                    ACCOUNTS)
    assert (found.code, found.params["field"], found.params["limit"]) == (
        "TEXT_TOO_LONG", "Description", 255)
    # " (1.125 × 800.00)" takes 17 of the 255: the host's text may have 238.
    suffix = " (1.125 × 800.00)"
    fits = invoice(row("r" * (255 - len(suffix)), "1.125", "800"))
    sent = invoice_payload(fits, customer(), "AOU42", REFERENCE, ACCOUNTS).body["Invoice"][
        "InvoiceRows"][0]["Description"]
    assert len(sent) == 255 and sent.endswith(suffix)
    found = problem(invoice_payload, invoice(row("r" * 239, "1.125", "800")), customer(),
                    "AOU42", REFERENCE, ACCOUNTS)
    assert (found.code, found.params["limit"]) == ("TEXT_TOO_LONG", 238)


def test_the_customer_body() -> None:
    body = customer_payload(customer(), "AOU42", "AOU:c0ffee")
    assert body == {"Customer": {
        "CustomerNumber": "AOU42", "Name": "Fjällbacka Rör AB",
        "OrganisationNumber": "559087-6545", "Email": "faktura@fjallbackaror.se",
        "Address1": "Hamngatan 1", "ZipCode": "457 40", "City": "Fjällbacka",
        "CountryCode": "SE", "VATNumber": "", "VATType": "SEVAT", "Type": "COMPANY",
        "ExternalReference": "AOU:c0ffee",
    }}
    person = customer(name="Eva Ek", organisation_number=None, email=None, address=None,
                      zip_code=None, city=None, country_code="no", is_company=False)
    assert customer_payload(person, "AOU43", "AOU:beef")["Customer"] == {
        "CustomerNumber": "AOU43", "Name": "Eva Ek", "OrganisationNumber": "", "Email": "",
        "Address1": "", "ZipCode": "", "City": "", "CountryCode": "NO", "VATNumber": "",
        "VATType": "SEVAT", "Type": "PRIVATE", "ExternalReference": "AOU:beef",
    }


def test_the_organisation_number_goes_as_the_host_wrote_it() -> None:
    body = customer_payload(customer(organisation_number="5590876545"), "AOU42", "r")
    assert body["Customer"]["OrganisationNumber"] == "5590876545"


@pytest.mark.parametrize("code", ["SWE", "XK", "S", "S1"])
def test_a_country_code_must_be_iso_3166_alpha_2(code: str) -> None:
    found = problem(customer_payload, customer(country_code=code), "AOU42", "r")
    assert (found.code, found.params) == (
        "COUNTRY_CODE_INVALID", {"country_code": code, "name": "Fjällbacka Rör AB"})


def test_the_postcode_keeps_10_characters() -> None:
    assert customer_payload(customer(zip_code="1" * 10), "AOU42", "r")
    found = problem(customer_payload, customer(zip_code="12345678901"), "AOU42", "r")
    assert (found.code, found.params) == ("TEXT_TOO_LONG", {
        "field": "ZipCode", "label": "Postcode", "limit": 10, "start": "12345678901"})


def test_a_customer_needs_a_name_and_a_vat_type_we_know() -> None:
    assert problem(customer_payload, customer(name="  "), "AOU42", "r").code == (
        "CUSTOMER_NAME_MISSING")
    for call, args in ((customer_payload, (customer(vat_type="EUVAT"), "AOU42", "r")),
                       (account_keys, (invoice(), customer(vat_type="sevat")))):
        found = problem(call, *args)
        assert found.code == "VAT_TYPE_UNSUPPORTED"


def test_the_customer_hash_is_stable_and_sees_every_change() -> None:
    body = customer_payload(customer(), "AOU42", "r")
    same = {"Customer": dict(reversed(list(body["Customer"].items())))}
    assert body_hash(body) == body_hash(same)
    assert len(body_hash(body)) == 64
    moved = customer_payload(customer(city="Göteborg"), "AOU42", "r")
    assert body_hash(moved) != body_hash(body)
    # The hash is of the canonical JSON, so it does not change between runs or machines.
    canonical = '{"Customer":{"City":"Å","Name":"Eva"}}'.encode()
    assert body_hash({"Customer": {"Name": "Eva", "City": "Å"}}) == (
        hashlib.sha256(canonical).hexdigest())


@pytest.mark.parametrize("code", ["TEXT_TOO_LONG", "COUNTRY_CODE_INVALID",
                                  "CUSTOMER_NAME_MISSING", "VAT_TYPE_UNSUPPORTED",
                                  "VAT_RATE_UNSUPPORTED", "INVOICE_EMPTY", "AMOUNT_TOO_LARGE"])
def test_every_new_sentence_renders_in_swedish_with_its_parameters(code: str) -> None:
    params = {"label": "Radtext", "start": "abc", "limit": 5, "country_code": "XX",
              "name": "Eva", "vat_type": "EUVAT", "rate": 7, "number": "1", "amount": "1"}
    swedish = translations("sv").gettext(TEXTS[code])
    assert swedish != TEXTS[code]
    assert "%(" not in swedish % params and "%(" not in TEXTS[code] % params
