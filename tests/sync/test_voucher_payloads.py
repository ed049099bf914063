"""The voucher payload: balanced to the öre, our marker at the end of a Description that fits
Fortnox's 200 characters, and refused before sending where Fortnox would refuse it. Pure
properties first, then the same bodies POSTed to the sandbox."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aourly_fortnox.fortnox.client import FortnoxClient
from aourly_fortnox.fortnox.errors import ValidationFailed
from aourly_fortnox.host import VoucherData, VoucherRowData
from aourly_fortnox.i18n import translations
from aourly_fortnox.reasons import TEXTS
from aourly_fortnox.sync.payloads import (
    PayloadProblem,
    voucher_description,
    voucher_hash,
    voucher_payload,
)

D = Decimal
MARKER = "[AOU:ABCDEFGHIJKLMNOP]"


def voucher(*rows: VoucherRowData, text: str = "Payout to Pia Persson: Fotografering",
            day: date = date(2026, 3, 14)) -> VoucherData:
    return VoucherData(id="91", description=text, transaction_date=day, rows=rows)


def payout(amount: str = "4000.00") -> VoucherData:
    return voucher(VoucherRowData(debit=D(amount), account_key="performer_costs"),
                   VoucherRowData(credit=D(amount), account_key="bank"))


def problem(host: VoucherData, accounts: list[int] | None = None) -> PayloadProblem:
    with pytest.raises(PayloadProblem) as info:
        voucher_payload(host, "A", MARKER, accounts or [4600] * len(host.rows))
    return info.value


def test_a_payout_is_the_whole_body() -> None:
    payload = voucher_payload(payout("3250.75"), "A", MARKER, [4600, 1930])
    assert payload.body == {"Voucher": {
        "VoucherSeries": "A", "TransactionDate": "2026-03-14",
        "Description": f"Payout to Pia Persson: Fotografering {MARKER}",
        "VoucherRows": [{"Account": 4600, "Debit": 3250.75, "Credit": 0},
                        {"Account": 1930, "Debit": 0, "Credit": 3250.75}],
    }}
    assert payload.total == D("3250.75")
    assert json.loads(json.dumps(payload.body)) == payload.body  # plain JSON


def test_one_ore_off_is_refused_with_both_sums() -> None:
    off = voucher(VoucherRowData(debit=D("100.00"), account=4600),
                  VoucherRowData(credit=D("99.99"), account=1930))
    found = problem(off)
    assert found.code == "VOUCHER_UNBALANCED"
    assert (found.params["debit"], found.params["credit"]) == ("100.00", "99.99")


def test_amounts_are_rounded_to_the_ore_per_row_before_the_balance_is_checked() -> None:
    # Fortnox keeps each row to the öre: 0.005 + 0.005 become 0.01 + 0.01, not 0.01.
    halves = voucher(VoucherRowData(debit=D("0.005"), account=6570),
                     VoucherRowData(debit=D("0.005"), account=6570),
                     VoucherRowData(credit=D("0.01"), account=1930))
    assert problem(halves).params == {"debit": "0.02", "credit": "0.01",
                                      "description": "Payout to Pia Persso"}
    rounded = voucher(VoucherRowData(debit=D("10.004"), account=6570),
                      VoucherRowData(credit=D("10.00"), account=1930))
    rows = voucher_payload(rounded, "A", MARKER, [6570, 1930]).body["Voucher"]["VoucherRows"]
    assert rows[0]["Debit"] == 10


def test_fewer_than_two_rows_are_refused() -> None:
    assert problem(voucher(VoucherRowData(debit=D(0), account=1930))).code == \
        "VOUCHER_TOO_FEW_ROWS"
    assert problem(voucher()).code == "VOUCHER_TOO_FEW_ROWS"


def test_the_marker_always_fits_and_the_hosts_text_is_cut_before_it() -> None:
    long = "Ö" * 300
    text = voucher_description(long, MARKER)
    assert len(text) == 200 and text.endswith(" " + MARKER)
    assert text == "Ö" * (200 - len(MARKER) - 1) + " " + MARKER
    assert voucher_description("", MARKER) == MARKER
    assert voucher_description("  två\nrader  ", MARKER) == f"två rader {MARKER}"


def test_a_row_text_keeps_fortnoxs_100_characters() -> None:
    ok = voucher(VoucherRowData(debit=D(1), account=6570, description="x" * 100),
                 VoucherRowData(credit=D(1), account=1930))
    body = voucher_payload(ok, "A", MARKER, [6570, 1930]).body["Voucher"]
    assert body["VoucherRows"][0]["TransactionInformation"] == "x" * 100
    assert "TransactionInformation" not in body["VoucherRows"][1]
    long = voucher(VoucherRowData(debit=D(1), account=6570, description="y" * 101),
                   VoucherRowData(credit=D(1), account=1930))
    found = problem(long)
    assert (found.code, found.params["limit"], found.params["field"]) == (
        "TEXT_TOO_LONG", 100, "TransactionInformation")


def test_an_amount_a_json_number_cannot_carry_exactly_is_refused() -> None:
    huge = "1234567890123456.78"
    assert problem(payout(huge), [4600, 1930]).code == "AMOUNT_TOO_LARGE"


def test_the_hash_sees_the_hosts_changes_and_nothing_else() -> None:
    same = voucher_hash(payout("4000.00"))
    assert voucher_hash(payout("4000")) == same  # one amount, however it is written
    assert voucher_hash(payout("4000.01")) != same
    assert voucher_hash(voucher(*payout().rows, text="Annan text")) != same
    assert voucher_hash(voucher(*payout().rows, day=date(2026, 3, 15))) != same
    other_key = voucher(VoucherRowData(debit=D(4000), account=4600), payout().rows[1])
    assert voucher_hash(other_key) != same


def test_one_account_per_row_is_the_callers_duty() -> None:
    with pytest.raises(ValueError):
        voucher_payload(payout(), "A", MARKER, [4600])


_ore = st.integers(0, 10**10).map(lambda n: D(n) / 100)
_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)


@st.composite
def balanced(draw: Any) -> VoucherData:
    """Any number of debits, and credits that add up to the same öre."""
    debits = draw(st.lists(_ore, min_size=1, max_size=5))
    total = sum(debits, D(0))
    cuts = sorted(draw(st.lists(st.integers(0, int(total * 100)), max_size=4)))
    bounds = [D(0), *[D(c) / 100 for c in cuts], total]
    credits = [high - low for low, high in zip(bounds, bounds[1:], strict=False)]
    rows = [VoucherRowData(debit=d, account=6570) for d in debits] + \
        [VoucherRowData(credit=c, account=1930) for c in credits]
    return voucher(*rows, text=draw(_texts))


@settings(max_examples=200, deadline=None, database=None)
@given(balanced())
@example(voucher(VoucherRowData(debit=D("0.1"), account=6570),
                 VoucherRowData(debit=D("0.2"), account=6570),
                 VoucherRowData(credit=D("0.3"), account=1930)))
def test_a_balanced_voucher_is_sent_balanced_with_the_marker_last(host: VoucherData) -> None:
    payload = voucher_payload(host, "A", MARKER, [r.account or 0 for r in host.rows])
    head = payload.body["Voucher"]
    debit = sum((D(str(r["Debit"])) for r in head["VoucherRows"]), D(0))
    credit = sum((D(str(r["Credit"])) for r in head["VoucherRows"]), D(0))
    assert debit == credit == payload.total
    assert len(head["Description"]) <= 200 and head["Description"].endswith(MARKER)
    kept = head["Description"][: -len(MARKER)].rstrip()
    assert " ".join(host.description.split()).startswith(kept)


@settings(max_examples=200, deadline=None, database=None)
@given(balanced(), st.integers(1, 10**6).map(lambda n: D(n) / 100))
def test_any_difference_of_an_ore_or_more_never_leaves(host: VoucherData, extra: Decimal) -> None:
    tipped = voucher(*host.rows, VoucherRowData(debit=extra, account=6570))
    assert problem(tipped).code == "VOUCHER_UNBALANCED"


@pytest.mark.parametrize("code", ["VOUCHER_UNBALANCED", "VOUCHER_TOO_FEW_ROWS",
                                  "VOUCHER_SERIES_INVALID", "VOUCHER_ROW_ACCOUNT",
                                  "VOUCHER_ACCOUNT_MISSING", "VOUCHER_ACCOUNT_INACTIVE",
                                  "VOUCHER_CHANGED"])
def test_every_voucher_sentence_renders_in_swedish_with_its_parameters(code: str) -> None:
    params = {"debit": "1.00", "credit": "0.99", "description": "abc", "series": "B",
              "number": "A12", "year": "2026-01-01 – 2026-12-31", "product": "Aourly"}
    swedish = translations("sv").gettext(TEXTS[code])
    assert swedish != TEXTS[code]
    assert "%(" not in swedish % params and "%(" not in TEXTS[code] % params


# -- the same bodies at the sandbox ------------------------------------------------------------
SANDBOX_EXAMPLES = 25


def test_what_we_send_the_sandbox_takes_and_what_we_refuse_it_refuses(
    client: FortnoxClient, this_year: date
) -> None:
    year_id = next(int(y["Id"]) for y in client.financial_years()
                   if str(y["FromDate"]) == this_year.isoformat())

    @settings(max_examples=SANDBOX_EXAMPLES, deadline=None, database=None)
    @given(balanced())
    def check(host: VoucherData) -> None:
        host = voucher(*host.rows, text=host.description, day=this_year)
        payload = voucher_payload(host, "A", MARKER, [r.account or 0 for r in host.rows])
        answer = client.create_voucher(payload.body["Voucher"], year_id)
        assert answer["Description"] == payload.body["Voucher"]["Description"]
        taken.append(answer)

    taken: list[dict[str, Any]] = []
    check()
    assert len(taken) >= SANDBOX_EXAMPLES
    off = {"VoucherSeries": "A", "TransactionDate": this_year.isoformat(),
           "Description": f"Off by one öre {MARKER}",
           "VoucherRows": [{"Account": 6570, "Debit": 100.01}, {"Account": 1930, "Credit": 100}]}
    with pytest.raises(ValidationFailed):
        client.create_voucher(off, year_id)
