"""The read-only page at ``/``: companies and their customers, invoices and vouchers, so a
person can see that a sync arrived. Newest invoices and vouchers first."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import ledger
from .gate import sandbox
from .settings import format_redirect_rule

bp = Blueprint("fortnox_sandbox_web", __name__)
ROWS_SHOWN = 200


@bp.get("/")
def index() -> str:
    """The overview at ``/`` (no Fortnox counterpart), to see by eye that a sync arrived."""
    state = sandbox()
    store = state.store
    companies = []
    for info in store.companies():
        db = info["DatabaseNumber"]
        vouchers = [record.data for record in store.records(db, "voucher")]
        vouchers.sort(key=lambda v: (v["Year"], v["TransactionDate"], v["VoucherNumber"]))
        companies.append(
            {
                "info": info,
                "locked": bool(store.company_settings(db).get("locked")),
                "locked_until": ledger.locked_until(store, db),
                "customers": [record.data for record in store.records(db, "customer")],
                "invoices": [record.data for record in store.records(db, "invoice")][::-1],
                "vouchers": vouchers[::-1],
            }
        )
    count, window = state.settings.rate_limit
    return render_template(
        "sandbox_index.html",
        companies=companies,
        client_id=state.settings.client_id,
        redirect_rule=format_redirect_rule(state.settings.redirect_uris),
        rate_limit=f"{count}/{window:g} s",
        limit=ROWS_SHOWN,
    )
