"""Login, logout, the company switch and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from ..extensions import db
from ..i18n import LANGUAGES, gettext
from ..models import Role, User
from ..security import SESSION_VERSION_KEY, dummy_password_hash, login_throttle
from ..seed import USERS
from ..tenancy import SESSION_KEY, current_role, switch_company

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: ``?next=https://evil.example`` must not become a redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_url() -> str:
    """Where a logged-in person starts: performers have only their payouts."""
    if current_role() == Role.PERFORMER:
        return url_for("payouts.index")
    return url_for("invoices.index")


@bp.get("/")
def index() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_url())


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    demo_logins = [email for email, _, _ in USERS]
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(home_url())
        return render_template("auth/login.html", email="", error=None, demo_logins=demo_logins)
    email = (request.form.get("email") or "").strip()
    password = request.form.get("password") or ""
    address = request.remote_addr or ""
    throttle = login_throttle()
    if throttle.blocked(email, address):
        # Refused before the password is looked at: the right one too, until the window ends.
        return render_template(
            "auth/login.html", email=email,
            error=gettext("Too many failed logins. Wait a few minutes and try again."),
            demo_logins=demo_logins,
        ), 429
    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.lower())
    ).scalar_one_or_none()
    if user is None:
        # As much work as a wrong password: the answer's timing does not tell who exists.
        check_password_hash(dummy_password_hash(), password)
        accepted = False
    else:
        accepted = user.check_password(password) and bool(password)
    if not accepted:
        throttle.failed(email, address)
        # Same message whether the email or the password was wrong: no account probing.
        return render_template(
            "auth/login.html", email=email, error=gettext("Wrong email or password."),
            demo_logins=demo_logins,
        ), 401
    assert user is not None
    throttle.succeeded(email)
    lang = session.get("lang")
    session.clear()  # a fresh session at login: nothing carried over from before
    if lang:
        session["lang"] = lang
    session[SESSION_VERSION_KEY] = user.session_version
    login_user(user)
    target = safe_next(request.args.get("next") or request.form.get("next"))
    return redirect(target or home_url(), code=303)


@bp.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:
        # Every session of this user ends, including any copy of this cookie.
        user = db.session.get(User, current_user.id)
        if user is not None:
            user.session_version += 1
            db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"), code=303)


@bp.post("/companies/<company_id>/switch")
@login_required
def switch(company_id: str) -> Response:
    company = switch_company(company_id)
    flash(gettext("You are now working in {name}.", name=company.name), "info")
    return redirect(home_url(), code=303)


@bp.post("/language/<code>")
def language(code: str) -> Response:
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    back = safe_next(request.form.get("next"))
    if back is None and request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host:
            back = safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    return redirect(back or url_for("auth.index"), code=303)


__all__ = ["bp", "SESSION_KEY"]
