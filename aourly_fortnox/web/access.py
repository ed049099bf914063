"""Who may see a plugin route, and how htmx and plain requests are answered.

Every route is owner-only, checked here on the server: anonymous users go to the host's
login, members who are not owners get 403, a company the user does not belong to 404.
Without the host's hooks every route answers 403 (fail closed) and logs which hook is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, abort, current_app, g, redirect, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.wrappers import Response as BaseResponse

from ..i18n import gettext as _
from ..state import state

log = logging.getLogger("aourly_fortnox")

F = TypeVar("F", bound=Callable[..., Any])


def is_htmx() -> bool:
    """True for requests htmx made (and not for boosted full-page navigations)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def redirect_to(url: str) -> BaseResponse:
    """A 303 for a browser, an ``HX-Redirect`` for htmx (htmx must never get a 302)."""
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def _login_response() -> BaseResponse:
    """Anonymous: the host's login page (htmx gets a 401 with ``HX-Redirect``, never a 302)."""
    manager = getattr(current_app, "login_manager", None)
    if is_htmx():
        # Send htmx to the login page (whole page), never a 302 it would swap in.
        from flask_login.utils import login_url

        target = "/"
        if manager is not None and manager.login_view:
            # Back to the page the person was on (ours only), not to the partial.
            referrer = request.referrer or ""
            back = referrer if referrer.startswith(request.host_url) else request.url
            target = login_url(manager.login_view, next_url=back)
        response = Response(_("Please log in."), status=401)
        response.headers["HX-Redirect"] = target
        return response
    if manager is None:
        abort(401)
    return cast(BaseResponse, manager.unauthorized())


def current_company_id() -> str:
    """The company the current request works on (set by :func:`owner_required`)."""
    return cast(str, g.fortnox_company_id)


def owner_required(view: F) -> F:
    """Only owners of the current company pass; everyone else is refused server-side."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refused = refuse_unless_owner()
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    return cast(F, wrapper)


def refuse_unless_owner() -> BaseResponse | None:
    """None for an owner of the current company (then remembered for the view); otherwise the
    answer: the login page for anonymous users, 404 for a company the user is not a member
    of, 403 for a member who is not an owner, and 403 for everyone while a hook is missing.

    A function of its own (not inside the decorator's wrapper) so that `make mutate` checks it.
    """
    ext = state().ext
    missing = ext.missing_hooks()
    if missing:
        log.error(
            "aourly_fortnox refuses every request: the host has not registered %s "
            "(see the README, 'Mount it in your host').",
            " and ".join(f"@fortnox.{name}" for name in missing),
        )
        abort(403)
    if not current_user.is_authenticated:
        return _login_response()
    company_id = ext.current_company_id()
    if company_id is None or not ext.is_member(current_user, company_id):
        log.debug("aourly_fortnox: 404 for user %r: no current company, or member_check"
                  "(user, %r) was false", current_user.get_id(), company_id)
        abort(404)
    if not ext.is_owner(current_user, company_id):
        log.debug("aourly_fortnox: 403 for user %r: owner_check(user, %r) was false (the "
                  "company id is always a str)", current_user.get_id(), company_id)
        abort(403)
    g.fortnox_company_id = company_id
    return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def guard_unsafe_request() -> BaseResponse | None:
    """Before any plugin view, for every POST: cap the body, refuse anonymous senders without
    reading a byte of it, then check the CSRF token (which parses the form).

    The order matters: the CSRF check reads the form, so checked first it let anyone make the
    server parse (and hold) a body of any size.
    """
    if request.method in SAFE_METHODS:
        return None
    cap = int(state().settings.max_form_bytes)
    host_cap = request.max_content_length
    # Lower than the host's limit, never higher: a bigger body is a 413 when it is read.
    request.max_content_length = cap if host_cap is None else min(cap, host_cap)
    if not current_user.is_authenticated:
        return _login_response()
    check_csrf()
    return None


def check_csrf() -> None:
    """Validate the CSRF token on every unsafe request (Flask-WTF's field and header)."""
    if request.method in SAFE_METHODS:
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except Exception as exc:  # ValidationError: missing, expired or wrong token
        raise CSRFError(
            _("The form has expired or was not sent from this site. Reload the page and try "
              "again.")
        ) from exc
