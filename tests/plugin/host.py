"""A minimal host for the plugin's tests: users, companies, roles, and the hooks.

Deliberately not the example host: these tests show what any host needs to provide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask, session
from flask_login import LoginManager, UserMixin, login_user
from flask_sqlalchemy import SQLAlchemy
from jinja2 import StrictUndefined

from aourly_fortnox import FortnoxIntegration
from aourly_fortnox.host import CustomerData, InvoiceData, VoucherData

TOKEN_KEY = Fernet.generate_key().decode()


@dataclass
class User(UserMixin):
    id: str
    roles: dict[str, str] = field(default_factory=dict)  # company -> role


USERS = {
    "owner": User("owner", {"acme": "owner", "globex": "coordinator"}),
    "coordinator": User("coordinator", {"acme": "coordinator"}),
    "performer": User("performer", {"acme": "performer"}),
    "globex-owner": User("globex-owner", {"globex": "owner"}),
    # Owns both companies: the OAuth state must still be bound to the company it was made for.
    "both-owner": User("both-owner", {"acme": "owner", "globex": "owner"}),
}


class Adapter:
    """Holds plain data per company; tests fill it."""

    def __init__(self) -> None:
        self.customers: dict[tuple[str, str], CustomerData] = {}
        self.invoices: dict[tuple[str, str], InvoiceData] = {}
        self.vouchers: dict[tuple[str, str], VoucherData] = {}

    def get_customer(self, company_id: str, customer_id: str) -> CustomerData | None:
        return self.customers.get((company_id, customer_id))

    def get_invoice(self, company_id: str, invoice_id: str) -> InvoiceData | None:
        return self.invoices.get((company_id, invoice_id))

    def get_voucher(self, company_id: str, voucher_id: str) -> VoucherData | None:
        return self.vouchers.get((company_id, voucher_id))

    def sent_invoice_ids(self, company_id: str) -> Iterable[str]:
        return [i for (c, i) in self.invoices if c == company_id]

    def voucher_ids(self, company_id: str) -> Iterable[str]:
        return [i for (c, i) in self.vouchers if c == company_id]


def create_host(
    database_url: str = "sqlite://",
    hooks: bool = True,
    **config: Any,
) -> tuple[Flask, FortnoxIntegration, SQLAlchemy]:
    app = Flask("test_host")
    app.jinja_env.undefined = StrictUndefined
    app.config.update(
        SECRET_KEY="test-secret",
        TESTING=True,
        SQLALCHEMY_DATABASE_URI=database_url,
        AOURLY_FORTNOX_TOKEN_KEYS=TOKEN_KEY,
        AOURLY_FORTNOX_CLIENT_ID="test-client",
        AOURLY_FORTNOX_CLIENT_SECRET="test-secret-value",
        AOURLY_FORTNOX_QUEUE_IS_ASYNC=False,
    )
    app.config.update(config)
    db = SQLAlchemy()
    db.init_app(app)
    login = LoginManager(app)
    login.login_view = "login"

    @login.user_loader
    def load_user(user_id: str) -> User | None:
        return USERS.get(user_id)

    @app.get("/login", endpoint="login")
    def login_page() -> str:
        return "login page"

    @app.get("/test-login/<user_id>/<company_id>")
    def test_login(user_id: str, company_id: str) -> str:
        login_user(USERS[user_id])
        session["company_id"] = company_id
        return "ok"

    fortnox = FortnoxIntegration()
    fortnox.init_app(app, db=db, adapter=Adapter())
    if hooks:

        @fortnox.current_company_loader
        def current_company() -> str | None:
            return session.get("company_id")

        @fortnox.owner_check
        def is_owner(user: User, company_id: str) -> bool:
            return user.roles.get(company_id) == "owner"

        @fortnox.member_check
        def is_member(user: User, company_id: str) -> bool:
            return company_id in user.roles

    return app, fortnox, db
