"""How a customer is recognised in Fortnox (sync/identity.py, sync/references.py): its
organisation or personal number in whatever form the host stored it, and the customer number
we create it under."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aourly_fortnox.sync.identity import normalise_org_number, search_fragment
from aourly_fortnox.sync.references import customer_number

ORG = "5560360793"  # a valid organisation number
PERSON = "8003200014"  # a valid personal number (born 1980-03-20)


@pytest.mark.parametrize("raw", [
    "556036-0793", "5560360793", " 556036 0793 ", "SE556036079301", "se556036079301",
    "SE 556036 0793 01",
])
def test_an_organisation_number_in_any_usual_form_is_its_ten_digits(raw: str) -> None:
    assert normalise_org_number(raw) == ORG


@pytest.mark.parametrize("raw", ["800320-0014", "19800320-0014", "198003200014"])
def test_a_personal_number_with_or_without_its_century_is_its_ten_digits(raw: str) -> None:
    assert normalise_org_number(raw) == PERSON


@pytest.mark.parametrize("raw", [None, "", "   ", "556036-0794", "800320-0015", "abc",
                                 "55603607", "SE556036079399"])
def test_an_empty_or_invalid_number_is_none_so_nothing_is_looked_up(raw: str | None) -> None:
    assert normalise_org_number(raw) is None


@given(st.sampled_from([ORG, PERSON]), st.sampled_from(["{}-{}", "{} {}", "{}{}", " {}-{} "]))
def test_the_form_never_changes_the_number(number: str, form: str) -> None:
    written = form.format(number[:6], number[6:])
    assert normalise_org_number(written) == number
    assert search_fragment(normalise_org_number(written) or "") == number[-4:]


def test_our_customer_number_keeps_only_ascii_letters_and_digits_in_capitals() -> None:
    """Fortnox's CustomerNumber takes letters and digits: a host id's dashes, slashes and
    Swedish letters are dropped, and the same host id always gives the same number."""
    assert customer_number("AOUC", "c-7/å_b") == "AOUCC7B"
    assert customer_number("AOUC", "c-7/å_b") == customer_number("AOUC", "C7B")
