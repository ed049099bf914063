"""Customers of the current company: list, create, edit (owners and coordinators)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import exists, select
from werkzeug.wrappers import Response

from ..extensions import db
from ..fortnox_setup import fortnox
from ..handover import commit_with_handover
from ..i18n import gettext
from ..models import Customer, Invoice, InvoiceStatus, VatType
from ..pagination import paginate
from ..parsing import normalise_org_number
from ..tenancy import MANAGERS, current_company_id, roles_required

bp = Blueprint("customers", __name__, url_prefix="/customers")

FIELDS = ("name", "organisation_number", "email", "address", "zip_code", "city",
          "country_code", "vat_type", "vat_number")
REQUIRED = {"name", "country_code", "vat_type"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def company_customer(customer_id: int) -> Customer:
    """The customer if it belongs to the current company; 404 otherwise (no leak)."""
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.company_id != current_company_id():
        abort(404)
    return customer


def validate(form: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Clean values and per-field error messages (translated)."""
    values = {name: (form.get(name) or "").strip() for name in FIELDS}
    values["country_code"] = (values["country_code"] or "SE").upper()
    values["vat_type"] = values["vat_type"] or VatType.SEVAT.value
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = gettext("Name is required.")
    elif len(values["name"]) > 255:
        errors["name"] = gettext("Name is too long (at most 255 characters).")
    if values["organisation_number"]:
        try:
            values["organisation_number"] = normalise_org_number(values["organisation_number"])
        except ValueError:
            errors["organisation_number"] = gettext(
                "Organisation number must look like NNNNNN-NNNN (e.g. 556677-8899)."
            )
    if values["email"] and not _EMAIL.match(values["email"]):
        errors["email"] = gettext("Enter a valid email address.")
    if not _COUNTRY.match(values["country_code"]):
        errors["country_code"] = gettext("Use a two-letter country code such as SE or DE.")
    if values["vat_type"] not in {v.value for v in VatType}:
        errors["vat_type"] = gettext("Choose a VAT type from the list.")
    elif values["vat_type"] == VatType.EUREVERSEDVAT and not values["vat_number"]:
        errors["vat_number"] = gettext("EU reverse charge needs the customer's VAT number.")
    for name, limit in (("email", 255), ("address", 255), ("zip_code", 16), ("city", 128),
                        ("vat_number", 32)):
        if len(values[name]) > limit and name not in errors:
            errors[name] = gettext("Too long (at most {limit} characters).", limit=limit)
    return values, errors


def _apply(customer: Customer, values: dict[str, str]) -> None:
    for name in FIELDS:
        value = values[name]
        # Optional fields are NULL when empty, not "", so the plugin sends nothing for them.
        setattr(customer, name, value if value or name in REQUIRED else None)


def _form(customer: Customer | None, values: dict[str, str], errors: dict[str, str],
          status: int = 200) -> tuple[str, int]:
    if errors:
        flash(gettext("Please correct the fields marked below."), "error")
    return render_template(
        "customers/form.html", customer=customer, values=values, errors=errors,
        vat_types=[v.value for v in VatType],
    ), status


@bp.get("/")
@roles_required(*MANAGERS)
def index() -> str:
    query = (
        select(Customer).where(Customer.company_id == current_company_id())
        .order_by(Customer.name, Customer.id)
    )
    return render_template("customers/list.html", page=paginate(query, request.args.get("page")))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new() -> Response | tuple[str, int]:
    if request.method == "GET":
        blank = {name: "" for name in FIELDS} | {"country_code": "SE", "vat_type": "SEVAT"}
        return _form(None, blank, {})
    values, errors = validate(request.form)
    if errors:
        return _form(None, values, errors, 400)
    customer = Customer(company_id=current_company_id())
    _apply(customer, values)
    db.session.add(customer)
    db.session.commit()
    flash(gettext("Customer saved."), "success")
    return redirect(url_for("customers.index"), code=303)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(customer_id: int) -> Response | tuple[str, int]:
    customer = company_customer(customer_id)
    if request.method == "GET":
        current = {name: getattr(customer, name) or "" for name in FIELDS}
        return _form(customer, current, {})
    values, errors = validate(request.form)
    if errors:
        return _form(customer, values, errors, 400)
    _apply(customer, values)
    # A customer that reached Fortnox (with a sent invoice) goes again with its new details,
    # in the same commit as the edit; one that never left Aourly goes later with its first
    # sent invoice (so creating a customer hands nothing over either).
    if _has_sent_invoice(customer):
        company_id, ident = customer.company_id, customer.id
        commit_with_handover(lambda: fortnox.sync_customer(company_id, ident),
                             f"customer {ident}")
    else:
        db.session.commit()
    flash(gettext("Customer saved."), "success")
    return redirect(url_for("customers.index"), code=303)


def _has_sent_invoice(customer: Customer) -> bool:
    return bool(db.session.execute(select(exists().where(
        Invoice.customer_id == customer.id, Invoice.status == InvoiceStatus.SENT
    ))).scalar())

