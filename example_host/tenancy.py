"""The current company (tenant) and who may do what in it.

The current company lives in the session, but is re-checked against the user's memberships
on every request: a removed membership, or a cookie from another user, never grants access.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g, session
from flask_login import current_user, login_required

from .extensions import db
from .models import Company, Membership, Role, User

F = TypeVar("F", bound=Callable[..., Any])

SESSION_KEY = "company_id"


def current_membership() -> Membership | None:
    """The user's membership in the session's company (default: their first one)."""
    if "host_membership" in g:
        return cast(Membership | None, g.host_membership)
    membership: Membership | None = None
    if current_user.is_authenticated:
        user = cast(User, current_user._get_current_object())  # type: ignore[attr-defined]
        wanted = session.get(SESSION_KEY)
        memberships = list(user.memberships)
        membership = next((m for m in memberships if m.company_id == wanted), None)
        if membership is None and memberships:
            membership = memberships[0]
            session[SESSION_KEY] = membership.company_id
    g.host_membership = membership
    return membership


def current_company() -> Company | None:
    membership = current_membership()
    return membership.company if membership else None


def current_company_id() -> str | None:
    membership = current_membership()
    return membership.company_id if membership else None


def current_role() -> Role | None:
    membership = current_membership()
    return Role(membership.role) if membership else None


def switch_company(company_id: str) -> Company:
    """Make ``company_id`` current; 404 unless the user belongs to it (no existence leak)."""
    membership = db.session.execute(
        db.select(Membership).where(
            Membership.user_id == current_user.id, Membership.company_id == company_id
        )
    ).scalar_one_or_none()
    if membership is None:
        abort(404)
    session[SESSION_KEY] = company_id
    g.pop("host_membership", None)
    return membership.company


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Logged in, member of a company, and one of ``roles`` in it (else 403)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            role = current_role()
            if role is None or role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, login_required(wrapper))

    return decorator


#: Who runs the company's day-to-day: customers, invoices, recording payouts.
MANAGERS = (Role.OWNER, Role.COORDINATOR)
EVERYONE = (Role.OWNER, Role.COORDINATOR, Role.PERFORMER)
