"""A minimal host, as a developer who just finished Flask's tutorial writes one: a session
login, raw sqlite3 for its own data, integer company ids, and the Fortnox plugin mounted from
the README's snippets (``glue.py``). Its own code imports neither Flask-Login nor
Flask-SQLAlchemy.

Configuration from the environment, so ``flask --app tests.minimal_host.app fortnox worker``
and the web app agree: ``MINIMAL_HOST_DIR`` (the SQLite files) and every ``AOURLY_FORTNOX_*``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, abort, redirect, request, session, url_for
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from aourly_fortnox import settings_from_environ

from . import data
from .glue import db, fortnox, mount_fortnox


def create_app() -> Flask:
    folder = Path(os.environ["MINIMAL_HOST_DIR"])
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="minimal-host-test-secret",
        DATABASE=str(folder / "host.sqlite"),              # the host's own data (sqlite3)
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'fortnox.sqlite'}",  # the plugin's tables
    )
    app.config.update(settings_from_environ(os.environ))
    app.teardown_appcontext(data.close_db)
    mount_fortnox(app, data.Adapter())
    with app.app_context():
        data.init_db()

    @app.get("/login", endpoint="login")
    def login_form() -> str:
        return ('<form method="post"><input name="username"><input name="password" '
                'type="password"><button>Log in</button></form>')

    @app.post("/login", endpoint="login_post")
    def login() -> Response:
        row = data.get_db().execute("SELECT * FROM user WHERE username = ?",
                                    (request.form.get("username", ""),)).fetchone()
        if row is None or not check_password_hash(row["password"],
                                                  request.form.get("password", "")):
            abort(401)
        first = data.get_db().execute(
            "SELECT company_id FROM membership WHERE user_id = ? ORDER BY company_id",
            (row["id"],)).fetchone()
        session.clear()
        session["user_id"] = row["id"]
        session["company_id"] = first["company_id"]  # an int: the plugin gets str(...)
        return redirect(url_for("index"))

    @app.post("/logout")
    def logout() -> Response:
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    def index() -> str | Response:
        if "user_id" not in session:
            return redirect(url_for("login"))
        link = url_for("aourly_fortnox.index")
        return f'<a href="{link}">Integrations</a>'

    @app.post("/invoices/<int:invoice_id>/send")
    def send_invoice(invoice_id: int) -> Response:
        company_id = session.get("company_id")
        if "user_id" not in session or data.my_role(session["user_id"], company_id) is None:
            abort(403)
        own = data.get_db()
        changed = own.execute("UPDATE invoice SET sent = 1 WHERE id = ? AND company_id = ?",
                              (invoice_id, company_id)).rowcount
        if not changed:
            abort(404)
        own.commit()
        fortnox.sync_invoice(company_id, invoice_id)
        db.session.commit()  # the plugin's outbox row (yours is already committed)
        return redirect(url_for("index"))

    return app
