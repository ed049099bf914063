"""Swedish organisation numbers, normalised, so a customer already in Fortnox is linked
rather than created twice (docs/fortnox.md, "Search").

Hosts and Fortnox write the same number as ``556677-8899``, ``5566778899``, a personal number
with century (``19811218-9876``) or the VAT form ``SE556677889901``. Fortnox's search is a
substring match on the text as stored, so we search by the last four digits (which every form
contains) and compare the normalised numbers exactly on our side.
"""

from __future__ import annotations

from stdnum.se import orgnr, personnummer
from stdnum.se import vat as se_vat


def normalise_org_number(raw: str | None) -> str | None:
    """Ten digits for a valid Swedish organisation or personal number in any usual form;
    None for an empty or invalid one (no lookup is made then)."""
    if not raw:
        return None
    text = raw.strip().upper().replace(" ", "")
    if text.startswith("SE") and se_vat.is_valid(text):
        return se_vat.compact(text)[:10]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 12 and personnummer.is_valid(digits):
        return digits[2:]
    if len(digits) == 10 and (orgnr.is_valid(digits) or personnummer.is_valid(digits)):
        return digits
    return None


def search_fragment(normalised: str) -> str:
    """What to send to Fortnox's ``organisationnumber=`` search: the last four digits."""
    return normalised[-4:]
