"""What a text field may hold, from Fortnox's published API: lengths, and ISO country codes.

Fortnox refuses a value over its field's length with a 400 in its error envelope; which code
it uses is not known, so the sandbox answers with its own, 2000774 (docs/sandbox.md). The
plugin must never branch on that code: it keeps within these limits before it sends.

Checked on the values as stored (after numbers became text), on create and on update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import errors
from .countries import ISO_3166_ALPHA2

INVOICE = {
    "ExternalInvoiceReference1": 80,
    "ExternalInvoiceReference2": 80,
    "YourReference": 50,
    "OurReference": 50,
}
INVOICE_ROW = {"Description": 255}
CUSTOMER = {"ZipCode": 10}
VOUCHER = {"Description": 200}
VOUCHER_ROW = {"TransactionInformation": 100}


def check_lengths(values: Mapping[str, Any], limits: Mapping[str, int]) -> None:
    """Refuse the first text in ``values`` longer than its limit (characters, not bytes)."""
    for name, limit in limits.items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise errors.too_long(name, limit)


def check_country_code(value: str | None) -> None:
    """Empty clears the field; anything else must be an ISO 3166-1 alpha-2 code (``SE``)."""
    if value and value not in ISO_3166_ALPHA2:
        raise errors.bad_request(errors.INVALID_VALUE, f"Ogiltig landskod (CountryCode): {value}.")
