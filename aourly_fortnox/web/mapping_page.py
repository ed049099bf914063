"""The account mapping page: show the form, validate one field inline, save them all."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from .. import mapping
from . import card
from .access import is_htmx, redirect_to


def importing(status: card.Card) -> bool:
    """The chart of accounts is being read from Fortnox (a run is queued or reading, not yet
    sending): the form would show accounts and suggestions that are about to change."""
    return status.running and not status.sending


def show(company_id: str) -> str:
    """The page, the form alone (htmx), or one field checked as the owner picks an account."""
    if is_htmx() and request.args.get("validate"):
        key = request.args["validate"]
        return render_template(
            "aourly_fortnox/_mapping_field.html",
            field=mapping.check_field(company_id, key, request.args.get(key, "")), inline=True,
        )
    status = card.build(company_id)
    view = mapping.build_view(company_id)
    if is_htmx():
        # The form polled while the chart is imported: the line above it (the compact card)
        # comes along out-of-band, so it never counts as missing what the form shows filled.
        return render_template("aourly_fortnox/_mapping_refreshed.html", view=view, card=status,
                               importing=importing(status))
    return render_template("aourly_fortnox/mapping.html", view=view, card=status,
                           importing=importing(status))


def save(company_id: str) -> BaseResponse | str | tuple[str, int]:
    """Save if every field is valid (422 with the kept values otherwise). The chart is loaded
    once; the status line beside the form reads the stored mapping line."""
    result = mapping.save(company_id, request.form, str(current_user.get_id()))
    if result.saved:
        # Accounts still missing: the owner is warned, not congratulated.
        flash(result.message, "warning" if result.incomplete else "success")
        if is_htmx():
            status = card.build(company_id)
            return render_template(
                "aourly_fortnox/_mapping_saved.html", view=result.view, card=status,
                importing=importing(status),
            )
        return redirect_to(url_for(".mapping_page"))
    status = card.build(company_id)
    template = "aourly_fortnox/_mapping_form.html" if is_htmx() else "aourly_fortnox/mapping.html"
    return render_template(template, view=result.view, card=status,
                           importing=importing(status)), 422
