"""The plugin's routes. Thin: check access, call a service, render a page or a partial.

Every action works as a plain form post (303 to a page) and with htmx (a partial, or an
``HX-Redirect``; never a 302). Responses that differ by ``HX-Request`` say so in ``Vary``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from . import card, connection, mapping, oauth_flow, outbox
from .access import check_csrf, current_company_id, is_htmx, owner_required, redirect_to
from .extension import state
from .i18n import gettext as _


def create_blueprint() -> Blueprint:
    bp = Blueprint(
        "aourly_fortnox",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/fortnox-static",
    )
    bp.before_request(check_csrf)

    @bp.after_request
    def vary_on_htmx(response: Response) -> Response:
        response.vary.add("HX-Request")
        return response

    @bp.context_processor
    def template_globals() -> dict[str, Any]:
        return {
            "fortnox_base_template": state().settings.base_template,
            "csrf_token": generate_csrf,
            "is_htmx": is_htmx(),
            "fx_": _,
        }

    def render_page(template: str, **context: Any) -> str:
        return render_template(template, **context)

    # -- Integrations page and the card ---------------------------------------------------
    @bp.get("/")
    @owner_required
    def index() -> str:
        return render_page(
            "aourly_fortnox/integrations.html", card=card.build(current_company_id())
        )

    @bp.get("/fortnox/status")
    @owner_required
    def status() -> str:
        return render_template("aourly_fortnox/_card.html", card=card.build(current_company_id()))

    def card_or_index() -> BaseResponse | str:
        """After an action: the fresh card for htmx, the Integrations page for a browser."""
        if is_htmx():
            return status()
        return redirect_to(url_for(".index"))

    # -- Connect / callback / switch company -------------------------------------------
    @bp.post("/fortnox/connect")
    @owner_required
    def connect() -> BaseResponse:
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
        result = oauth_flow.finish(current_company_id(), str(current_user.get_id()), request.args)
        if result.needs_switch_confirmation:
            return redirect_to(url_for(".switch_company"))
        if result.error:
            return render_page("aourly_fortnox/callback_error.html", message=result.error), (
                result.status
            )
        flash(result.message or _("Fortnox is connected."), "success")
        return redirect_to(url_for(".index"))

    @bp.route("/fortnox/switch-company", methods=["GET", "POST"])
    @owner_required
    def switch_company() -> BaseResponse | str:
        company_id = current_company_id()
        pending = connection.pending_switch(company_id)
        if pending is None:
            flash(_("There is no Fortnox company waiting to be confirmed."), "info")
            return redirect_to(url_for(".index"))
        if request.method == "POST":
            if request.form.get("decision") == "switch":
                connection.confirm_switch(company_id)
                flash(
                    _("Connected to %(name)s. Your account mapping is kept and was checked "
                      "against the new chart of accounts.", name=pending.new_name),
                    "success",
                )
            else:
                connection.cancel_switch(company_id)
                flash(_("Nothing changed: still set up for %(name)s.", name=pending.old_name),
                      "info")
            return redirect_to(url_for(".index"))
        return render_page("aourly_fortnox/switch_company.html", pending=pending)

    # -- Sync now / held items ----------------------------------------------------------
    @bp.post("/fortnox/sync")
    @owner_required
    def sync_now() -> BaseResponse | str:
        message, category = outbox.sync_now(current_company_id())
        flash(message, category)
        return card_or_index()

    @bp.post("/fortnox/held/send")
    @owner_required
    def send_held() -> BaseResponse | str:
        message, category = outbox.send_held(current_company_id())
        flash(message, category)
        return card_or_index()

    # -- Disconnect -----------------------------------------------------------------------
    @bp.route("/fortnox/disconnect", methods=["GET", "POST"])
    @owner_required
    def disconnect() -> BaseResponse | str:
        company_id = current_company_id()
        if request.method == "GET":
            return render_page(
                "aourly_fortnox/disconnect.html", card=card.build(company_id)
            )
        if connection.disconnect(company_id):
            flash(
                _("Fortnox is disconnected. Everything already synced stays in both systems; "
                  "nothing new is sent until you connect again."),
                "success",
            )
        else:
            flash(_("Fortnox was not connected."), "info")
        return card_or_index()

    # -- Account mapping ----------------------------------------------------------------
    @bp.route("/fortnox/mapping", methods=["GET", "POST"])
    @owner_required
    def mapping_page() -> BaseResponse | str | tuple[str, int]:
        company_id = current_company_id()
        if request.method == "POST":
            result = mapping.save(company_id, request.form, str(current_user.get_id()))
            if result.saved:
                flash(result.message, "success")
                if is_htmx():
                    return render_template(
                        "aourly_fortnox/_mapping_saved.html",
                        view=mapping.build_view(company_id),
                        card=card.build(company_id),
                    )
                return redirect_to(url_for(".mapping_page"))
            template = (
                "aourly_fortnox/_mapping_form.html" if is_htmx() else "aourly_fortnox/mapping.html"
            )
            return render_template(template, view=result.view, card=card.build(company_id)), 422
        view = mapping.build_view(company_id)
        if is_htmx() and request.args.get("validate"):
            # Inline validation of one field as the owner picks an account.
            key = request.args["validate"]
            return render_template(
                "aourly_fortnox/_mapping_field.html",
                field=mapping.check_field(company_id, key, request.args.get(key, "")),
            )
        if is_htmx():
            return render_template("aourly_fortnox/_mapping_form.html", view=view)
        return render_page("aourly_fortnox/mapping.html", view=view, card=card.build(company_id))

    @bp.post("/fortnox/accounts/refresh")
    @owner_required
    def refresh_accounts() -> BaseResponse | str:
        message, category = outbox.refresh_chart(current_company_id())
        flash(message, category)
        if is_htmx():
            return status()
        return redirect_to(url_for(".mapping_page"))

    # -- Sync log ------------------------------------------------------------------------
    @bp.get("/fortnox/log")
    @owner_required
    def log_page() -> str:
        return render_page(
            "aourly_fortnox/log.html", log=outbox.build_log(current_company_id())
        )

    @bp.post("/fortnox/log/<int:record_id>/retry")
    @owner_required
    def retry_one(record_id: int) -> BaseResponse:
        if not outbox.retry(current_company_id(), record_id):
            abort(404)
        flash(_("Queued again."), "success")
        return redirect_to(url_for(".log_page"))

    @bp.post("/fortnox/log/retry")
    @owner_required
    def retry_all() -> BaseResponse:
        count = outbox.retry_all(current_company_id())
        flash(_("%(count)s item(s) queued again.", count=count) if count
              else _("Nothing to retry."), "info")
        return redirect_to(url_for(".log_page"))

    @bp.get("/fortnox/preview")
    @owner_required
    def preview() -> str:
        return render_page(
            "aourly_fortnox/preview.html", items=outbox.preview(current_company_id())
        )

    @bp.get("/fortnox/vouchers")
    @owner_required
    def vouchers() -> str:
        from .queries import pulled_vouchers

        return render_page(
            "aourly_fortnox/vouchers.html", vouchers=pulled_vouchers(current_company_id())
        )

    @bp.get("/fortnox/health")
    @owner_required
    def health() -> Response:
        return jsonify(card.health(current_company_id()))

    @bp.app_template_filter("fortnox_local")
    def local_time(moment: datetime | None) -> str:
        """A stored UTC time as the company reads it (Europe/Stockholm by default)."""
        return card.local_time(moment, state().settings.timezone)

    @bp.app_template_global("fortnox_csrf_field")
    def csrf_field() -> str:
        from markupsafe import Markup

        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
            generate_csrf()
        )

    return bp
