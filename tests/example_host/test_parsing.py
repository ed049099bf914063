"""What people type: numbers in Swedish and English, organisation numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from example_host.parsing import luhn_check_digit, normalise_org_number, parse_decimal
from example_host.seed import COMPANIES, CUSTOMERS, org_number


@pytest.mark.parametrize(("raw", "expected"), [
    ("1 234,50", "1234.50"), ("1234.50", "1234.50"), ("1,234.50", "1234.50"),
    ("1.234,50", "1234.50"), ("1\u00a0234,5", "1234.5"), ("0,05", "0.05"), ("42", "42"),
    ("-3,00", "-3.00"),
])
def test_numbers(raw: str, expected: str) -> None:
    value = parse_decimal(raw)
    assert value == Decimal(expected) and str(value) == expected


@pytest.mark.parametrize("raw", ["", "abc", "NaN", "Infinity", "1e5", "12,34,56", "1.2.3",
                                 "0,001", "--1"])
def test_not_numbers(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(raw)


def test_org_numbers() -> None:
    assert normalise_org_number("5566778899") == "556677-8899"
    assert normalise_org_number(" 556677-8899 ") == "556677-8899"
    for bad in ("556677-889", "55667788999", "5566-778899", "abcdef-ghij"):
        with pytest.raises(ValueError):
            normalise_org_number(bad)


def test_demo_org_numbers_carry_a_valid_check_digit() -> None:
    assert luhn_check_digit("556012579") == 0  # AB Volvo, 556012-5790
    nines = [nine for _, _, nine in COMPANIES]
    nines += [c.org9 for cs in CUSTOMERS.values() for c in cs if c.org9]
    for nine in nines:
        number = org_number(nine)
        assert number[-1] == str(luhn_check_digit(nine)) and len(number) == 11
