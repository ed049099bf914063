"""``/3/companyinformation``, ``/3/customers``, ``/3/invoices`` and the settings/profile reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request

from . import errors, ledger, listing
from .api_common import base_url, bp, ok, read_envelope, requires, tenant
from .customers import (
    create_customer,
    customer_full,
    customer_item,
    delete_customer,
    get_customer,
    update_customer,
)
from .invoices import (
    bookkeep_invoice,
    cancel_invoice,
    create_invoice,
    get_invoice,
    invoice_full,
    invoice_item,
    update_invoice,
)

#: Each a contains-match on the text as stored, ``organisationnumber`` too: ``5566778899``
#: does not find ``556677-8899`` (as at Fortnox; docs/sandbox.md).
CUSTOMER_SEARCHES = {
    "customernumber": "CustomerNumber", "name": "Name", "email": "Email", "city": "City",
    "zipcode": "ZipCode", "phone": "Phone1", "gln": "GLN", "glndelivery": "GLNDelivery",
    "organisationnumber": "OrganisationNumber",
}  # fmt: skip
INVOICE_SEARCHES = {
    "customernumber": "CustomerNumber", "customername": "CustomerName",
    "documentnumber": "DocumentNumber", "ocr": "OCR", "ourreference": "OurReference",
    "yourreference": "YourReference", "externalinvoicereference1": "ExternalInvoiceReference1",
    "externalinvoicereference2": "ExternalInvoiceReference2", "project": "Project",
    "costcenter": "CostCenter", "currency": "Currency",
}  # fmt: skip


@bp.get("/companyinformation")
@requires("companyinformation")
def company_information() -> Response:
    """``GET /3/companyinformation``: which company (``DatabaseNumber``) a token answers for."""
    store, db = tenant()
    return ok({"CompanyInformation": store.company(db)})


@bp.get("/settings/company")
@requires("settings")
def company_settings() -> Response:
    """``GET /3/settings/company`` (``settings`` scope): here ``DatabaseNumber`` is a string."""
    store, db = tenant()
    info, settings = store.company(db) or {}, store.company_settings(db)
    return ok(
        {
            "CompanySettings": {
                "Address": info["Address"],
                "BG": settings.get("BG", ""),
                "BIC": "",
                "City": info["City"],
                "CountryCode": info["CountryCode"],
                "DatabaseNumber": str(db),
                "Email": settings.get("Email", ""),
                "IBAN": "",
                "Name": info["CompanyName"],
                "OrganizationNumber": info["OrganizationNumber"],
                "PG": settings.get("PG", ""),
                "Phone1": settings.get("Phone1", ""),
                "TaxEnabled": True,
                "VATNumber": settings.get("VATNumber", ""),
                "ZipCode": info["ZipCode"],
            }  # fmt: skip
        }
    )


@bp.get("/me")
@requires("profile")
def me() -> Response:
    """``GET /3/me`` (``profile`` scope): the user behind the token, always one sandbox admin."""
    store, db = tenant()
    settings = store.company_settings(db)
    return ok({"MeInformation": {"Email": settings.get("Email", ""), "Id": "1",
                                 "Locale": "sv_SE", "Name": "Sandbox Användare",
                                 "SysAdmin": True}})  # fmt: skip


# -- customers ------------------------------------------------------------------------------------


@bp.get("/customers")
@requires("customer")
def customers_list() -> Response:
    """``GET /3/customers``: substring searches on the stored text; ``filter`` active/inactive."""
    store, db = tenant()
    args = request.args
    listing.check_params(args, {*CUSTOMER_SEARCHES, "filter"})
    items = [record.data for record in listing.modified_since(store.records(db, "customer"), args)]
    wanted = args.get("filter")
    if wanted:
        if wanted not in {"active", "inactive"}:
            raise errors.bad_request(errors.INVALID_FILTER, "Ett ogiltigt filter har använts.")
        items = [item for item in items if item["Active"] == (wanted == "active")]
    items = listing.apply_searches(items, args, CUSTOMER_SEARCHES)
    base = base_url()
    return ok(listing.list_response("Customers", items, args, lambda c: customer_item(c, base)))


@bp.get("/customers/<path:number>")
@requires("customer")
def customers_get(number: str) -> Response:
    """``GET /3/customers/<n>``: a number may contain ``/``; a deleted customer is 404 (2000433)."""
    store, db = tenant()
    return ok({"Customer": customer_full(get_customer(store, db, number), base_url())})


@bp.post("/customers")
@requires("customer")
def customers_create() -> Response:
    """``POST /3/customers``: a number ever used is 2000637, even after its customer was deleted."""
    store, db = tenant()
    customer = create_customer(store, db, read_envelope("Customer"))
    return ok({"Customer": customer_full(customer, base_url())}, 201, "customers")


@bp.put("/customers/<path:number>")
@requires("customer")
def customers_update(number: str) -> Response:
    """``PUT /3/customers/<n>``: a partial update; ``CustomerNumber`` cannot change."""
    store, db = tenant()
    customer = update_customer(store, db, number, read_envelope("Customer"))
    return ok({"Customer": customer_full(customer, base_url())})


@bp.delete("/customers/<path:number>")
@requires("customer")
def customers_delete(number: str) -> Response:
    """``DELETE /3/customers/<n>``: 204, and the number stays reserved for good."""
    store, db = tenant()
    delete_customer(store, db, number)
    return Response(status=204)


# -- invoices -------------------------------------------------------------------------------------


@bp.get("/invoices")
@requires("invoice")
def invoices_list() -> Response:
    """``GET /3/invoices``: subset items, ``CurrencyRate`` a string; searches, dates, ``filter``."""
    store, db = tenant()
    args = request.args
    listing.check_params(args, {*INVOICE_SEARCHES, "filter", "fromdate", "todate", "financialyear"})
    items = [record.data for record in listing.modified_since(store.records(db, "invoice"), args)]
    items = listing.apply_searches(items, args, INVOICE_SEARCHES)
    items = listing.date_range(items, args, "InvoiceDate")
    if args.get("financialyear"):
        year = ledger.resolve_year(store, db, {"financialyear": args["financialyear"]})
        items = [i for i in items if year["FromDate"] <= i["InvoiceDate"] <= year["ToDate"]]
    if args.get("filter"):
        items = _invoice_filter(items, args["filter"])
    base = base_url()
    return ok(listing.list_response("Invoices", items, args, lambda i: invoice_item(i, base)))


def _invoice_filter(items: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    today = ledger.today().isoformat()
    rules: dict[str, Callable[[dict[str, Any]], bool]] = {
        "cancelled": lambda i: i["Cancelled"],
        "fullypaid": lambda i: not i["Cancelled"] and i["Balance"] == 0 and i["Total"] != 0,
        "unpaid": lambda i: not i["Cancelled"] and i["Balance"] != 0,
        "unpaidoverdue": lambda i: (
            not i["Cancelled"] and i["Balance"] != 0 and i["DueDate"] < today
        ),
        "unbooked": lambda i: not i["Cancelled"] and not i["Booked"],
    }
    if name not in rules:
        raise errors.bad_request(errors.INVALID_FILTER, "Ett ogiltigt filter har använts.")
    return [item for item in items if rules[name](item)]


@bp.get("/invoices/<number>")
@requires("invoice")
def invoices_get(number: str) -> Response:
    """``GET /3/invoices/<n>``: rows and totals, ``CurrencyRate`` a number (a string in lists)."""
    store, db = tenant()
    return ok({"Invoice": invoice_full(get_invoice(store, db, number), base_url())})


@bp.post("/invoices")
@requires("invoice")
def invoices_create() -> Response:
    """``POST /3/invoices``: needs an existing customer; Fortnox fills in VAT, totals and OCR."""
    store, db = tenant()
    invoice = create_invoice(store, db, read_envelope("Invoice"))
    return ok({"Invoice": invoice_full(invoice, base_url())}, 201, "invoices")


@bp.put("/invoices/<number>")
@requires("invoice")
def invoices_update(number: str) -> Response:
    """``PUT /3/invoices/<n>``: only while unbooked (2000764); the totals are recomputed."""
    store, db = tenant()
    invoice = update_invoice(store, db, number, read_envelope("Invoice"))
    return ok({"Invoice": invoice_full(invoice, base_url())})


@bp.put("/invoices/<number>/bookkeep")
@requires("invoice")
def invoices_bookkeep(number: str) -> Response:
    """``PUT /3/invoices/<n>/bookkeep``: books a series B voucher; the invoice is then frozen."""
    store, db = tenant()
    return ok({"Invoice": invoice_full(bookkeep_invoice(store, db, number), base_url())})


@bp.put("/invoices/<number>/cancel")
@requires("invoice")
def invoices_cancel(number: str) -> Response:
    """``PUT /3/invoices/<n>/cancel``: unbooked invoices only; the balance drops to 0."""
    store, db = tenant()
    return ok({"Invoice": invoice_full(cancel_invoice(store, db, number), base_url())})


@bp.put("/invoices/<number>/externalprint")
@requires("invoice")
def invoices_externalprint(number: str) -> Response:
    """Mark as sent without sending (docs/fortnox.md, "Invoices")."""
    store, db = tenant()
    with store.transaction():
        invoice = get_invoice(store, db, number)
        invoice["Sent"] = True
        store.put(db, "invoice", number, invoice, sort=f"{int(number):012d}")
    return ok({"Invoice": invoice_full(invoice, base_url())})
