"""Customers: create, read, update, delete, with Fortnox's numbering rules.

``Name`` is the only required field; ``ZipCode`` holds at most 10 characters and
``CountryCode`` an ISO 3166-1 alpha-2 code (:mod:`field_limits`). A given ``CustomerNumber``
must never have been used in the company, not even by a deleted customer (2000637, kept
reserved forever, docs/sandbox.md); without one the next free number of the numeric series is
taken. Empty fields of a new customer are ``null``, and list items are shorter than the single
GET (with ``Phone`` where the single GET has ``Phone1``).
"""

from __future__ import annotations

import re
from typing import Any

from . import errors, field_limits
from .store import Store
from .values import amount, to_bool, to_decimal, to_text

_NULLS = (
    "Address1", "Address2", "City", "Comments", "CostCenter", "Country", "CountryCode",
    "DeliveryAddress1", "DeliveryAddress2", "DeliveryCity", "DeliveryCountry",
    "DeliveryCountryCode", "DeliveryFax", "DeliveryName", "DeliveryPhone1", "DeliveryPhone2",
    "DeliveryZipCode", "Email", "EmailInvoice", "EmailInvoiceBCC", "EmailInvoiceCC",
    "EmailOffer", "EmailOfferBCC", "EmailOfferCC", "EmailOrder", "EmailOrderBCC",
    "EmailOrderCC", "ExternalReference", "Fax", "GLN", "GLNDelivery", "InvoiceRemark",
    "OrganisationNumber", "OurReference", "Phone1", "Phone2", "Project", "SalesAccount",
    "TermsOfDelivery", "TermsOfPayment", "VATNumber", "VisitingAddress", "VisitingCity",
    "VisitingCountry", "VisitingCountryCode", "VisitingZipCode", "WWW", "WayOfDelivery",
    "YourReference", "ZipCode",
)  # fmt: skip
_NUMBERS = ("InvoiceAdministrationFee", "InvoiceDiscount", "InvoiceFreight")
_BOOLEANS = ("Active", "ShowPriceVATIncluded")
_OBJECTS = ("DefaultDeliveryTypes", "DefaultTemplates")
_ENUMS = {
    "Type": {"PRIVATE", "COMPANY"},
    "VATType": {"SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT"},
}
FIELDS = {"CustomerNumber", "Name", "Currency", "PriceList", *_NULLS, *_NUMBERS, *_BOOLEANS,
          *_OBJECTS, *_ENUMS}  # fmt: skip
LIST_FIELDS = (
    "@url", "Address1", "Address2", "City", "CustomerNumber", "Email", "Name",
    "OrganisationNumber", "Phone", "ZipCode",
)  # fmt: skip
_NUMBER_CHARS = re.compile(r"^[A-Za-z0-9+/_\-–]{1,50}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORG_NUMBER = re.compile(r"^(\d{6}|\d{8})[-+]?\d{4}$")


def blank_customer() -> dict[str, Any]:
    """A new customer as Fortnox fills it: empty fields ``null``, SEK, SEVAT, COMPANY."""
    customer: dict[str, Any] = dict.fromkeys(_NULLS)
    customer.update(
        {
            "Active": True,
            "Currency": "SEK",
            "CustomerNumber": "",
            "DefaultDeliveryTypes": {"Invoice": "PRINT", "Offer": "PRINT", "Order": "PRINT"},
            "DefaultTemplates": {
                "CashInvoice": "DEFAULTTEMPLATE",
                "Invoice": "DEFAULTTEMPLATE",
                "Offer": "DEFAULTTEMPLATE",
                "Order": "DEFAULTTEMPLATE",
            },  # fmt: skip
            "InvoiceAdministrationFee": None,
            "InvoiceDiscount": None,
            "InvoiceFreight": None,
            "Name": "",
            "PriceList": "A",
            "ShowPriceVATIncluded": False,
            "Type": "COMPANY",
            "VATType": "SEVAT",
        }
    )
    return dict(sorted(customer.items()))


def customer_full(customer: dict[str, Any], base: str) -> dict[str, Any]:
    """The single-GET shape: the stored customer plus its ``@url`` on this server."""
    return {"@url": f"{base}/3/customers/{customer['CustomerNumber']}", **customer}


def customer_item(customer: dict[str, Any], base: str) -> dict[str, Any]:
    """A list item: fewer fields than the single GET, and ``Phone`` for its ``Phone1``."""
    full = customer_full(customer, base)
    full["Phone"] = customer.get("Phone1")
    return {name: full.get(name) for name in LIST_FIELDS}


def get_customer(store: Store, db: int, number: str) -> dict[str, Any]:
    """A stored customer, or Fortnox's 404 2000433 (a deleted one too)."""
    found = store.get(db, "customer", number)
    if found is None:
        raise errors.not_found(errors.CUSTOMER_NOT_FOUND, "Kan inte hitta kunden.")
    return found


def _sort_key(number: str) -> str:
    """Numeric customer numbers sort as numbers, the others after them as text."""
    return f"0{int(number):020d}" if number.isdigit() else f"1{number}"


def _changes(payload: dict[str, Any]) -> dict[str, Any]:
    """Validate a request's fields into stored values (unknown names are 2001399)."""
    changes: dict[str, Any] = {}
    for name, value in payload.items():
        if name == "@url":
            continue  # a client echoing a GET back; Fortnox ignores read-only fields
        if name not in FIELDS:
            raise errors.bad_request(errors.INVALID_FIELD, f"Felaktigt fältnamn ({name})")
        if name in _BOOLEANS:
            changes[name] = to_bool(value, name)
        elif name in _NUMBERS:
            changes[name] = None if value is None else amount(to_decimal(value, name))
        elif name in _OBJECTS:
            if not isinstance(value, dict):
                raise errors.no_data(name)
            changes[name] = value
        elif name in _ENUMS:
            if value not in _ENUMS[name]:
                raise errors.bad_request(errors.INVALID_VALUE, f"Ogiltigt värde ({name}): {value}.")
            changes[name] = value
        else:
            changes[name] = to_text(value, name)
    field_limits.check_lengths(changes, field_limits.CUSTOMER)
    if "CountryCode" in changes:
        field_limits.check_country_code(changes["CountryCode"])
    email = changes.get("Email")
    if email and not _EMAIL.match(email):
        raise errors.bad_request(errors.INVALID_FORMAT, f"Felaktig e-postadress ({email}).")
    org = changes.get("OrganisationNumber")
    if org and not _ORG_NUMBER.match(org.replace(" ", "")):
        raise errors.bad_request(errors.INVALID_FORMAT, f"Felaktigt organisationsnummer ({org}).")
    if "Name" in changes and not changes["Name"]:
        raise errors.missing_field("Name")
    return changes


def create_customer(store: Store, db: int, payload: Any) -> dict[str, Any]:
    """Create; the answer echoes ``SalesAccount`` as sent (a later GET has it as a string)."""
    if not isinstance(payload, dict):
        raise errors.no_data()
    changes = _changes(payload)
    if not changes.get("Name"):
        raise errors.missing_field("Name")
    with store.transaction():
        number = changes.get("CustomerNumber")
        if number:
            if not _NUMBER_CHARS.match(number):
                raise errors.bad_request(
                    errors.INVALID_CHARACTERS, f"Kundnumret innehåller ogiltiga tecken ({number})."
                )
            if not store.reserve_number(db, number):
                raise errors.bad_request(
                    errors.CUSTOMER_NUMBER_USED, f"Kundnummer {number} används redan."
                )
        else:
            number = str(store.next_value(db, "customer"))
            while not store.reserve_number(db, number):
                number = str(store.next_value(db, "customer"))
        customer = blank_customer()
        customer.update(changes)
        customer["CustomerNumber"] = number
        store.put(db, "customer", number, customer, sort=_sort_key(number))
    answer = dict(customer)
    if "SalesAccount" in payload:
        answer["SalesAccount"] = payload["SalesAccount"]
    return answer


def update_customer(store: Store, db: int, number: str, payload: Any) -> dict[str, Any]:
    """A partial update; the number itself cannot change."""
    if not isinstance(payload, dict):
        raise errors.no_data()
    changes = _changes(payload)
    changes.pop("CustomerNumber", None)
    with store.transaction():
        customer = get_customer(store, db, number)
        customer.update(changes)
        store.put(db, "customer", number, customer, sort=_sort_key(number))
        return customer


def delete_customer(store: Store, db: int, number: str) -> None:
    """Gone, but the number stays reserved forever (Fortnox 2000637)."""
    with store.transaction():
        get_customer(store, db, number)
        store.delete(db, "customer", number)
