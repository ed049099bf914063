"""Mount the aourly_fortnox plugin: the hooks any Aourly-like host has to provide.

1. ``init_app`` with the host's ``db``, its adapter and (demo only) an in-process Redis;
2. the current company, owner and member hooks, from the host's own tenancy;
3. the host's own mapping key for payouts (``performer_costs``, BAS 4600).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, url_for
from flask_login import current_user

from aourly_fortnox import FortnoxIntegration
from aourly_fortnox.signals import connection_expired, sync_failed

from .adapter import ExampleHostAdapter
from .extensions import csrf, db
from .i18n import gettext
from .models import Membership, Role, User
from .tenancy import current_company_id

log = logging.getLogger("example_host")

fortnox = FortnoxIntegration()

HOST_STATE_KEY = "example_host"


def init_fortnox(app: Flask) -> None:
    redis: Any = None
    embedded = not app.config.get("AOURLY_FORTNOX_REDIS_URL")
    if embedded:
        import fakeredis

        # One server per app, shared by every connection of this process (web threads and
        # the embedded worker thread); a separate process (a hand-started worker) can
        # never see it, hence "demo only".
        redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        log.warning(
            "No REDIS_URL: embedded queue (demo only). Jobs run inside this process; a "
            "separately started `flask fortnox worker` needs REDIS_URL to see them."
        )
    fortnox.init_app(app, db=db, adapter=ExampleHostAdapter(), redis=redis)
    # The plugin checks its own CSRF tokens, after its login check: left to our CSRFProtect,
    # an anonymous POST to its pages would have its body parsed first.
    if "aourly_fortnox" in app.blueprints:
        csrf.exempt(app.blueprints["aourly_fortnox"])
    # Only this app's expiries: other apps in the process (tests) have their own owners.
    connection_expired.connect(_tell_the_owners, sender=app)
    sync_failed.connect(_tell_the_owners_it_failed, sender=app)
    app.extensions.setdefault(HOST_STATE_KEY, {})["embedded_redis"] = redis


def uses_embedded_queue(app: Flask) -> bool:
    return app.extensions.get(HOST_STATE_KEY, {}).get("embedded_redis") is not None


def _role(user: Any, company_id: str) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.execute(
        db.select(Membership.role).where(
            Membership.user_id == user.id, Membership.company_id == str(company_id)
        )
    ).scalar_one_or_none()


@fortnox.current_company_loader
def _current_company() -> str | None:
    if not current_user.is_authenticated:
        return None
    return current_company_id()


@fortnox.owner_check
def _is_owner(user: Any, company_id: str) -> bool:
    return _role(user, company_id) == Role.OWNER


@fortnox.member_check
def _is_member(user: Any, company_id: str) -> bool:
    return _role(user, company_id) is not None


fortnox.register_mapping_key("performer_costs", lambda: gettext("Performer costs"), 4600)


@fortnox.object_url
def _object_url(object_type: str, object_id: str) -> str | None:
    """The sync log links invoices and customers to their pages; payouts have none."""
    if not object_id.isdigit():
        return None
    if object_type == "invoice":
        return url_for("invoices.show", invoice_id=int(object_id))
    if object_type == "customer":
        return url_for("customers.edit", customer_id=int(object_id))
    return None


def _owner_emails(company_id: str) -> list[str]:
    return list(db.session.execute(
        db.select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id, Membership.role == Role.OWNER)
    ).scalars())


def _tell_the_owners_it_failed(app: Flask, company_id: str, object_type: str, object_id: str,
                               label: str | None = None, **_: Any) -> None:
    """An item newly needs the owner (the plugin sends this once per item, never per retry):
    the example host logs the e-mail it would send."""
    what = {"invoice": "An invoice", "customer": "A customer",
            "voucher": "A payout"}.get(object_type, "An item")
    for email in _owner_emails(company_id):
        log.warning(
            "E-mail to %s: %s (%s) could not be sent to Fortnox and needs you. Open "
            "Integrations, then the sync log, for the reason and the fix.",
            email, what, label or object_id,
        )


def _tell_the_owners(app: Flask, company_id: str, reason: str, **_: Any) -> None:
    """What a real host would e-mail; the example host logs the e-mail it would send."""
    # The reason is the plugin's own sentence (it may name %(product)s): set as a sentence of
    # its own, never in parentheses, so the e-mail has no ").)." in it.
    product = str(app.config.get("AOURLY_FORTNOX_PRODUCT_NAME") or "Aourly")
    sentence = reason.replace("%(product)s", product).strip()
    if sentence and sentence[-1] not in ".!?":
        sentence += "."
    for email in _owner_emails(company_id):
        log.warning(
            "E-mail to %s: Your Fortnox connection has expired. %s Open Integrations and "
            "click Reconnect; nothing is lost meanwhile.", email, sentence,
        )


@fortnox.locale_loader
def _language() -> str:
    """The plugin's pages follow the host's language switch."""
    from .i18n import current_language

    return current_language()
