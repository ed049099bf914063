"""The plugin's routes. Thin: check access, call a service, render a page or a partial.

Every action works as a plain form post (303 to a page) and with htmx (a partial, or an
``HX-Redirect``; never a 302). Responses that differ by ``HX-Request`` say so in ``Vary``.
The blueprint is registered by ``FortnoxIntegration.init_app`` under the configured prefix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from ..connection import lifecycle
from ..i18n import current_locale, ngettext
from ..i18n import gettext as _
from ..queue import QueueUnavailable
from ..reasons import reason_text
from ..state import state
from ..sync import outbox, runs
from ..sync import preview as dry_run
from . import card, oauth_flow, sync_log, voucher_list
from . import health as health_checks
from . import mapping_page as mapping_forms
from .access import (
    current_company_id,
    guard_unsafe_request,
    is_htmx,
    owner_required,
    redirect_to,
)

bp = Blueprint(
    "aourly_fortnox",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/fortnox-static",
)
bp.before_request(guard_unsafe_request)

#: The largest row id there can be (the id columns are 32-bit integers). A larger id in a URL
#: is a 404 from the router: handed to the database it was an overflow error (a 500).
MAX_ROW_ID = 2**31 - 1


@bp.after_request
def vary_on_htmx(response: Response) -> Response:
    """Caches must keep the partial and the full page apart."""
    response.vary.add("HX-Request")
    return response


#: On every answer of the plugin, whatever the host does: no page of ours in a frame (the
#: Disconnect confirmation must not be clickjacked), no content sniffing, and no URL of ours
#: (the callback's carries the OAuth code) in another site's Referer. A header the host
#: already set is kept.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@bp.after_request
def security_headers(response: Response) -> Response:
    """The plugin's security headers, added where the host has not set its own."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


@bp.errorhandler(403)
def forbidden(error: Exception) -> tuple[str, int]:
    """A refused member sees the host's layout and who can do this, not a bare 403."""
    return render_template("aourly_fortnox/forbidden.html"), 403


@bp.context_processor
def template_globals() -> dict[str, Any]:
    """What every plugin template may use: the host's layout, CSRF, htmx, our gettext."""
    return {
        "fortnox_base_template": state().settings.base_template,
        "csrf_token": generate_csrf,
        "is_htmx": is_htmx(),
        "fx_": _,
        "fx_ngettext": ngettext,
        "fx_reason": reason_text,
        "fx_locale": current_locale(),
    }


@bp.app_template_filter("fortnox_local")
def local_time(moment: datetime | None) -> str:
    """A stored UTC time as the company reads it (Europe/Stockholm by default)."""
    return card.local_time(moment, state().settings.timezone)


@bp.app_template_global("fortnox_csrf_field")
def csrf_field() -> Markup:
    """The hidden CSRF input every plugin form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


# -- Integrations page and the card -----------------------------------------------------------
@bp.get("/")
@owner_required
def index() -> str:
    """The Integrations page with the Fortnox card."""
    return render_template(
        "aourly_fortnox/integrations.html", card=card.build(current_company_id())
    )


@bp.get("/fortnox/status")
@owner_required
def status() -> str:
    """The card alone: htmx polls it while something runs."""
    return render_template("aourly_fortnox/_card.html", card=card.build(current_company_id()))


def card_or_index() -> BaseResponse | str:
    """After an action: the fresh card for htmx, the Integrations page for a browser."""
    if is_htmx():
        return status()
    return redirect_to(url_for(".index"))


def flash_start(result: runs.StartResult, started: str, not_connected: str) -> None:
    """Word the outcome of starting a run for the owner."""
    if result is runs.StartResult.STARTED:
        flash(started, "success")
    elif result is runs.StartResult.NOT_CONNECTED:
        flash(not_connected, "error")
    else:
        flash(reason_text(QueueUnavailable.code), "error")


# -- Connect / callback / switch company -------------------------------------------------------
@bp.post("/fortnox/connect")
@owner_required
def connect() -> BaseResponse:
    """Send the owner to Fortnox's consent page."""
    outcome = oauth_flow.start(current_company_id(), str(current_user.get_id()))
    if outcome.error:
        flash(outcome.error, "error")
        return redirect_to(url_for(".index"))
    assert outcome.redirect_url
    # The Fortnox consent page is a whole page: htmx must leave the app for it.
    return redirect_to(outcome.redirect_url)


@bp.get("/fortnox/callback")
@owner_required
def callback() -> BaseResponse | tuple[str, int]:
    """Fortnox's redirect back after consent (or refusal)."""
    result = oauth_flow.finish(current_company_id(), str(current_user.get_id()), request.args)
    if result.needs_switch_confirmation:
        return redirect_to(url_for(".switch_company"))
    if result.error:
        page = render_template("aourly_fortnox/callback_error.html", message=result.error)
        return page, result.status
    flash(result.message or _("Fortnox is connected."), "success")
    return redirect_to(url_for(".index"))


@bp.route("/fortnox/switch-company", methods=["GET", "POST"])
@owner_required
def switch_company() -> BaseResponse | str:
    """Confirm or cancel a switch to a different Fortnox company."""
    company_id = current_company_id()
    pending = lifecycle.pending_switch(company_id)
    if pending is None:
        flash(_("There is no Fortnox company waiting to be confirmed."), "info")
        return redirect_to(url_for(".index"))
    if request.method == "GET":
        return render_template("aourly_fortnox/switch_company.html", pending=pending)
    decision = request.form.get("decision")
    if decision in ("switch", "switch_send"):
        if lifecycle.confirm_switch(company_id, str(current_user.get_id())):
            try:
                runs.enqueue_import(company_id)
            except QueueUnavailable:
                pass  # the run is recorded as failed with the reason; Sync now starts it again
        flash(
            _("Connected to %(name)s. Your account mapping is kept and was checked "
              "against the new chart of accounts.", name=pending.new_name),
            "success",
        )
        if decision == "switch_send":
            # The backfill offer, as a page with a button: nothing goes before the owner
            # confirms it there.
            return redirect_to(url_for(".preview", earlier=1))
    else:
        lifecycle.cancel_switch(company_id)
        flash(_("Nothing changed: still set up for %(name)s.", name=pending.old_name), "info")
    return redirect_to(url_for(".index"))


# -- Sync now / held items ---------------------------------------------------------------------
@bp.post("/fortnox/sync")
@owner_required
def sync_now() -> BaseResponse | str:
    """Start a sync now."""
    flash_start(
        runs.start_run(current_company_id(), "sync"),
        started=_("Sync started."),
        not_connected=_("Connect Fortnox first; nothing was synced."),
    )
    return card_or_index()


@bp.post("/fortnox/held/send")
@owner_required
def send_held() -> BaseResponse | str:
    """Release the items held while Fortnox was disconnected."""
    count = outbox.send_held(current_company_id())
    if count is None:
        flash(_("Connect Fortnox first; held items stay held."), "error")
    else:
        flash(ngettext("%(num)s held item will be sent.", "%(num)s held items will be sent.",
                       count), "success")
    return card_or_index()


@bp.post("/fortnox/earlier/send")
@owner_required
def send_earlier() -> BaseResponse | str:
    """After the preview, the owner's confirmation: invoices sent before the first connection
    (and those the host sent before the plugin was installed) go to Fortnox."""
    count = outbox.send_earlier(current_company_id())
    if count is None:
        flash(_("Connect Fortnox first; nothing was sent."), "error")
    else:
        flash(ngettext("%(num)s earlier invoice will be sent; the card counts it down.",
                       "%(num)s earlier invoices will be sent; the card counts them down.",
                       count), "success")
    return redirect_to(url_for(".index"))


# -- Disconnect --------------------------------------------------------------------------------
@bp.route("/fortnox/disconnect", methods=["GET", "POST"])
@owner_required
def disconnect() -> BaseResponse | str:
    """A confirmation page (works without JS), then the disconnect itself."""
    company_id = current_company_id()
    if request.method == "GET":
        return render_template("aourly_fortnox/disconnect.html", card=card.build(company_id))
    if lifecycle.disconnect(company_id):
        flash(
            _("Fortnox is disconnected. Everything already synced stays in both systems; "
              "nothing new is sent until you connect again."),
            "success",
        )
    else:
        flash(_("Fortnox was not connected."), "info")
    return card_or_index()


# -- Account mapping ---------------------------------------------------------------------------
@bp.route("/fortnox/mapping", methods=["GET", "POST"])
@owner_required
def mapping_page() -> BaseResponse | str | tuple[str, int]:
    """The mapping form: inline validation per field, and a save that checks them all."""
    if request.method == "POST":
        return mapping_forms.save(current_company_id())
    return mapping_forms.show(current_company_id())


@bp.post("/fortnox/accounts/refresh")
@owner_required
def refresh_accounts() -> BaseResponse | str:
    """Import the chart again (an account added in Fortnox shows up)."""
    flash_start(
        runs.start_run(current_company_id(), "import"),
        started=_("Refreshing the chart of accounts from Fortnox."),
        not_connected=_("Connect Fortnox first to refresh the chart of accounts."),
    )
    if is_htmx():
        return status()
    return redirect_to(url_for(".mapping_page"))


# -- Sync log, preview, vouchers, health --------------------------------------------------------
@bp.get("/fortnox/log")
@owner_required
def log_page() -> str:
    """The company's items a page at a time (``state``, ``type``, ``page``), and the history
    of runs. Unknown filters fall back to the defaults; never a 500."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    log = sync_log.build(current_company_id(), request.args.get("state"),
                         request.args.get("type"), page)
    return render_template("aourly_fortnox/log.html", log=log, page_args=sync_log.page_args)


@bp.post(f"/fortnox/log/<int(max={MAX_ROW_ID}):record_id>/retry")
@owner_required
def retry_one(record_id: int) -> BaseResponse:
    """Queue one failed item again (another company's item is a 404), after fresh
    pre-check data: a fix made in Fortnox (a new year, an account) is seen by the retry."""
    if not outbox.retry(current_company_id(), record_id):
        abort(404)
    runs.start_run(current_company_id(), "sync")
    flash(_("Queued again."), "success")
    return redirect_to(url_for(".log_page"))


@bp.post("/fortnox/log/retry")
@owner_required
def retry_all() -> BaseResponse:
    """Queue every failed item of the company again, after fresh pre-check data."""
    count = outbox.retry_all(current_company_id())
    if count:
        runs.start_run(current_company_id(), "sync")
    flash(ngettext("%(num)s item queued again.", "%(num)s items queued again.", count)
          if count else _("Nothing to retry."), "info")
    return redirect_to(url_for(".log_page"))


@bp.post(f"/fortnox/log/<int(max={MAX_ROW_ID}):record_id>/link")
@owner_required
def link_customer(record_id: int) -> BaseResponse:
    """The owner's choice for a customer with several Fortnox matches: link one
    (``customer_number``) or create a new one (``create=1``)."""
    create = request.form.get("create") == "1"
    number = (request.form.get("customer_number") or "").strip()
    result = outbox.link_customer(current_company_id(), record_id, number or None, create)
    if result is None:
        abort(404)
    if result is False:
        flash(_("Choose one of the listed Fortnox customers."), "error")
    elif create:
        flash(_("A new customer will be created in Fortnox."), "success")
    else:
        flash(_("Linked to Fortnox customer %(number)s.", number=number), "success")
    return redirect_to(url_for(".log_page"))


@bp.get("/fortnox/preview")
@owner_required
def preview() -> str:
    """What the next sync would send, or (``earlier=1``) what the earlier-invoices offer
    would: counts per type, customers linked or created, the next item's exact payload. A dry
    run: it may read from Fortnox, it never writes."""
    earlier = request.args.get("earlier") == "1"
    return render_template(
        "aourly_fortnox/preview.html", earlier=earlier,
        preview=dry_run.build(current_company_id(), earlier=earlier),
    )


@bp.get("/fortnox/vouchers")
@owner_required
def vouchers() -> str:
    """Vouchers pulled from Fortnox, per financial year and series, a page at a time."""
    page = voucher_list.build(current_company_id(), request.args.get("year"),
                              request.args.get("series"), request.args.get("page"))
    return render_template("aourly_fortnox/vouchers.html", view=page, money=voucher_list.money)


@bp.get("/fortnox/health")
def health() -> BaseResponse:
    """JSON health: the installation's for monitoring (a bearer token), else the owner's
    company's. No tokens, no secrets, no company names."""
    check = health_checks.bearer_check()
    if check == health_checks.BearerCheck.VALID:
        return jsonify(health_checks.installation_health())
    if check == health_checks.BearerCheck.REFUSED:
        response = jsonify({"error": "invalid_token"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="aourly_fortnox"'
        return response
    return owner_health()


@owner_required
def owner_health() -> BaseResponse:
    """The owner's view of their company's health (the route without a bearer token)."""
    return jsonify(health_checks.company_health(current_company_id()))
