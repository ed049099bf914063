"""Lenient readers for Fortnox's drifting types, and error-body parsing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aourly_fortnox.fortnox.errors import (
    FortnoxError,
    NotFound,
    OAuthError,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
    error_for_response,
    parse_error_body,
)
from aourly_fortnox.fortnox.parsing import to_bool, to_decimal, to_int, to_str


@pytest.mark.parametrize(("value", "expected"), [
    ("1.12", Decimal("1.12")), (1.12, Decimal("1.12")), (Decimal("1.12"), Decimal("1.12")),
    (219, Decimal(219)), ("219", Decimal(219)), (" 1 000.50 ", Decimal("1000.50")),
    ("", None), (None, None), ("  ", None), (0.25, Decimal("0.25")), ("-3", Decimal(-3)),
])
def test_to_decimal(value: Any, expected: Decimal | None) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value", [True, "abc", "NaN", "Infinity", [], {}])
def test_to_decimal_rejects(value: Any) -> None:
    with pytest.raises(ValueError):
        to_decimal(value)


@pytest.mark.parametrize(("value", "expected"), [
    (219, 219), ("219", 219), ("219.0", 219), (Decimal("7"), 7), (7.0, 7), ("", None),
    (None, None), ("1037", 1037),
])
def test_to_int(value: Any, expected: int | None) -> None:
    assert to_int(value) == expected


@pytest.mark.parametrize("value", ["1.5", 1.5, True, "x"])
def test_to_int_rejects(value: Any) -> None:
    with pytest.raises(ValueError):
        to_int(value)


@pytest.mark.parametrize(("value", "expected"), [
    ("false", False), ("False", False), ("true", True), (True, True), (0, False), (1, True),
    ("", None), (None, None),
])
def test_to_bool(value: Any, expected: bool | None) -> None:
    assert to_bool(value) is expected


def test_to_bool_rejects() -> None:
    with pytest.raises(ValueError):
        to_bool("maybe")


@pytest.mark.parametrize(("value", "expected"), [
    (1037, "1037"), ("1037", "1037"), (Decimal("3001"), "3001"), ("", None), (None, None),
    (Decimal("1.5"), "1.5"),
])
def test_to_str(value: Any, expected: str | None) -> None:
    assert to_str(value) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ('{"ErrorInformation":{"Error":1,"Message":"Kan inte hitta kunden.","Code":2000433}}',
     (2000433, "Kan inte hitta kunden.")),
    ('{"ErrorInformation":{"error":1,"message":"Felaktigt fältnamn (x)","code":"2001399"}}',
     (2001399, "Felaktigt fältnamn (x)")),
    ('{"errorinformation":{"ERROR":1,"MESSAGE":"m","CODE":2000423}}', (2000423, "m")),
    ('{"message":"unauthorized"}', (None, "unauthorized")),
    ('<html>Bad gateway</html>', (None, None)), ("", (None, None)), (None, (None, None)),
    ("[1,2]", (None, None)), (b'{"ErrorInformation":{"code":null}}', (None, None)),
])
def test_parse_error_body(body: str | bytes | None,
                          expected: tuple[int | None, str | None]) -> None:
    assert parse_error_body(body) == expected


def test_error_for_response_types() -> None:
    assert type(error_for_response(404, "")) is NotFound
    assert type(error_for_response(400, "")) is ValidationFailed
    assert type(error_for_response(403, "")) is PermissionDenied
    assert type(error_for_response(400, '{"ErrorInformation":{"code":2001103}}')) is (
        PermissionDenied)
    assert type(error_for_response(502, "")) is TransientError
    assert type(error_for_response(408, "")) is TransientError
    limited = error_for_response(429, "", retry_after=3.0)
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0


def test_reasons_are_plain_language() -> None:
    exc = error_for_response(400, '{"ErrorInformation":{"code":2004167,"message":"EasyVat"}}')
    assert "EasyVat" in exc.reason and exc.message == "EasyVat"
    unknown = error_for_response(400, '{"ErrorInformation":{"code":9999999,"message":"Hm"}}')
    assert unknown.reason == "Fortnox rejected the data that was sent."
    assert "9999999" in str(unknown) and "Hm" in str(unknown)
    assert str(FortnoxError("plain")) == "plain"
    assert "access_denied" in repr(OAuthError(error="access_denied"))
    assert OAuthError(error="access_denied").reason.startswith("Access was not granted")
    assert OAuthError(error="weird_new_error").reason  # unknown codes still explain something
