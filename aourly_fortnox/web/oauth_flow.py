"""The owner's trip to Fortnox and back: start (state in the session) and finish (callback).

``state`` is bound to the Flask session, the user and the company, short-lived, and single
use on the server too (a row per issued state, deleted by its first callback): a forged,
replayed or someone else's callback stores nothing, even with a copy of an old cookie. Every
bad path ends in a :class:`CallbackResult` with a message an owner understands.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, session, url_for
from sqlalchemy import delete

from ..connection import clients, lifecycle
from ..fortnox.errors import AuthorizationExpired, FortnoxError, OAuthError, TransientError
from ..fortnox.oauth import parse_callback
from ..i18n import gettext as _
from ..models import OAuthState, utcnow
from ..queries import get_connection
from ..queries import session as session_db
from ..queue import QueueUnavailable
from ..reasons import reason_text
from ..state import state
from ..sync.runs import enqueue_import

log = logging.getLogger("aourly_fortnox.oauth")

SESSION_KEY = "aourly_fortnox_oauth"
#: Fortnox's authorization code lives 10 minutes; a state older than that is useless.
STATE_MAX_AGE = 15 * 60


@dataclass(frozen=True)
class StartOutcome:
    """Where to send the owner (Fortnox's consent page), or why not."""

    redirect_url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class CallbackResult:
    """What the callback did, worded for the owner, with the HTTP status to answer."""

    message: str | None = None
    error: str | None = None
    status: int = 200
    needs_switch_confirmation: bool = False


def redirect_uri() -> str | None:
    """Exactly as registered at Fortnox: ``AOURLY_FORTNOX_REDIRECT_URI``.

    Without it, this callback's external URL, but only where the request's Host header can be
    trusted: in debug and testing, or when the host set Flask's ``TRUSTED_HOSTS`` (Flask then
    refuses any other Host with a 400). Otherwise None: a forged Host header must never put
    ``http://evil.example/...`` into the authorization request.
    """
    configured = state().settings.redirect_uri
    if configured:
        return str(configured)
    app = current_app
    if app.debug or app.testing or app.config.get("TRUSTED_HOSTS"):
        return url_for("aourly_fortnox.callback", _external=True)
    return None


def not_set_up_message(missing: str) -> str:
    """Why Connect cannot start on this server, in the owner's words; the setting an
    administrator must add goes to the log, not to the owner's page."""
    log.warning("Fortnox cannot be connected: %s missing (docs/deploy.md).", missing)
    return _("Fortnox cannot be connected yet: your administrator has to set it up for "
             "%(product)s first.")


def no_redirect_uri_message() -> str:
    """Why Connect cannot start on a server without a trustworthy callback URL."""
    return not_set_up_message("AOURLY_FORTNOX_REDIRECT_URI is")


def _state_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _remember_state(token: str, company_id: str, user_id: str) -> None:
    """Keep the issued state server-side until its callback; forget ones nobody came back for."""
    db_session = session_db()
    cutoff = utcnow() - timedelta(seconds=STATE_MAX_AGE)
    db_session.execute(delete(OAuthState).where(OAuthState.created_at < cutoff))
    db_session.add(OAuthState(state_hash=_state_hash(token), company_id=company_id,
                              user_id=user_id))
    db_session.commit()


def _consume_state(token: str) -> bool:
    """True for the first callback of an issued state, False ever after (atomic: the delete
    of one row succeeds once, however many callbacks race)."""
    db_session = session_db()
    result = db_session.execute(
        delete(OAuthState).where(OAuthState.state_hash == _state_hash(token))
    )
    db_session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def start(company_id: str, user_id: str) -> StartOutcome:
    """Bind a fresh ``state`` to this session, user and company; then off to Fortnox."""
    settings = state().settings
    if not settings.client_id or not settings.client_secret:
        return StartOutcome(
            error=not_set_up_message(
                "AOURLY_FORTNOX_CLIENT_ID and AOURLY_FORTNOX_CLIENT_SECRET are")
        )
    callback_url = redirect_uri()
    if callback_url is None:
        return StartOutcome(error=no_redirect_uri_message())
    token = secrets.token_urlsafe(32)
    _remember_state(token, company_id, user_id)
    session[SESSION_KEY] = {
        "state": token,
        "company_id": company_id,
        "user_id": user_id,
        "created": time.time(),
    }
    url = clients.oauth_client(callback_url).authorization_url(token, callback_url)
    return StartOutcome(redirect_url=url)


def _oauth_error_message(error: str, description: str) -> str:
    if error == "access_denied":
        if description and "access" not in description.lower():
            return _("Fortnox refused the connection: %(why)s", why=description)
        return _("You chose not to give %(product)s access in Fortnox, so nothing was connected.")
    if error == "invalid_scope":
        return _(
            "Fortnox refused the permissions %(product)s asks for (invalid scope). Check that "
            "your Fortnox plan includes the modules needed, or ask your administrator to check "
            "AOURLY_FORTNOX_SCOPES."
        )
    if description:
        return _("Fortnox could not complete the connection (%(error)s): %(why)s.",
                 error=error, why=description)
    return _("Fortnox could not complete the connection (%(error)s).", error=error)


def finish(company_id: str, user_id: str, args: Mapping[str, str]) -> CallbackResult:
    """Handle Fortnox's redirect back. Stores tokens only when every check passed."""
    expected = session.pop(SESSION_KEY, None) or {}
    try:
        code: str | None = parse_callback(args, str(expected.get("state", "")))
        refused: OAuthError | None = None
    except OAuthError as exc:
        code, refused = None, exc
    # Used up by any callback, whatever follows. The session's copy alone is not enough: a
    # cookie saved before the first callback still carries the state.
    consumed = bool(expected.get("state")) and _consume_state(str(expected["state"]))
    if (refused is not None and refused.error == "invalid_state") or not consumed:
        return CallbackResult(
            error=_("This Fortnox sign-in could not be verified (it was not started here, or "
                    "it was already used). Nothing was changed. Start again with Connect "
                    "Fortnox."),
            status=400,
        )
    if expected.get("user_id") != user_id or expected.get("company_id") != company_id:
        return CallbackResult(
            error=_("This Fortnox sign-in was started by another user or for another "
                    "company. Nothing was changed. Start again with Connect Fortnox."),
            status=403,
        )
    if time.time() - float(expected.get("created", 0)) > STATE_MAX_AGE:
        return CallbackResult(
            error=_("The Fortnox sign-in took too long and has expired. Nothing was "
                    "changed. Start again with Connect Fortnox."),
            status=400,
        )
    if refused is not None and args.get("error"):
        return CallbackResult(
            error=_oauth_error_message(refused.error, refused.message or ""), status=400
        )
    if code is None:
        return CallbackResult(
            error=_("Fortnox sent no authorization code. Nothing was changed."), status=400
        )

    callback_url = redirect_uri()
    if callback_url is None:
        return CallbackResult(error=no_redirect_uri_message(), status=400)
    oauth = clients.oauth_client(callback_url)
    try:
        tokens = oauth.exchange_code(code)  # the client carries the one redirect URI
    except (AuthorizationExpired, OAuthError) as exc:
        log.info("Fortnox refused the authorization code: %s", exc.reason)
        return CallbackResult(
            error=_("Fortnox did not accept the sign-in (the code was already used or has "
                    "expired). Nothing was changed. Start again with Connect Fortnox."),
            status=400,
        )
    except TransientError:
        return CallbackResult(
            error=_("Fortnox is not answering right now. Nothing was changed. Try again in a "
                    "few minutes."),
            status=502,
        )
    except FortnoxError as exc:
        return CallbackResult(
            error=_("Fortnox refused the sign-in: %(why)s", why=exc.reason), status=400
        )

    try:
        company = clients.read_company(clients.client_for_tokens(tokens))
        clients.charge_request(company.database_number)
    except FortnoxError as exc:
        lifecycle.revoke_quietly(tokens.refresh_token)
        status = 502 if isinstance(exc, TransientError) else 400
        return CallbackResult(
            error=_("Connected to Fortnox, but Fortnox would not tell which company it is "
                    "(%(why)s). Nothing was stored. Try again.", why=exc.reason),
            status=status,
        )

    other = lifecycle.connected_elsewhere(company_id, company.database_number)
    if other is not None:
        lifecycle.revoke_quietly(tokens.refresh_token)
        return CallbackResult(
            error=_("The Fortnox company %(name)s is already connected to another %(product)s "
                    "company. One Fortnox company can be connected to one %(product)s company "
                    "only; disconnect it there first.", name=company.name),
            status=409,
        )

    current = get_connection(company_id)
    if (
        current is not None
        and current.database_number is not None
        and current.database_number != company.database_number
    ):
        lifecycle.hold_for_switch(company_id, tokens, company)
        return CallbackResult(needs_switch_confirmation=True)

    reconnect = current is not None and current.database_number == company.database_number
    lifecycle.store_connection(company_id, user_id, tokens, company)
    try:
        enqueue_import(company_id)
    except QueueUnavailable as exc:
        return CallbackResult(
            message=_("Fortnox is connected to %(name)s, but importing the chart of accounts "
                      "could not start: %(why)s Press Sync now later.",
                      name=company.name, why=reason_text(exc.code))
        )
    if reconnect:
        return CallbackResult(
            message=_("Fortnox is connected again to %(name)s. Your mappings and history are "
                      "kept. Items that were waiting are sent now; items held while "
                      "disconnected wait for you on the card.", name=company.name)
        )
    return CallbackResult(
        message=_("Fortnox is connected to %(name)s. We are importing your chart of accounts "
                  "and financial years; check the account mapping next.", name=company.name)
    )
