"""Payouts to performers. Owners and coordinators record them (each becomes a Fortnox
voucher: performer costs against bank); performers see their own payouts only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ..extensions import db
from ..fortnox_setup import fortnox
from ..handover import commit_with_handover
from ..i18n import gettext
from ..models import Membership, Payout, Role, User
from ..pagination import paginate
from ..parsing import InputError, parse_date, parse_decimal, today
from ..tenancy import EVERYONE, MANAGERS, current_company_id, current_role, roles_required

bp = Blueprint("payouts", __name__, url_prefix="/payouts")


def company_performers(company_id: str) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership)
        .where(Membership.company_id == company_id, Membership.role == Role.PERFORMER)
        .order_by(User.name)
    ))


@bp.get("/")
@roles_required(*EVERYONE)
def index() -> str:
    query = (
        select(Payout).where(Payout.company_id == current_company_id())
        .options(selectinload(Payout.performer))
        .order_by(Payout.payout_date.desc(), Payout.id.desc())
    )
    if current_role() == Role.PERFORMER:
        query = query.where(Payout.performer_id == current_user.id)
    return render_template("payouts/list.html", page=paginate(query, request.args.get("page")))


def validate(form: Any, performers: list[User]) -> tuple[dict[str, str], dict[str, str]]:
    values = {name: (form.get(name) or "").strip()
              for name in ("performer_id", "amount", "payout_date", "description")}
    errors: dict[str, str] = {}
    if values["performer_id"] not in {str(p.id) for p in performers}:
        errors["performer_id"] = gettext("Choose a performer of this company.")
    try:
        if parse_decimal(values["amount"]) <= 0:
            errors["amount"] = gettext("The amount must be more than 0.")
    except InputError as exc:
        errors["amount"] = (
            gettext(exc.template, **exc.values) if values["amount"]
            else gettext("Enter an amount.")
        )
    try:
        parse_date(values["payout_date"])
    except ValueError:
        errors["payout_date"] = gettext("Enter a date as YYYY-MM-DD.")
    if not values["description"]:
        errors["description"] = gettext("Say what the payout is for.")
    elif len(values["description"]) > 255:
        errors["description"] = gettext("Too long (at most {limit} characters).", limit=255)
    return values, errors


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new() -> Response | tuple[str, int]:
    company_id = current_company_id()
    assert company_id is not None
    performers = company_performers(company_id)
    if request.method == "GET":
        values = {"performer_id": "", "amount": "", "payout_date": today().isoformat(),
                  "description": ""}
        return render_template("payouts/new.html", values=values, errors={},
                               performers=performers), 200
    values, errors = validate(request.form, performers)
    if errors:
        flash(gettext("Please correct the fields marked below."), "error")
        return render_template("payouts/new.html", values=values, errors=errors,
                               performers=performers), 400
    payout = Payout(
        company_id=company_id, performer_id=int(values["performer_id"]),
        amount=parse_decimal(values["amount"]), payout_date=parse_date(values["payout_date"]),
        description=values["description"],
    )
    db.session.add(payout)
    db.session.flush()  # its id, for the plugin; recorded and handed over in one commit
    ident = payout.id
    commit_with_handover(lambda: fortnox.sync_voucher(company_id, ident), f"payout {ident}")
    flash(gettext("Payout recorded."), "success")
    return redirect(url_for("payouts.index"), code=303)
