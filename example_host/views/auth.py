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
from werkzeug.wrappers import Response

from ..extensions import db
from ..i18n import LANGUAGES, gettext
from ..models import Role, User
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
    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.lower())
    ).scalar_one_or_none()
    if user is None or not password or not user.check_password(password):
        # Same message whether the email or the password was wrong: no account probing.
        return render_template(
            "auth/login.html", email=email, error=gettext("Wrong email or password."),
            demo_logins=demo_logins,
        ), 401
    lang = session.get("lang")
    session.clear()  # a fresh session at login: nothing carried over from before
    if lang:
        session["lang"] = lang
    login_user(user)
    target = safe_next(request.args.get("next") or request.form.get("next"))
    return redirect(target or home_url(), code=303)


@bp.post("/logout")
def logout() -> Response:
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
