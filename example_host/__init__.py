"""example_host: a small Aourly-like invoicing app that mounts the aourly_fortnox plugin.

``create_app`` is found by ``flask --app example_host``; ``python -m example_host`` runs the
demo (with the Fortnox sandbox as a child process and an embedded queue without Redis).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import BuildError

from .config import build_config
from .database import configure_engine, initialise_database
from .extensions import csrf, db, login_manager
from .i18n import LANGUAGES, current_language, format_money, format_quantity, gettext

log = logging.getLogger("example_host")

LAYOUT_TEMPLATE = "layout.html"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    overrides = dict(config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or os.environ.get("EXAMPLE_HOST_INSTANCE")
    # Flask insists on an absolute instance path; a relative one means "from here".
    app = Flask(__name__, instance_path=os.path.abspath(instance_path) if instance_path else None)
    app.config.update(build_config(app.instance_path, overrides))
    # The plugin's full pages (Integrations, mapping, log) render inside our sidebar layout.
    app.config.setdefault("AOURLY_FORTNOX_BASE_TEMPLATE", LAYOUT_TEMPLATE)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})

    db.init_app(app)
    configure_engine(app)
    login_manager.init_app(app)
    from .security import init_security

    init_security(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # type: ignore[assignment]  # the login form says it all
    csrf.init_app(app)

    from .fortnox_setup import init_fortnox

    init_fortnox(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_error_pages(app)
    from .cli import demo_cli

    app.cli.add_command(demo_cli)

    initialise_database(app)
    return app


@login_manager.user_loader
def _load_user(user_id: str) -> Any:
    """The session's user, if the session is still current (not ended by a logout)."""
    from flask import session

    from .models import User
    from .security import SESSION_VERSION_KEY

    if not user_id.isdigit() or len(user_id) > 18:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or session.get(SESSION_VERSION_KEY) != user.session_version:
        return None
    return user


def _register_blueprints(app: Flask) -> None:
    from .views import auth, customers, invoices, payouts

    for module in (auth, customers, invoices, payouts):
        app.register_blueprint(module.bp)


def _integrations_url() -> str:
    try:
        return url_for("aourly_fortnox.index")
    except BuildError:  # the plugin's views are not mounted: its documented path
        return "/integrations/"


def _plugin_static_url(app: Flask, name: str) -> str | None:
    """A file the plugin ships (``htmx.min.js``, ``fortnox.css``), if it serves it."""
    blueprint = app.blueprints.get("aourly_fortnox")
    if blueprint is None or not blueprint.has_static_folder or not blueprint.static_folder:
        return None
    filename = f"aourly_fortnox/{name}"
    if os.path.isfile(os.path.join(blueprint.static_folder, filename)):
        return url_for("aourly_fortnox.static", filename=filename)
    return None


class HostContext:
    """Everything the layout needs, under one name (``host``) so it never collides with the
    variables of the plugin's templates, which render inside the same layout."""

    def __init__(self, app: Flask) -> None:
        from .models import Role
        from .tenancy import current_company, current_membership

        self.user = current_user if current_user.is_authenticated else None
        membership = current_membership() if self.user else None
        self.company = current_company() if self.user else None
        self.role = membership.role if membership else None
        self.is_owner = self.role == Role.OWNER
        self.is_manager = self.role in (Role.OWNER, Role.COORDINATOR)
        self.other_companies = (
            [m.company for m in self.user.memberships if m.company_id != membership.company_id]
            if self.user and membership else []
        )
        self.integrations_url = _integrations_url() if self.is_owner else None
        # The plugin's pages include htmx themselves; loading it twice double-binds.
        on_plugin_page = request.blueprint == "aourly_fortnox"
        self.htmx_url = None if on_plugin_page else _plugin_static_url(app, "htmx.min.js")
        self.lang = current_language()
        self.languages = LANGUAGES
        self.endpoint = request.endpoint or ""


def _register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def host_context() -> dict[str, Any]:
        return {"host": HostContext(app)}

    # A global, not a context variable: imported macros (no context) translate too.
    app.add_template_global(gettext, "_")

    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_quantity, "quantity")


def _register_error_pages(app: Flask) -> None:
    titles = {400: "Bad request", 401: "Please log in", 403: "Access denied",
              404: "Page not found", 405: "Bad request", 409: "Conflict",
              413: "Request too large"}
    messages = {413: "What was sent is larger than this site accepts. Nothing was saved."}

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        message = gettext("The form has expired or was not sent from this site. "
                          "Reload the page and try again.")
        return render_template("error.html", code=400, title=gettext("Bad request"),
                               message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if isinstance(error, SecurityError):
            # A Host outside TRUSTED_HOSTS: our layout builds URLs from that very header, so
            # it would fail again (a 500); werkzeug's plain 400 says it all.
            return error
        code = error.code or 500
        if code >= 500 or code not in titles:
            return error
        message = gettext(messages[code]) if code in messages else None
        return render_template("error.html", code=code, title=gettext(titles[code]),
                               message=message), code
