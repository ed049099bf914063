"""Invoices of the current company: list, create (draft), view, send (hands it to Fortnox),
edit a sent one (hands it to Fortnox again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ..extensions import db
from ..fortnox_setup import fortnox
from ..handover import commit_with_handover
from ..i18n import format_amount_input, format_quantity, gettext
from ..models import VAT_RATES, Customer, Invoice, InvoiceRow, InvoiceStatus, VatType
from ..pagination import Page, paginate
from ..parsing import InputError, parse_date, parse_decimal, today
from ..sync_status import sync_states
from ..tenancy import MANAGERS, current_company_id, roles_required

bp = Blueprint("invoices", __name__, url_prefix="/invoices")

EMPTY_ROWS = 3
MAX_ROWS = 50
PAYMENT_TERMS_DAYS = 30


def company_invoice(invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.company_id != current_company_id():
        abort(404)
    return invoice


@bp.get("/")
@roles_required(*MANAGERS)
def index() -> str:
    company_id = current_company_id()
    assert company_id is not None
    query = (
        select(Invoice)
        .where(Invoice.company_id == company_id)
        .options(selectinload(Invoice.rows), selectinload(Invoice.customer))
        .order_by(Invoice.number.desc())
    )
    page: Page[Invoice] = paginate(query, request.args.get("page"))
    states = sync_states(company_id, "invoice", (i.id for i in page.items))
    return render_template("invoices/list.html", page=page, sync=states)


@bp.get("/<int:invoice_id>")
@roles_required(*MANAGERS)
def show(invoice_id: int) -> str:
    invoice = company_invoice(invoice_id)
    state = sync_states(invoice.company_id, "invoice", [invoice.id]).get(str(invoice.id))
    return render_template("invoices/detail.html", invoice=invoice, sync_state=state)


@bp.post("/<int:invoice_id>/send")
@roles_required(*MANAGERS)
def send(invoice_id: int) -> Response:
    invoice = company_invoice(invoice_id)
    target = url_for("invoices.show", invoice_id=invoice.id)
    if invoice.is_sent:
        flash(gettext("This invoice was already sent."), "warning")
        return redirect(target, code=303)
    if not invoice.rows:
        flash(gettext("An invoice needs at least one row before it can be sent."), "error")
        return redirect(target, code=303)
    invoice.status = InvoiceStatus.SENT
    invoice.sent_at = datetime.now(UTC)
    # Sent and handed over in one commit; if the plugin fails, sent is still sent.
    company_id, ident = invoice.company_id, invoice.id
    commit_with_handover(lambda: fortnox.sync_invoice(company_id, ident), f"invoice {ident}")
    flash(gettext("Invoice sent."), "success")
    return redirect(target, code=303)


# -- the new-invoice form -------------------------------------------------------------------
@dataclass
class RowInput:
    description: str = ""
    quantity: str = ""
    unit_price: str = ""
    vat_rate: str = "25"
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not (self.description or self.quantity or self.unit_price)


@dataclass
class InvoiceForm:
    customer_id: str = ""
    invoice_date: str = ""
    due_date: str = ""
    rows: list[RowInput] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls) -> InvoiceForm:
        day = today()
        return cls(
            invoice_date=day.isoformat(),
            due_date=(day + timedelta(days=PAYMENT_TERMS_DAYS)).isoformat(),
            rows=[RowInput() for _ in range(EMPTY_ROWS)],
        )

    @classmethod
    def from_invoice(cls, invoice: Invoice) -> InvoiceForm:
        """The stored invoice as the person would type it (no grouping: 1234.50, 1,5)."""
        return cls(
            customer_id=str(invoice.customer_id),
            invoice_date=invoice.invoice_date.isoformat(),
            due_date=invoice.due_date.isoformat(),
            rows=[RowInput(row.description, format_quantity(row.quantity),
                           format_amount_input(row.unit_price), str(row.vat_rate))
                  for row in invoice.rows],
        )

    @classmethod
    def from_request(cls, form: Any) -> InvoiceForm:
        columns = [form.getlist(f"row_{name}")
                   for name in ("description", "quantity", "unit_price", "vat_rate")]
        count = min(max((len(c) for c in columns), default=0), MAX_ROWS)

        def cell(col: list[str], i: int, default: str = "") -> str:
            return col[i].strip() if i < len(col) else default

        rows = [RowInput(cell(columns[0], i), cell(columns[1], i), cell(columns[2], i),
                         cell(columns[3], i, "25")) for i in range(count)]
        return cls(
            customer_id=(form.get("customer_id") or "").strip(),
            invoice_date=(form.get("invoice_date") or "").strip(),
            due_date=(form.get("due_date") or "").strip(),
            rows=rows,
        )

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(row.errors for row in self.rows)


@dataclass
class ParsedRow:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: int


def validate(form: InvoiceForm, company_id: str) -> tuple[Customer | None, list[ParsedRow]]:
    """Fill ``form.errors`` / row errors; return what parsed. Messages say what to type."""
    customer = None
    if form.customer_id.isdigit():
        customer = db.session.get(Customer, int(form.customer_id))
        if customer is not None and customer.company_id != company_id:
            customer = None  # another company's customer is as good as none
    if customer is None:
        form.errors["customer_id"] = gettext("Choose a customer.")
    dates = {}
    for name in ("invoice_date", "due_date"):
        try:
            dates[name] = parse_date(getattr(form, name))
        except ValueError:
            form.errors[name] = gettext("Enter a date as YYYY-MM-DD.")
    if len(dates) == 2 and dates["due_date"] < dates["invoice_date"]:
        form.errors["due_date"] = gettext("The due date cannot be before the invoice date.")

    parsed: list[ParsedRow] = []
    for row in form.rows:
        if row.blank:
            continue
        if not row.description:
            row.errors["description"] = gettext("Describe what the row is for.")
        quantity = unit_price = None
        try:
            quantity = parse_decimal(row.quantity, max_places=3)
            if quantity <= 0:
                row.errors["quantity"] = gettext("Quantity must be more than 0.")
        except InputError as exc:
            row.errors["quantity"] = (
                gettext(exc.template, **exc.values) if row.quantity
                else gettext("Enter a quantity.")
            )
        try:
            unit_price = parse_decimal(row.unit_price, max_places=2)
            if unit_price < 0:
                row.errors["unit_price"] = gettext("The unit price cannot be negative.")
        except InputError as exc:
            row.errors["unit_price"] = (
                gettext(exc.template, **exc.values) if row.unit_price
                else gettext("Enter a unit price.")
            )
        rate = int(row.vat_rate) if row.vat_rate.isdigit() else -1
        if rate not in VAT_RATES:
            row.errors["vat_rate"] = gettext("VAT must be 25, 12, 6 or 0 %.")
        elif customer is not None and customer.vat_type != VatType.SEVAT and rate != 0:
            row.errors["vat_rate"] = gettext(
                "EU reverse charge and export customers are invoiced without Swedish VAT (0 %)."
            )
        if not row.errors and quantity is not None and unit_price is not None:
            parsed.append(ParsedRow(row.description, quantity, unit_price, rate))
    if not parsed and not any(row.errors for row in form.rows):
        form.errors["rows"] = gettext("Add at least one row.")
    return customer, parsed


def _render_form(form: InvoiceForm, invoice: Invoice | None = None,
                 status: int = 200) -> tuple[str, int]:
    """The new-invoice form, or (with ``invoice``) the edit form of a sent invoice."""
    customers = db.session.scalars(
        select(Customer).where(Customer.company_id == current_company_id())
        .order_by(Customer.name)
    ).all()
    return render_template(
        "invoices/form.html", form=form, invoice=invoice, customers=customers,
        vat_rates=VAT_RATES,
    ), status


@dataclass
class ValidForm:
    form: InvoiceForm
    customer: Customer
    rows: list[ParsedRow]


def _posted_form(invoice: Invoice | None, invalid_status: int) -> ValidForm | tuple[str, int]:
    """Read and check the posted invoice form (new or edit).

    Returns the page to show again (one row more, or the marked errors with everything typed
    kept), or the valid form to save.
    """
    form = InvoiceForm.from_request(request.form)
    if request.form.get("action") == "add_row":
        # Works without JavaScript: the same form again, one empty row more.
        if len(form.rows) < MAX_ROWS:
            form.rows.append(RowInput())
        return _render_form(form, invoice)
    company_id = current_company_id()
    assert company_id is not None
    customer, rows = validate(form, company_id)
    if form.has_errors or customer is None:
        flash(gettext("Please correct the fields marked below."), "error")
        if len(form.rows) < EMPTY_ROWS:
            form.rows.extend(RowInput() for _ in range(EMPTY_ROWS - len(form.rows)))
        return _render_form(form, invoice, invalid_status)
    return ValidForm(form, customer, rows)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _render_form(InvoiceForm.blank())
    posted = _posted_form(None, 400)  # the new form has always answered 400; edit: 422
    if not isinstance(posted, ValidForm):
        return posted
    company_id = current_company_id()
    assert company_id is not None
    invoice = _create(company_id, posted.customer, posted.form, posted.rows)
    flash(gettext("Invoice created as a draft."), "success")
    return redirect(url_for("invoices.show", invoice_id=invoice.id), code=303)


@bp.route("/<int:invoice_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(invoice_id: int) -> Response | tuple[str, int]:
    """Correct a sent invoice; saved and handed to Fortnox again in one commit."""
    invoice = company_invoice(invoice_id)
    target = url_for("invoices.show", invoice_id=invoice.id)
    if not invoice.is_sent:
        flash(gettext("Only sent invoices can be edited here."), "warning")
        return redirect(target, code=303)
    if request.method == "GET":
        return _render_form(InvoiceForm.from_invoice(invoice), invoice)
    posted = _posted_form(invoice, 422)
    if not isinstance(posted, ValidForm):
        return posted
    _update(invoice, posted.customer, posted.form, posted.rows)
    company_id, ident = invoice.company_id, invoice.id
    commit_with_handover(lambda: fortnox.sync_invoice(company_id, ident), f"invoice {ident}")
    flash(gettext("Invoice saved."), "success")
    return redirect(target, code=303)


def _update(invoice: Invoice, customer: Customer, form: InvoiceForm,
            rows: list[ParsedRow]) -> None:
    """Apply the form; rows are updated in place by position, extra ones removed."""
    invoice.customer_id = customer.id
    invoice.invoice_date = parse_date(form.invoice_date)
    invoice.due_date = parse_date(form.due_date)
    kept = list(invoice.rows)
    for position, parsed in enumerate(rows):
        if position < len(kept):
            row = kept[position]
        else:
            row = InvoiceRow(position=position)
            invoice.rows.append(row)
        row.position = position
        row.description = parsed.description
        row.quantity = parsed.quantity
        row.unit_price = parsed.unit_price
        row.vat_rate = parsed.vat_rate
    for row in kept[len(rows):]:
        invoice.rows.remove(row)  # delete-orphan: the row is deleted


def _create(company_id: str, customer: Customer, form: InvoiceForm,
            rows: list[ParsedRow]) -> Invoice:
    for _attempt in range(3):
        # Numbers are per company; two people saving at once may pick the same next number:
        # the unique constraint catches that and we take the next one.
        number = (db.session.execute(
            select(func.max(Invoice.number)).where(Invoice.company_id == company_id)
        ).scalar_one() or 0) + 1
        invoice = Invoice(
            company_id=company_id, customer_id=customer.id, number=number,
            invoice_date=parse_date(form.invoice_date), due_date=parse_date(form.due_date),
            status=InvoiceStatus.DRAFT,
        )
        invoice.rows = [
            InvoiceRow(position=i, description=r.description, quantity=r.quantity,
                       unit_price=r.unit_price, vat_rate=r.vat_rate)
            for i, r in enumerate(rows)
        ]
        db.session.add(invoice)
        try:
            db.session.commit()
            return invoice
        except IntegrityError:
            db.session.rollback()
    abort(409)
