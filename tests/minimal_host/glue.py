# The plugin mounted with the README's snippets and nothing else ("A host with neither
# Flask-Login nor Flask-SQLAlchemy"). test_minimal_host.py checks that every code line here is
# a line of a README snippet; a line ending in "# host: ..." is this host's own part.
from flask import Flask, session  # noqa: F401 (as the README imports it)
from flask_login import LoginManager, UserMixin
from flask_sqlalchemy import SQLAlchemy

from aourly_fortnox import FortnoxIntegration

from .data import my_role  # host: its own membership query

db = SQLAlchemy()                          # the plugin's fortnox_* tables only
fortnox = FortnoxIntegration()
login_manager = LoginManager()

class SessionUser(UserMixin):              # what your hooks receive as `user`
    def __init__(self, user_id):
        self.id = user_id

@login_manager.request_loader              # your session login, seen by Flask-Login
def user_from_session(request):
    user_id = session.get("user_id")
    return SessionUser(user_id) if user_id is not None else None

def mount_fortnox(app, adapter):           # call it in your app factory, after app.config is set
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "login"     # your login endpoint: anonymous visitors go there
    fortnox.init_app(app, db=db, adapter=adapter)

@fortnox.current_company_loader           # the company the user works in now (or None)
def current_company():
    return session.get("company_id")

@fortnox.owner_check                      # (user, company_id: str) -> bool
def is_owner(user, company_id):
    return my_role(user.id, int(company_id)) == "owner"   # your own query; the id arrives as str
