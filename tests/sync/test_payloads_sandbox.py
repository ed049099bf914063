"""The payloads against the sandbox: every body is accepted as sent, and the totals the pure
function predicts are the ones the sandbox answers, to the öre (a property test).

Only ``aourly_fortnox.sandbox.testing`` runs the sandbox; its arithmetic is not imported, so
the prediction is checked against its answers over HTTP, not against its own code.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aourly_fortnox.fortnox.client import FortnoxClient, to_decimal
from aourly_fortnox.fortnox.errors import ValidationFailed
from aourly_fortnox.host import CustomerData, InvoiceRowData
from aourly_fortnox.sync.payloads import (
    COUNTRY_CODES,
    InvoicePayload,
    customer_payload,
    invoice_payload,
)

from .builders import ACCOUNTS, REFERENCE, customer, invoice, row

_numbers = itertools.count(1)


def new_customer(client: FortnoxClient, data: CustomerData) -> str:
    number = f"AOU{next(_numbers)}"
    client.create_customer(customer_payload(data, number, f"AOU:cust{number}"))
    return number


def post(client: FortnoxClient, payload: InvoicePayload) -> dict[str, Any]:
    """POST the body as the engine will; the answered totals must be the predicted ones."""
    answer = client.create_invoice(payload.body)
    got = {name: to_decimal(answer[name]) for name in ("Net", "TotalVAT", "RoundOff", "Total")}
    predicted = payload.totals
    assert got == {"Net": predicted.net, "TotalVAT": predicted.total_vat,
                   "RoundOff": predicted.round_off, "Total": predicted.total}
    return answer


def test_customer_bodies_are_stored_as_sent(client: FortnoxClient) -> None:
    people = [
        customer(),
        customer(name="Eva Ek", organisation_number=None, email=None, address=None,
                 zip_code="1234567890", city=None, country_code="se", is_company=False),
        customer(name="Berlin GmbH", organisation_number=None, country_code="DE",
                 vat_number="DE123456789", vat_type="EUREVERSEDVAT", zip_code="10115"),
    ]
    for person in people:
        number = new_customer(client, person)
        sent = customer_payload(person, number, f"AOU:cust{number}")["Customer"]
        stored = client.get_customer(number)
        assert {name: stored[name] or "" for name in sent} == sent


def test_invoice_texts_at_their_limits_are_accepted_and_one_more_is_not(
    client: FortnoxClient, this_year: date
) -> None:
    number = new_customer(client, customer())
    host = invoice(row("r" * 255), day=this_year, number="n" * 80, your_reference="å" * 50,
                   our_reference="ö" * 50)
    payload = invoice_payload(host, customer(), number, "AOU:" + "x" * 76, ACCOUNTS)
    stored = post(client, payload)
    assert stored["YourReference"] == "å" * 50 and len(stored["ExternalInvoiceReference1"]) == 80
    # Our pre-checks' limits are the sandbox's: one character more is refused there.
    fields = payload.body["Invoice"]
    for name in ("ExternalInvoiceReference1", "ExternalInvoiceReference2", "YourReference",
                 "OurReference"):
        with pytest.raises(ValidationFailed):
            client.create_invoice({"Invoice": {**fields, name: fields[name] + "x"}})
    rows = [{**fields["InvoiceRows"][0], "Description": "r" * 256}]
    with pytest.raises(ValidationFailed):
        client.create_invoice({"Invoice": {**fields, "InvoiceRows": rows}})


def test_the_customer_limits_are_the_sandboxs(client: FortnoxClient) -> None:
    body = customer_payload(customer(zip_code="12345678901"[:10]), "AOU-limit", "r")["Customer"]
    with pytest.raises(ValidationFailed):
        client.create_customer({**body, "ZipCode": "12345678901"})
    with pytest.raises(ValidationFailed):
        client.create_customer({**body, "CountryCode": "XK"})


def test_eu_export_and_own_keys_go_to_their_accounts(client: FortnoxClient,
                                                     this_year: date) -> None:
    rows = (row("Konsult", "2", "500", 25, account_key="consulting"), row("Bok", "1", "99", 6),
            row("Frakt", "1", "49.50", 25))
    for vat_type, account in (("EUREVERSEDVAT", 3108), ("EXPORT", 3105), ("SEVAT", None)):
        buyer = customer(vat_type=vat_type, country_code="SE" if account is None else "NO")
        number = new_customer(client, buyer)
        payload = invoice_payload(invoice(*rows, day=this_year), buyer, number, REFERENCE,
                                  ACCOUNTS)
        answer = post(client, payload)
        got = [(r["AccountNumber"], r["VAT"]) for r in answer["InvoiceRows"]]
        if account is None:
            assert got == [(3041, 25), (3003, 6), (3001, 25)]
        else:
            assert got == [(3041, 0), (account, 0), (account, 0)]


def test_the_quantity_trick_keeps_the_hosts_total(client: FortnoxClient, this_year: date) -> None:
    number = new_customer(client, customer())
    host = invoice(row("Konsulttimmar", "1.125", "800.00"), row("Skruv", "7", "0.125"),
                   day=this_year)
    answer = post(client, invoice_payload(host, customer(), number, REFERENCE, ACCOUNTS))
    # The host's own figures: 900.00 + 0.875 -> 0.88 = 900.88, VAT 225.22, 1126.10 -> 1126.
    assert to_decimal(answer["Net"]) == Decimal("900.88")
    assert to_decimal(answer["Total"]) == 1126
    assert [r["Description"] for r in answer["InvoiceRows"]] == [
        "Konsulttimmar (1.125 × 800.00)", "Skruv (7 × 0.125)"]


def test_our_country_codes_are_the_sandboxs() -> None:
    from aourly_fortnox.sandbox.countries import ISO_3166_ALPHA2

    assert COUNTRY_CODES == ISO_3166_ALPHA2


# -- the property ------------------------------------------------------------------------------

# Whole, 2 decimals (Fortnox's own rounding of quantity x price), 3 decimals (sent as 1 x total),
# and halves and quarters, which with an odd öre land exactly on a half öre (rounding ties).
_quantities = st.one_of(
    st.integers(0, 20).map(Decimal),
    st.sampled_from([Decimal(q) for q in ("0.5", "1.5", "2.5", "0.25", "0.75", "0.125")]),
    st.integers(0, 100_000).map(lambda n: Decimal(n) / 100),  # up to 1000.00
    st.integers(0, 1_000_000).map(lambda n: Decimal(n) / 1000),  # up to 1000.000
)
_prices = st.one_of(
    st.just(Decimal("0.01")),
    st.integers(1, 200).map(lambda n: Decimal(n) / 100),  # small: totals near a half krona
    st.integers(0, 4999).map(lambda n: Decimal(2 * n + 1) / 100),  # an odd öre
    st.integers(1, 100_000).map(lambda n: Decimal(n) / 100),  # up to 1000.00
    st.integers(1, 10**10).map(lambda n: Decimal(n) / 100),  # up to 100 000 000.00
    st.sampled_from([Decimal("99999999.99"), Decimal("12345678.95"), Decimal("0.05")]),
)
_rows = st.builds(
    lambda vat, quantity, price: InvoiceRowData("Rad", quantity, price, vat),
    st.sampled_from((25, 12, 6, 0)), _quantities, _prices,
)
EXAMPLES = 60


def test_predicted_totals_are_what_the_sandbox_answers(client: FortnoxClient,
                                                       this_year: date) -> None:
    buyer = customer()
    number = new_customer(client, buyer)

    @settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(st.lists(_rows, min_size=1, max_size=8))
    # Ties that random draws rarely hit: 0.40 + 0.10 VAT = 0.50 exactly (Total 1, RoundOff
    # 0.50); 0.5 x 0.01 = 0.005 (a row rounds up to 0.01); 0.02 x 25 % = 0.005 VAT.
    @example([InvoiceRowData("Rad", Decimal(1), Decimal("0.40"), 25)])
    @example([InvoiceRowData("Rad", Decimal("0.5"), Decimal("0.01"), 0)])
    @example([InvoiceRowData("Rad", Decimal(1), Decimal("0.02"), 25)])
    def check(rows: list[InvoiceRowData]) -> None:
        payload = invoice_payload(invoice(*rows, day=this_year), buyer, number, REFERENCE,
                                  ACCOUNTS)
        post(client, payload)  # asserts Net, TotalVAT, RoundOff and Total, exactly
        sent.append(payload)

    sent: list[InvoicePayload] = []
    check()
    assert len(sent) >= EXAMPLES  # every example reached the sandbox (more if one shrank)
