"""Lenient readers for Fortnox values.

Fortnox sends the same field as a number in one answer and a string in the next
(docs/fortnox.md, "Recorded answers": ``DeliveredQuantity`` ``"1.12"``, ``CurrencyRate``
``"1"`` vs ``1``, ``SalesAccount`` ``3001`` vs ``"3001"``, ``Credit`` ``"false"``), and empty
values as ``null`` or ``""``. These helpers accept every variant and turn "empty" into ``None``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def _clean(value: str) -> str:
    return value.strip().replace("\u00a0", "").replace(" ", "")


def to_decimal(value: Any) -> Decimal | None:
    """``"1.12"``, ``1.12``, ``Decimal("1.12")``, ``219`` -> Decimal; ``None``/``""`` -> None.

    Floats go through ``str`` so ``1.12`` becomes ``Decimal("1.12")``, not its binary expansion.
    Raises ValueError for anything else (booleans included: ``True`` is not an amount).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        text = _clean(value)
        if not text:
            return None
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
        if not result.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return result
    raise ValueError(f"not a number: {value!r}")


def to_int(value: Any) -> int | None:
    """``219``, ``"219"``, ``"219.0"``, ``Decimal(219)`` -> 219; ``None``/``""`` -> None.

    Raises ValueError for a fractional value rather than silently truncating it.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = to_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)


def to_bool(value: Any) -> bool | None:
    """``True``, ``"false"``, ``"True"``, ``1``, ``"0"`` -> bool; ``None``/``""`` -> None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"not a boolean: {value!r}")
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"not a boolean: {value!r}")


def to_str(value: Any) -> str | None:
    """Identifiers such as ``CustomerNumber``/``DocumentNumber``: ``1037`` or ``"1037"`` ->
    ``"1037"``; ``None``/``""`` -> None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = to_int(value) if value == value.to_integral_value() else value
    text = str(value).strip()
    return text or None
