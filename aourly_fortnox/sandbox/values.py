"""Reading request values the way Fortnox does, and writing amounts the way it answers.

Amounts are :class:`~decimal.Decimal` from the JSON parser on (``parse_float=Decimal``) to the
answer, where they become JSON numbers without a trailing ``.0`` (``Total: 219``,
``RoundOff: 0.25``, docs/fortnox.md). Rounding is half-up, like Fortnox (1.125 -> 1.13).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import errors

CENT = Decimal("0.01")
ONE = Decimal(1)
ZERO = Decimal(0)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def round2(value: Decimal) -> Decimal:
    """Half-up to the öre, as Fortnox rounds row prices and quantities (1.125 -> 1.13)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round0(value: Decimal) -> Decimal:
    """Half-up to whole kronor: an invoice's ``Total``, the difference going to ``RoundOff``."""
    return value.quantize(ONE, rounding=ROUND_HALF_UP)


def to_decimal(value: Any, field: str) -> Decimal:
    """A number from JSON (Decimal, int, numeric string); anything else is Fortnox's 400."""
    if isinstance(value, bool) or value is None:
        raise errors.bad_request(errors.NOT_A_NUMBER, f"Värdet måste vara numeriskt ({field}).")
    if isinstance(value, float):
        value = repr(value)  # avoid binary noise: 0.1 stays 0.1
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise errors.bad_request(
            errors.NOT_A_NUMBER, f"Värdet måste vara numeriskt ({field})."
        ) from None
    if not number.is_finite():
        raise errors.bad_request(errors.NOT_A_NUMBER, f"Värdet måste vara numeriskt ({field}).")
    return number


def to_int(value: Any, field: str) -> int:
    """A whole number (an account, a VAT rate); a fraction is refused like a non-number."""
    number = to_decimal(value, field)
    if number != number.to_integral_value():
        raise errors.bad_request(errors.NOT_A_NUMBER, f"Värdet måste vara ett heltal ({field}).")
    return int(number)


def to_bool(value: Any, field: str) -> bool:
    """Booleans; Fortnox also accepts the strings ``"true"``/``"false"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise errors.bad_request(errors.NOT_A_BOOLEAN, f"Värdet måste vara true eller false ({field}).")


def to_text(value: Any, field: str) -> str | None:
    """Strings; numbers are accepted and kept as their text (Fortnox is lenient here)."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise errors.no_data(field)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_date(value: Any, field: str) -> date:
    """``YYYY-MM-DD`` only."""
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise errors.bad_request(errors.INVALID_DATE, f"Felaktigt datum ({field}): {value!r}.")


def amount(value: Decimal) -> int | float:
    """A JSON number as Fortnox writes it: ``219`` not ``219.0``, ``0.25`` as is."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def quantity_text(value: Decimal) -> str:
    """Row ``DeliveredQuantity`` comes back as a string with two decimals (``"1.12"``)."""
    return format(round2(value), "f")


def decimal_of(value: Any) -> Decimal:
    """Read back an amount this sandbox stored (int, float or numeric string)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value if value not in (None, "") else 0))
