"""Fortnox error bodies and the codes the sandbox answers with.

Casing depends on the status, as recorded from the real API (docs/fortnox.md, "Recorded answers"):
404 bodies say ``{"ErrorInformation": {"Error": 1, "Message": ..., "Code": ...}}``, every other
error ``{"ErrorInformation": {"error": 1, "message": ..., "code": ...}}``. Messages are Swedish,
codes integers.

Codes seen in real Fortnox answers (docs/fortnox.md, "Errors" and "Recorded answers"):

==========  ==========================================================
2000423     account not found ("Kan inte hitta kontot.")
2000427     currency not found (the sandbox only knows SEK)
2000428     article not found (the sandbox has no articles)
2000429     terms of payment not found
2000433     customer not found (404 on GET; 400 when an invoice names one)
2000434     invoice not found
2000550     account not active
2000587     invalid filter / unknown query parameter
2000637     customer number already used (also after a delete: reserved forever)
2000663     token lacks the scope for this resource
2001103     company has no API licence (a company locked via the admin API)
2001392     body missing its envelope ("Ingen eller felaktig typ av data.")
2001399     unknown field name ("Felaktigt fältnamn (x)")
2001403     predefined account not found
2002115     JSON syntax error
2002381     wrong data structure (VoucherRows sent as an object)
==========  ==========================================================

**Sandbox choices** for cases whose real code nobody has recorded (docs/sandbox.md;
clients must not branch on them, docs/fortnox.md "Errors"):

==========  ==========================================================
2000108     a number was expected
2000134     a boolean was expected
2000359     invalid characters (CustomerNumber)
2000588     invalid query parameter value (page, limit > 500, dates, sortby)
2000590     invalid date in a body
2000591     invalid enumeration value (Type, VATType, DiscountType, CountryCode...)
2000592     invalid e-mail address / organisation number format
2000711     voucher does not balance (debit != credit, to the öre)
2000712     voucher has fewer than two rows
2000720     no financial year covers the date
2000721     the date lies outside the financial year given in ``financialyear``
2000722     unknown financial year Id in ``financialyear`` (400)
2000723     financial years would overlap (admin create)
2000755     invoice row VAT is not 25, 12, 6 or 0
2000764     invoice is booked: it cannot be changed
2000765     invoice is already booked
2000766     invoice is cancelled
2000773     date falls in the locked period
2000774     a text is longer than Fortnox's published limit for the field (docs/sandbox.md)
2000838     voucher series does not exist
2000839     voucher series is not manual (B "Kundfakturor"): API vouchers refused
2001795     a required field is missing
2000557     (404) financial year not found
2000558     (404) voucher not found
2000559     (404) voucher series not found
2000560     (404) resource not found (unknown /3/ path)
1000003     (500) system exception, used by injected faults
==========  ==========================================================
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response

ACCOUNT_NOT_FOUND = 2000423
CURRENCY_NOT_FOUND = 2000427
ARTICLE_NOT_FOUND = 2000428
TERMS_OF_PAYMENT_NOT_FOUND = 2000429
CUSTOMER_NOT_FOUND = 2000433
INVOICE_NOT_FOUND = 2000434
ACCOUNT_INACTIVE = 2000550
INVALID_FILTER = 2000587
CUSTOMER_NUMBER_USED = 2000637
SCOPE_MISSING = 2000663
NO_API_LICENSE = 2001103
NO_DATA = 2001392
INVALID_FIELD = 2001399
PREDEFINED_NOT_FOUND = 2001403
JSON_SYNTAX = 2002115
WRONG_STRUCTURE = 2002381

# Sandbox choices (see the module docstring).
NOT_A_NUMBER = 2000108
NOT_A_BOOLEAN = 2000134
INVALID_CHARACTERS = 2000359
INVALID_PARAMETER = 2000588
INVALID_DATE = 2000590
INVALID_VALUE = 2000591
INVALID_FORMAT = 2000592
VOUCHER_UNBALANCED = 2000711
VOUCHER_TOO_FEW_ROWS = 2000712
NO_FINANCIAL_YEAR = 2000720
DATE_OUTSIDE_YEAR = 2000721
UNKNOWN_FINANCIAL_YEAR = 2000722
YEAR_OVERLAP = 2000723
INVALID_VAT = 2000755
INVOICE_BOOKED = 2000764
INVOICE_ALREADY_BOOKED = 2000765
INVOICE_CANCELLED = 2000766
PERIOD_LOCKED = 2000773
FIELD_TOO_LONG = 2000774
SERIES_NOT_FOUND = 2000838
SERIES_NOT_MANUAL = 2000839
MISSING_FIELD = 2001795
FINANCIAL_YEAR_NOT_FOUND = 2000557
VOUCHER_NOT_FOUND = 2000558
VOUCHER_SERIES_NOT_FOUND = 2000559
RESOURCE_NOT_FOUND = 2000560
SYSTEM_EXCEPTION = 1000003


class ApiError(Exception):
    """An answer in Fortnox's ErrorInformation shape; raised anywhere below a view."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """The ErrorInformation body, with a 404's keys capitalised as Fortnox writes them."""
        return error_body(self.status, self.code, self.message)


def bad_request(code: int, message: str) -> ApiError:
    """A 400 in ErrorInformation: Fortnox's answer to bad input, and often to a missing scope."""
    return ApiError(400, code, message)


def no_data(field: str | None = None) -> ApiError:
    """2001392: no body, or a value of the wrong type (``field`` names it)."""
    detail = f" ({field})" if field else ""
    return bad_request(NO_DATA, f"Ingen eller felaktig typ av data{detail}.")


def missing_field(field: str) -> ApiError:
    """2001795: a required field is missing; the Swedish message names it."""
    return bad_request(MISSING_FIELD, f"Obligatoriskt fält saknas: {field}.")


def too_long(field: str, limit: int) -> ApiError:
    """A text over its published length: Fortnox refuses it, never cuts it (400, our code)."""
    return bad_request(FIELD_TOO_LONG, f"Fältet {field} får innehålla högst {limit} tecken.")


def not_found(code: int, message: str) -> ApiError:
    """A 404, whose body Fortnox writes with capitalised keys (``Error``, ``Message``, ``Code``)."""
    return ApiError(404, code, message)


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """404s capitalise the keys, everything else is lower case (recorded behaviour)."""
    if status == 404:
        return {"ErrorInformation": {"Error": 1, "Message": message, "Code": code}}
    return {"ErrorInformation": {"error": 1, "message": message, "code": code}}


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Compact JSON like Fortnox's, in insertion order, with Swedish letters unescaped."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def unauthorized() -> Response:
    """A bad, expired or revoked bearer token: exactly this, no ErrorInformation."""
    return json_response({"message": "unauthorized"}, 401)


def token_error(error: str, description: str, status: int = 400) -> Response:
    """Token-endpoint errors are JSON served as text: Fortnox's Content-Type lies (2.6)."""
    body = json.dumps({"error": error, "error_description": description}, separators=(",", ":"))
    mimetype = "text/plain" if error == "invalid_client" else "text/html"
    return Response(body, status=status, mimetype=mimetype)


def html_error(status: int, title: str) -> Response:
    """What a proxy in front of Fortnox answers during an outage: HTML, not JSON."""
    body = (
        f"<html><head><title>{status} {title}</title></head><body>"
        f"<center><h1>{status} {title}</h1></center><hr><center>nginx</center>"
        "</body></html>"
    )
    return Response(body, status=status, mimetype="text/html")
