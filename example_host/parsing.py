"""Parsing what people type: Swedish and English numbers, dates, organisation numbers."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

_SPACES = re.compile(r"[\s\u00a0\u202f']")  # spaces, NBSP, narrow NBSP, Swiss apostrophe
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_ORG_NUMBER = re.compile(r"^(\d{6})-?(\d{4})$")


class InputError(ValueError):
    """A message template (English, the i18n key) and its values, so views can translate."""

    def __init__(self, template: str, **values: object) -> None:
        super().__init__(template.format(**values))
        self.template = template
        self.values = values


def today() -> date:
    """Today's date in Stockholm (the server may run in UTC: after 23:00 UTC it differs)."""
    return datetime.now(STOCKHOLM).date()


def parse_decimal(raw: str, max_places: int = 2) -> Decimal:
    """``"1 234,50"``, ``"1234.50"``, ``"1,234.50"`` -> ``Decimal("1234.50")``.

    Raises ValueError with a message a person can act on. Never goes through float, and
    refuses NaN, infinities and exponents, which ``Decimal()`` would happily accept.
    """
    text = _SPACES.sub("", raw or "")
    if not text:
        raise InputError("Enter a number.")
    if "," in text and "." in text:
        # Both separators: the last one is the decimal mark, the other groups thousands.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    if not _PLAIN_NUMBER.match(text):
        raise InputError("“{value}” is not a number (write 1 234,50 or 1234.50).",
                         value=raw.strip())
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already ruled this out
        raise InputError("“{value}” is not a number (write 1 234,50 or 1234.50).",
                         value=raw.strip()) from None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        raise InputError("Use at most {places} decimals.", places=max_places)
    return value


def parse_date(raw: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValueError("Enter a date as YYYY-MM-DD.") from None


def normalise_org_number(raw: str) -> str:
    """``5566778899`` or ``556677-8899`` -> ``556677-8899``; ValueError otherwise."""
    match = _ORG_NUMBER.match((raw or "").strip())
    if not match:
        raise ValueError("Organisation number must look like NNNNNN-NNNN (e.g. 556677-8899).")
    return f"{match.group(1)}-{match.group(2)}"


def luhn_check_digit(nine_digits: str) -> int:
    """The tenth digit of a Swedish organisation number (Luhn / mod 10)."""
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10
