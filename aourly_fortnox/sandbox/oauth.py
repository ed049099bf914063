"""Fortnox's OAuth server: ``/oauth-v1/auth`` (consent page), ``/token`` and ``/revoke``.

* ``GET /auth``: an unknown ``client_id`` or a redirect URI the sandbox does not accept is an
  error page (400), never a redirect. A bad ``response_type``, an unknown scope or an
  ``account_type`` other than ``service`` redirect back with ``error=...&state=...``.
  Otherwise the consent page: the requested scopes, a choice of company (the first one
  preselected), "Grant Access" and "Deny", posted back with a one-time nonce bound to the
  browser's sandbox session.
* ``POST /auth``: Deny redirects with ``error=access_denied``; Grant redirects with
  ``code=...&state=...``, unless the chosen company is locked (``POST
  /_admin/companies/<db>/settings {"locked": true}``): then ``error=access_denied`` with an
  ``error_description`` saying the company has no active licence.
* ``POST /token``: client_secret_basic only. ``authorization_code`` (single use, ``code_ttl``,
  same ``redirect_uri`` as in ``/auth``), ``refresh_token`` (rotating, single use; a second
  use revokes the whole chain unless ``refresh_reuse_revokes`` is off, see :mod:`grants`) and
  ``client_credentials`` (``TenantId`` header, needs a consent given with
  ``account_type=service``). Errors are JSON served as text (docs/fortnox.md, "Authorization").
* ``POST /revoke``: ends the refresh token's consent, so nothing more is issued for it;
  access tokens already issued live until they expire (Fortnox cannot revoke them);
  ``{"revoked": true}``.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, render_template, request, session

from . import errors
from .consent import PendingConsent
from .gate import sandbox

bp = Blueprint("fortnox_oauth", __name__, url_prefix="/oauth-v1")

#: The scopes the sandbox knows, with the names the consent page shows.
SCOPES = {
    "companyinformation": "Företagsinformation (company information)",
    "customer": "Kunder (customers)",
    "invoice": "Fakturor (invoices)",
    "bookkeeping": "Bokföring (bookkeeping)",
    "settings": "Inställningar (settings)",
    "payment": "Betalningar (payments)",
    "article": "Artiklar (articles)",
    "currency": "Valutor (currencies)",
    "profile": "Profil (profile)",
}
CONSENT_FORM_TTL = 3600.0


def error_page(status: int, title: str, detail: str) -> Response:
    """An HTML error page: a bad client or redirect URI is never redirected back, as at Fortnox."""
    html = render_template("sandbox_error.html", status=status, title=title, detail=detail)
    return Response(html, status=status, mimetype="text/html")


def redirect_with(uri: str, params: dict[str, str]) -> Response:
    """Append ``params`` to the client's redirect URI, keeping any query it already has."""
    parts = urlsplit(uri)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return Response(status=302, headers={"Location": urlunsplit(parts._replace(query=query))})


@bp.get("/auth")
def authorize() -> Response:
    """``GET /oauth-v1/auth``: the consent page; a bad client or redirect URI gets no redirect."""
    state = sandbox()
    settings, args = state.settings, request.args
    if args.get("client_id", "") != settings.client_id:
        return error_page(400, "Okänt client_id", "Auth code or ClientID supplied is invalid.")
    given = "redirect_uri" in args
    redirect_uri = args.get("redirect_uri", "") if given else next(iter(settings.redirect_uris), "")
    if not redirect_uri or not settings.accepts_redirect_uri(redirect_uri):
        return error_page(
            400,
            "redirect_uri_mismatch",
            f"The redirect URI {redirect_uri!r} is not registered for this client.",
        )
    client_state = args.get("state", "")
    if args.get("response_type") != "code":
        return redirect_with(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "response_type must be code",
                "state": client_state,
            },
        )
    scopes = args.get("scope", "").split()
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if not scopes or unknown:
        return redirect_with(
            redirect_uri,
            {
                "error": "invalid_scope",
                "error_description": f"Unknown scope: {' '.join(unknown)}"
                if unknown
                else "scope is required",
                "state": client_state,
            },
        )
    account_type = args.get("account_type")
    if account_type not in (None, "", "service"):
        return redirect_with(
            redirect_uri,
            {
                "error": "invalid_request",
                "error_description": "account_type must be service",
                "state": client_state,
            },
        )
    session_id = session.setdefault("sid", secrets.token_urlsafe(16))
    nonce = secrets.token_urlsafe(24)
    now = time.time()
    with state.pending_lock:
        for old in [key for key, item in state.pending.items() if item.expires < now]:
            del state.pending[old]
        state.pending[nonce] = PendingConsent(
            session_id,
            settings.client_id,
            scopes,
            redirect_uri,
            given,
            client_state,
            account_type == "service",
            now + CONSENT_FORM_TTL,
        )
    companies = [
        {**info, "locked": bool(state.store.company_settings(info["DatabaseNumber"]).get("locked"))}
        for info in state.store.companies()
    ]
    html = render_template(
        "sandbox_consent.html",
        client_id=settings.client_id,
        nonce=nonce,
        scopes=[(scope, SCOPES[scope]) for scope in scopes],
        companies=companies,
        service=account_type == "service",
        offline=args.get("access_type") == "offline",
    )
    return Response(html, mimetype="text/html")


@bp.post("/auth")
def authorize_decision() -> Response:
    """``POST /oauth-v1/auth``: Grant or Deny; Grant for a locked company is ``access_denied``."""
    state = sandbox()
    with state.pending_lock:
        pending = state.pending.pop(request.form.get("nonce", ""), None)
    if pending is None or pending.expires < time.time() or pending.session_id != session.get("sid"):
        return error_page(400, "Formuläret har gått ut", "Start the authorization again.")
    action = request.form.get("action")
    if action == "deny":
        return redirect_with(
            pending.redirect_uri,
            {
                "error": "access_denied",
                "error_description": "The user denied access to the integration.",
                "state": pending.state,
            },
        )
    if action != "grant":
        return error_page(400, "Ogiltigt val", "Choose Grant Access or Deny.")
    chosen = request.form.get("database_number")
    if chosen is None:  # the radio is always sent by a browser; default to the preselected one
        first = state.store.companies()[:1]
        chosen = str(first[0]["DatabaseNumber"]) if first else ""
    db = int(chosen) if chosen.isdigit() else -1
    company = state.store.company(db)
    if company is None:
        return error_page(400, "Okänt företag", "Choose one of the listed companies.")
    if state.store.company_settings(db).get("locked"):
        return redirect_with(
            pending.redirect_uri,
            {
                "error": "access_denied",
                "error_description": f"The account of {company['CompanyName']} is locked: "
                "the company has no active license.",
                "state": pending.state,
            },
        )
    code = state.grants.issue_code(
        pending.client_id,
        db,
        " ".join(pending.scopes),
        pending.redirect_uri if pending.redirect_uri_given else None,
        pending.service,
        state.settings.code_ttl,
    )
    return redirect_with(pending.redirect_uri, {"code": code, "state": pending.state})


def authenticated_client() -> str | None:
    """The client id from HTTP Basic (client_secret_basic), or None if the credentials fail."""
    auth = request.authorization
    settings = sandbox().settings
    if auth is None or auth.type != "basic" or auth.username is None:
        return None
    client_id, secret = unquote_plus(auth.username), unquote_plus(auth.password or "")
    if client_id == settings.client_id and secrets.compare_digest(secret, settings.client_secret):
        return client_id
    return None


def _tenant_of(grant_type: str) -> int | None:
    grants, form = sandbox().grants, request.form
    if grant_type == "authorization_code":
        return grants.code_tenant(form.get("code", ""))
    if grant_type == "refresh_token":
        return grants.refresh_tenant(form.get("refresh_token", ""))
    if grant_type == "client_credentials":
        raw = request.headers.get("TenantId") or form.get("tenant_id") or form.get("TenantId")
        return int(raw) if raw and raw.isdigit() else None
    return None


@bp.post("/token")
def token() -> Response:
    """``POST /oauth-v1/token``: code, refresh or client credentials; errors are JSON as text."""
    state = sandbox()
    client_id = authenticated_client()
    if client_id is None:
        return errors.token_error("invalid_client", "The client credentials are invalid", 401)
    grant_type = request.form.get("grant_type", "")
    tenant = _tenant_of(grant_type)
    if tenant is not None:
        state.stats.add(f"{client_id}/{tenant}", "token")
    if state.faults.latency():
        time.sleep(state.faults.latency())
    if state.faults.draw_token():
        # Injected before anything changes: the old refresh token still works afterwards.
        return errors.html_error(503, "Service Temporarily Unavailable")
    settings = state.settings
    if grant_type == "authorization_code":
        code = state.grants.consume_code(
            request.form.get("code", ""), client_id, request.form.get("redirect_uri")
        )
        if code is None:
            return errors.token_error(
                "invalid_grant", "Authorization code doesn't exist or is invalid for the client"
            )
        consent = state.grants.create_consent(client_id, code.db, code.scope, code.service)
        return errors.json_response(
            state.grants.issue_tokens(consent, settings.access_ttl, settings.refresh_ttl)
        )
    if grant_type == "refresh_token":
        answer = state.grants.rotate(
            request.form.get("refresh_token", ""),
            client_id,
            settings.access_ttl,
            settings.refresh_ttl,
            reuse_revokes=settings.refresh_reuse_revokes,
        )
        if answer is None:
            return errors.token_error("invalid_grant", "Invalid refresh token")
        return errors.json_response(answer)
    if grant_type == "client_credentials":
        consent_id = state.grants.service_consent(client_id, tenant) if tenant else None
        if consent_id is None:
            return errors.token_error(
                "invalid_grant", "No service account consent for this client and tenant"
            )
        return errors.json_response(
            state.grants.issue_tokens(consent_id, settings.access_ttl, None)
        )
    return errors.token_error("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")


@bp.post("/revoke")
def revoke() -> Response:
    """``POST /oauth-v1/revoke``: closes the consent; its access tokens live until they expire."""
    client_id = authenticated_client()
    if client_id is None:
        return errors.token_error("invalid_client", "The client credentials are invalid", 401)
    # Like RFC 7009, an unknown token is not an error: the answer is the same.
    sandbox().grants.close_by_refresh_token(request.form.get("token", ""), client_id)
    return errors.json_response({"revoked": True})
